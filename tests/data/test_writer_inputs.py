"""discover_inputs: files, folders, globs, list files; sorted, de-duplicated, stable dot-free source ids."""
from __future__ import annotations

import shutil

import pytest

from uvc_data.errors import BadInputError
from uvc_data.writer import discover_inputs
from uvc_data.writer.inputs import sanitise


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "videos"
    _touch(root / "b.mp4", b"bb")
    _touch(root / "sub" / "a.MOV", b"a")
    _touch(root / "sub" / "deeper" / "c.v1.final.mkv", b"ccc")
    _touch(root / "notes.txt", b"not a list of videos? it is only read when named")
    _touch(root / "sub" / "thumb.jpg")
    _touch(root / ".hidden" / "x.mp4")
    return root


def test_folder_is_recursive_filtered_sorted_and_indexed(tree):
    found = discover_inputs([str(tree)])
    names = [v.path.removeprefix(str(tree) + "/") for v in found]
    assert names == ["b.mp4", "sub/a.MOV", "sub/deeper/c.v1.final.mkv"]
    assert [v.index for v in found] == [0, 1, 2]
    for v in found:
        assert "." not in v.source_id and v.source_id.split("-")[-1].isalnum()
    assert found[2].source_id.startswith("c_v1_final-")


def test_glob_list_file_and_duplicates(tree, tmp_path):
    lst = tmp_path / "inputs.lst"
    lst.write_text(f"# my inputs\n\n{tree}/b.mp4\n../{tmp_path.name}/videos/sub/a.MOV\n")
    by_list = discover_inputs([f"@{lst}"])
    by_lst_suffix = discover_inputs([str(lst)])
    by_glob = discover_inputs([str(tree / "**" / "*.m*"), str(tree / "b.mp4")])  # b.mp4 twice: kept once
    assert [v.path for v in by_list] == [v.path for v in by_lst_suffix]
    assert len(by_list) == 2
    # globs are case-sensitive (a.MOV is not *.m*); hidden folders are not searched
    assert [v.path for v in by_glob] == [str(tree / "b.mp4"), str(tree / "sub/deeper/c.v1.final.mkv")]


def test_source_id_is_stable_when_the_tree_moves_and_changes_with_size(tree, tmp_path):
    before = discover_inputs([str(tree)])
    moved = shutil.move(str(tree), str(tmp_path / "elsewhere"))
    after = discover_inputs([moved])
    assert [v.source_id for v in before] == [v.source_id for v in after]
    _touch(tmp_path / "elsewhere" / "b.mp4", b"changed size")
    assert discover_inputs([moved])[0].source_id != before[0].source_id


def test_same_stem_in_two_folders_gets_two_ids(tmp_path):
    a = _touch(tmp_path / "x" / "clip.mp4")
    b = _touch(tmp_path / "y" / "clip.mp4")
    ids = {v.source_id for v in discover_inputs([str(a), str(b)])}
    assert len(ids) == 2


def test_explicit_file_of_any_extension_is_taken(tmp_path):
    spec = _touch(tmp_path / "spec.json")
    assert [v.path for v in discover_inputs([str(spec)])] == [str(spec)]


@pytest.mark.parametrize("item, words", [
    ("missing.mp4", "does not exist"),
    ("nomatch*.mp4", "matches no files"),
    ("@nolist.txt", "list file"),
])
def test_bad_items_name_the_problem(tmp_path, item, words):
    with pytest.raises(BadInputError, match=words):
        discover_inputs([str(tmp_path / item) if not item.startswith("@") else f"@{tmp_path}/{item[1:]}"])


def test_folder_without_videos_and_empty_list(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="holds no videos"):
        discover_inputs([str(tmp_path / "empty")])
    with pytest.raises(BadInputError, match="no inputs"):
        discover_inputs([])


def test_sanitise():
    assert sanitise("my clip.v2 (final)") == "my_clip_v2__final"
    assert sanitise("...") == "input"
