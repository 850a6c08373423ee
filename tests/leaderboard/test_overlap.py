"""Coinciding scatter marks: grouped, laid side by side around their true position, each labelled."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from leaderboard.inputs import load
from leaderboard.overlap import clusters, spread
from leaderboard.site import SiteConfig, render_site
from tests.leaderboard.factory import make_results, write_results

NS = "{http://www.w3.org/2000/svg}"


def test_clusters_are_transitive_and_in_input_order() -> None:
    pts = [(0.0, 0.0), (100.0, 0.0), (8.0, 0.0), (16.0, 0.0)]  # 0–2–3 chain within 2r = 12; 1 alone
    assert clusters(pts, 6.0) == [[0, 2, 3], [1]]


def test_spread_sets_a_cluster_side_by_side_around_its_centre() -> None:
    placed = spread([(50.0, 20.0), (50.0, 20.0), (300.0, 40.0)], 6.0, gap=2.0)
    a, b, lone = placed
    assert (a.x, b.x) == (pytest.approx(43.0), pytest.approx(57.0)) and a.y == b.y == 20.0
    assert abs(a.x - b.x) >= 12.0 and (a.x0, a.y0) == (50.0, 20.0) and a.group == b.group == 0
    assert (lone.x, lone.y, lone.group) == (300.0, 40.0, -1)


def test_teacher_and_vdot_at_four_steps_both_visible_and_labelled(tmp_path: Path) -> None:
    tasks = {"depth": 0.01, "pose": 0.02}
    for name, steps in (("teacher_4", 4), ("vdot_4", 4), ("teacher_8", 8)):
        write_results(tmp_path / name / "results.json", make_results(name, steps, 3.0, tasks))
    files = render_site(load([str(tmp_path)]).entries, SiteConfig())
    svg = ET.fromstring(files["plots/na_vs_steps.svg"])
    circles = [(float(c.get("cx")), float(c.get("cy")), c.find(f"{NS}title").text) for c in svg.iter(f"{NS}circle")]
    assert len(circles) == 3
    four = sorted((x, y) for x, y, t in circles if "at 4 steps" in t)
    assert len(four) == 2 and four[1][0] - four[0][0] >= 12.0 and four[0][1] == four[1][1]  # not covering
    texts = [t.text for t in svg.iter(f"{NS}text")]
    legend_and_labels = [t for t in texts if t in ("teacher_4", "vdot_4")]
    assert sorted(legend_and_labels) == ["teacher_4", "teacher_4", "vdot_4", "vdot_4"]  # legend + direct label
    assert "teacher_8" in texts and texts.count("teacher_8") == 1  # alone: legend only
