import pytest

from uvc_data.errors import ConfigError, UnknownNameError
from uvc_data.tasks import Family, TaskDef, all_tasks, bench_tasks, get_task, register, route_official_subtask

SINGLE = ["depth", "pose", "flow", "scribble", "gray", "outpainting", "extension", "r2v"]


def test_uvcbench_has_eighteen_tasks_eight_single_ten_compound():
    bench = bench_tasks()
    assert len(bench) == 18
    assert sorted(t.name for t in bench if not t.compound) == sorted(SINGLE)
    compound = sorted(t.name for t in bench if t.compound)
    assert compound == sorted([f"{p}+{c}" for p in ("reference", "firstframe") for c in ("depth", "pose", "flow", "scribble", "gray")])
    assert get_task("t2v").bench is False


@pytest.mark.parametrize("alias,name", [("Grey", "gray"), ("grey", "gray"), ("R2v", "r2v"), ("firstframe", "extension"),
                                        ("extension+depth", "firstframe+depth"), ("reference+grey", "reference+gray"),
                                        ("T2V", "t2v"), ("reference_pose", "reference+pose")])
def test_official_spellings_resolve(alias, name):
    assert get_task(alias).name == name


def test_unknown_task_suggests():
    with pytest.raises(UnknownNameError, match="Did you mean 'depth'"):
        get_task("deptth")


def test_needs_follow_the_definition():
    assert get_task("reference+flow").needs == ("flow", "ref_images")
    assert get_task("outpainting").needs == ("outpaint_mask",)
    assert get_task("extension").needs == ()
    assert get_task("firstframe+pose").needs == ("pose",)


def test_bad_definitions_are_rejected():
    with pytest.raises(ConfigError, match="control"):
        TaskDef("x", Family.V2V, "x", control="normals")
    with pytest.raises(ConfigError, match="registered twice"):
        register(TaskDef("depth", Family.V2V, "again", control="depth"))


def test_official_routing():
    assert route_official_subtask("R2v") == "ref_only"
    assert route_official_subtask("reference+depth") == "video_and_ref"
    assert route_official_subtask("firstframe+pose") == "video_and_mask"
    assert route_official_subtask("outpainting") == "video_and_mask"
    assert route_official_subtask("T2V") == "text_only"
    assert route_official_subtask("depth") == "video_only"
    # our definitions agree with the routing for every bench task
    for t in bench_tasks():
        route = route_official_subtask(t.name if t.name != "r2v" else "R2v")
        assert (route in ("ref_only", "video_and_ref")) == t.references, t.name
