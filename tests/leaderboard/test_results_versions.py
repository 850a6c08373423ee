"""The leaderboard reads older results files (schema 1) and never ranks them with schema 2 runs; the model page shows
each run's provenance."""
from __future__ import annotations

from leaderboard.adapter import entry_from_dict
from leaderboard.site import SiteConfig, render_site
from leaderboard.tables import build_tables
from tests.leaderboard.factory import make_results
from uvc_bench.results import SCHEMA_V1, Provenance, VideoInfo


def _as_v1(data: dict) -> dict:
    """A schema 2 dict as schema 1 wrote it (no preset, case reading, NA cover, video info or provenance)."""
    data = dict(data, schema_version=SCHEMA_V1)
    for k in ("provenance", "upgraded_from"):
        data.pop(k)
    data["model"] = {k: v for k, v in data["model"].items() if k != "preset"}
    data["generation"] = {k: data["generation"][k] for k in ("seed", "height", "width", "num_frames", "fps")}
    data["cases"] = [{k: v for k, v in c.items() if k != "video"} for c in data["cases"]]
    strip = ("na_backends", "na_num_dimensions")
    data["tasks"] = {k: {f: v for f, v in t.items() if f not in strip} for k, t in data["tasks"].items()}
    data["overall"] = {f: v for f, v in data["overall"].items() if f not in strip}
    return data


def test_schema_1_file_is_read_and_kept_apart():
    new = make_results("VDOT", convention="vbench")
    old = make_results("VDOT-old", convention="vbench")
    e_new = entry_from_dict(new.to_dict(), "new/results.json")
    e_old = entry_from_dict(_as_v1(old.to_dict()), "old/results.json")
    assert e_old.case_reading == "first_frames_resized" and e_old.na == old.overall.na
    overall = build_tables(sorted([e_new, e_old], key=lambda e: e.sort_key))[0]
    na_cols = [c for c in overall.columns if c.key.startswith("NA [")]
    assert len(na_cols) == 2 and any("cases first_frames_resized" in c.key for c in na_cols)
    assert any("cases first_frames_resized" in n for n in overall.notes)
    assert "read from" not in e_new.details["Provenance"] and "not comparable" in e_old.details["Provenance"]["read from"]


def test_model_page_shows_provenance():
    r = make_results("VDOT", convention="vbench")
    r.provenance = Provenance(toolkit_version="1.2.3", git_commit="abc123", command=["uvc", "bench", "score"],
                              versions={"torch": "2.5.0", "ffmpeg": "7.1"}, device="cuda", dtype="float16",
                              batch_size=16, weights={"musiq/musiq_spaq_ckpt-358bb6af.pth": "f" * 64})
    r.cases[0].video = VideoInfo("e" * 64, 81, 480, 832, 16.0)
    e = entry_from_dict(r.to_dict(), "r/results.json")
    prov = e.details["Provenance"]
    assert prov["git commit"] == "abc123" and prov["command"] == "uvc bench score"
    assert prov["version: torch"] == "2.5.0" and prov["scoring dtype"] == "float16"
    assert prov["weights sha256: musiq/musiq_spaq_ckpt-358bb6af.pth"] == "f" * 64
    assert prov["scored videos sha256"].endswith("(1 videos)")
    assert "NA covers" in e.details["Metrics"] and e.details["Metrics"]["NA covers"].startswith("6 of 6")
    pages = render_site([e], SiteConfig(title="t"))
    page = next(v for k, v in pages.items() if k.startswith("models/"))
    assert "abc123" in page and "f" * 64 in page
