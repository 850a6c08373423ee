"""The leaderboard end to end without a browser: intake and validation, tables and backends, escaping, exports,
plots, determinism, the CLI."""
from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from leaderboard.adapter import entry_from_dict
from leaderboard.html_page import script_json
from leaderboard.inputs import load
from leaderboard.site import MANIFEST, SiteConfig, build, render_site
from leaderboard.tables import build_tables
from tests.leaderboard.conftest import HOSTILE, TASKS
from tests.leaderboard.factory import make_results, write_results
from uvc_cli.main import main as uvc_main
from uvc_data.errors import BadInputError, ConfigError


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class _Collect(HTMLParser):
    """Every start tag with its attributes, and the text of <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


# ---------------------------------------------------------------------------------------------------- intake


def test_invalid_files_are_skipped_with_file_and_problem(results_dir: Path) -> None:
    loaded = load([str(results_dir)])
    assert len(loaded.entries) == 4
    assert [Path(p).name for p, _ in loaded.skipped] == ["broken.json"]
    why = loaded.skipped[0][1]
    assert "results.model" in why and "missing" in why  # the validator's own words, naming the field
    assert [Path(p).name for p in loaded.ignored] == ["vbench_eval_results.json"]  # no schema_version: passed over


def test_explicit_non_results_file_and_missing_path_are_reported(results_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "notjson.json").write_text("{not json")
    loaded = load([str(results_dir / "vbench_eval_results.json"), str(tmp_path / "notjson.json"),
                   str(tmp_path / "nope.json"), str(tmp_path / "*.nomatch")])
    reasons = dict(loaded.skipped)
    assert "schema_version" in reasons[str(results_dir / "vbench_eval_results.json")]
    assert "not a JSON file" in reasons[str(tmp_path / "notjson.json")]
    assert "no such file" in reasons[str(tmp_path / "nope.json")]
    assert "matches no file" in reasons[str(tmp_path / "*.nomatch")]
    assert loaded.entries == []


def test_globs_and_duplicates(results_dir: Path) -> None:
    loaded = load([str(results_dir / "*" / "results.json"), str(results_dir / "vdot4" / "results.json")])
    assert len(loaded.entries) == 4 and not loaded.skipped


def test_a_file_whose_numbers_do_not_recompute_is_rejected(tmp_path: Path) -> None:
    data = make_results().to_dict()
    data["tasks"]["depth"]["na"] += 5.0  # tampered: NA no longer matches its dimensions
    p = tmp_path / "tampered.json"
    p.write_text(json.dumps(data))
    loaded = load([str(p)])
    assert loaded.entries == [] and "results.tasks.depth.na" in loaded.skipped[0][1]


def test_adapter_reads_the_schema() -> None:
    res = make_results("VDOT", 4, 14.0, {"depth": 0.02, "reference+pose": 0.01},
                       fidelity={"depth": {"kept_psnr": 30.0}})
    e = entry_from_dict(res.to_dict(), "x.json")
    assert (e.model, e.nfe, e.seconds_per_video, e.na_convention) == ("VDOT", 4, 14.0, "vace")
    assert e.na == pytest.approx(res.overall.na)
    assert set(e.tasks) == {"depth", "reference+pose"}
    assert e.tasks["depth"].na == pytest.approx(res.tasks["depth"].na)
    assert e.tasks["depth"].fidelity == {"kept_psnr": 30.0}
    assert e.dimensions["dynamic_degree"].backend == "raft"
    assert e.settings["steps"] == 4 and e.settings["scheduler"] == "unipc"
    assert e.details["Suite"]["hash"] == "a" * 64


# ---------------------------------------------------------------------------------------------------- tables


def _entries(results_dir: Path):
    return load([str(results_dir)]).entries


def test_backends_never_share_a_column(results_dir: Path) -> None:
    overall = build_tables(_entries(results_dir))[0]
    keys = [c.key for c in overall.columns]
    assert "dynamic_degree [raft]" in keys and "dynamic_degree [dis_flow_offline]" in keys
    na_keys = [k for k in keys if k.startswith("NA [")]
    assert len(na_keys) == 2 and any("dis_flow_offline" in k for k in na_keys)
    i_raft, i_dis = keys.index("dynamic_degree [raft]"), keys.index("dynamic_degree [dis_flow_offline]")
    for row in overall.rows:
        hostile = row[0].text == HOSTILE
        assert (row[i_dis].value is None) != hostile and (row[i_raft].value is None) == hostile
    # the note names what differs between the two NA columns
    assert any("dynamic_degree=dis_flow_offline" in n for n in overall.notes)


def test_tables_rank_and_label_runs(results_dir: Path) -> None:
    tables = build_tables(_entries(results_dir))
    overall = tables[0]
    labels = [r[0].text for r in overall.rows]
    # main NA column first, best first; the run from other backends after; runs of one model told apart by steps
    assert labels == ["VDOT (steps=8)", "VDOT (steps=4)", "VACE-Wan-14B", HOSTILE]
    assert [t.key for t in tables[2:]] == list(TASKS)  # the paper's task order
    flow = next(t for t in tables if t.key == "flow")
    assert "fidelity: flow_epe" in [c.key for c in flow.columns]
    assert next(c for c in flow.columns if c.key == "fidelity: flow_epe").better == "lower"
    depth = next(t for t in tables if t.key == "depth")
    assert len(depth.rows) == 4 and "cases" in [c.key for c in depth.columns]
    assert "fidelity: kept_psnr [mean of 2 tasks]" in [c.key for c in overall.columns]
    nfe = [c.key for c in overall.columns].index("nfe")
    assert [r[nfe].value for r in overall.rows] == [8, 4, 100, 2]


# ---------------------------------------------------------------------------------------------------- the site


def test_site_files_and_hostile_strings_are_escaped(results_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    report = build([str(results_dir)], out)
    assert report.entries == 4 and len(report.skipped) == 1
    files = _tree(out)
    for f in ("index.html", "assets/sort.js", "assets/style.css", "plots/na_by_task.svg", "plots/na_vs_steps.svg",
              "plots/na_vs_time.svg", "leaderboard.md", "tables/overall.csv", "tables/na_by_task.csv",
              "tables/task-depth.csv", MANIFEST):
        assert f in files, f
    assert len([f for f in files if f.startswith("models/")]) == 3
    for name, data in files.items():
        text = data.decode("utf-8")
        if name.endswith((".html", ".svg")):
            assert "<script>alert" not in text, name  # never raw
            assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', ""), name
            assert "https://" not in text, name  # nothing fetched from the internet
    index = files["index.html"].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &#x27;a&#x27;" in index
    # attribute values: the hostile name appears only escaped inside title="..." / data-v="..."
    parser = _Collect()
    parser.feed(index)
    tds = [a for t, a in parser.tags if t == "td" and a.get("data-v") == HOSTILE]
    assert tds and all(a.get("title") == HOSTILE for a in tds)  # parsed back intact: escaped, not broken out
    assert [t for t, _ in parser.tags].count("script") == 2  # sort.js + the JSON block, no injected ones
    data = json.loads(parser.scripts[-1])
    assert data["tables"][0]["rows"][-1][0] == HOSTILE  # JSON round-trips through the \u-escaped block
    assert "</script><!--" not in parser.scripts[-1]
    model_pages = [v.decode() for k, v in files.items() if k.startswith("models/")]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in p for p in model_pages)


def test_script_json_cannot_close_its_tag() -> None:
    text = script_json({"a": "</script><script>alert(1)</script><!-- \u2028 &"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><script>alert(1)</script><!-- \u2028 &"}


def test_rebuild_is_byte_identical_and_input_order_free(results_dir: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    build([str(results_dir)], a)
    specs = sorted((str(p) for p in results_dir.rglob("results.json")), reverse=True)
    build(specs, b)
    # same files but the skipped report differs (b names no invalid file): compare everything else
    ta, tb = _tree(a), _tree(b)
    assert set(ta) == set(tb)
    for k in ta:
        if k != "index.html":
            assert ta[k] == tb[k], k
    build([str(results_dir)], a)  # rebuild into the same folder
    assert _tree(a) == ta


def test_generated_note_is_the_only_time_dependent_text(results_dir: Path) -> None:
    entries = _entries(results_dir)
    plain = render_site(entries, SiteConfig())
    dated = render_site(entries, SiteConfig(generated="2025-06-01"))
    assert not any(re.search(r"20\d\d-\d\d-\d\d", t) for t in plain.values())
    assert "2025-06-01" in dated["index.html"] and "2025-06-01" in dated["leaderboard.md"]


def test_rebuild_removes_stale_files_and_refuses_foreign_folders(results_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build([str(results_dir)], out)
    assert len(list((out / "models").iterdir())) == 3
    build([str(results_dir / "vdot4" / "results.json")], out)
    assert len(list((out / "models").iterdir())) == 1
    assert not (out / "tables" / "task-depth.csv").exists() or "VDOT" in (out / "tables" / "task-depth.csv").read_text()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="--out"):
        build([str(results_dir)], foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_no_valid_input_is_an_error_naming_the_files(results_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="broken.json"):
        build([str(results_dir / "broken.json")], tmp_path / "site")
    with pytest.raises(BadInputError, match="strict"):
        build([str(results_dir)], tmp_path / "site2", SiteConfig(strict=True))
    assert not (tmp_path / "site").exists()


# ---------------------------------------------------------------------------------------------------- exports


def test_csv_export_matches_the_table(results_dir: Path, tmp_path: Path) -> None:
    entries = _entries(results_dir)
    files = render_site(entries, SiteConfig())
    overall = build_tables(entries)[0]
    rows = list(csv.reader(io.StringIO(files["tables/overall.csv"])))
    assert rows[0] == [c.key for c in overall.columns]
    assert [r[0] for r in rows[1:]] == [r[0].text for r in overall.rows]
    na = rows[0].index(overall.columns[1].key)
    assert float(rows[1][na]) == pytest.approx(overall.rows[0][1].value, abs=1e-4)
    assert rows[-1][na] == ""  # the run from other backends has no value in the main NA column


def test_csv_neutralises_formulas(tmp_path: Path) -> None:
    p = write_results(tmp_path / "r.json", make_results("=HYPERLINK(\"http://x\")", 4, 1.0, {"depth": 0.0}))
    files = render_site(load([str(p)]).entries, SiteConfig())
    row = list(csv.reader(io.StringIO(files["tables/overall.csv"])))[1]
    assert row[0] == "'=HYPERLINK(\"http://x\")"


def test_markdown_export_is_escaped_and_complete(results_dir: Path) -> None:
    md = render_site(_entries(results_dir), SiteConfig())["leaderboard.md"]
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "## Overall" in md and "## NA by task" in md and "## Task: depth" in md
    table_lines = [line for line in md.splitlines() if line.startswith("| ")]
    # every row of a table has as many unescaped cell separators as its header
    for line in table_lines:
        assert len(re.findall(r"(?<!\\)\|", line)) in {len(re.findall(r"(?<!\\)\|", x)) for x in table_lines}
    assert "dynamic degree (% · dis\\_flow\\_offline)" in md


# ---------------------------------------------------------------------------------------------------- plots


def test_plots_are_valid_svg_with_one_mark_per_value(results_dir: Path) -> None:
    import xml.etree.ElementTree as ET

    files = render_site(_entries(results_dir), SiteConfig())
    ns = "{http://www.w3.org/2000/svg}"
    bars = ET.fromstring(files["plots/na_by_task.svg"])
    titles = [t.text for t in bars.iter(f"{ns}title")]
    # 3 runs × 8 tasks + the hostile run's 2 tasks, each bar with its tooltip
    assert sum(1 for t in titles if t and " — " in t and ": NA " in t) == 3 * 8 + 2
    assert any(t and t.startswith(HOSTILE) and "not comparable" in t for t in titles)
    steps = ET.fromstring(files["plots/na_vs_steps.svg"])
    assert len(list(steps.iter(f"{ns}circle"))) == 4
    assert len(list(steps.iter(f"{ns}polyline"))) == 1  # VDOT's two runs joined; others alone
    ET.fromstring(files["plots/na_vs_time.svg"])


def test_plot_without_costs_says_so(tmp_path: Path) -> None:
    p = write_results(tmp_path / "r.json", make_results("NoTiming", None, None, {"depth": 0.0}))
    files = render_site(load([str(p)]).entries, SiteConfig())
    assert "no run reports both NA and steps (NFE)" in files["plots/na_vs_steps.svg"]
    assert "no run reports both NA and seconds per video" in files["plots/na_vs_time.svg"]


# ---------------------------------------------------------------------------------------------------- CLI


def test_cli_build(results_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "site"
    assert uvc_main(["leaderboard", "build", str(results_dir), "--out", str(out), "--title", "T<1>"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "wrote" in captured.err and "4 run(s)" in captured.err  # a log: stderr
    assert "skipped" in captured.err and "broken.json" in captured.err
    assert "<title>T&lt;1&gt;</title>" in (out / "index.html").read_text()
    assert uvc_main(["leaderboard", "build", str(results_dir / "broken.json"), "--out", str(tmp_path / "x")]) == 1
