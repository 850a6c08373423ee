"""Small pure parts of the leaderboard: axis ticks, slugs and labels, Markdown escaping, SVG escaping."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from leaderboard.export import md_escape
from leaderboard.labels import file_name, model_slug
from leaderboard.svg import Scale, Svg, linear_ticks, log_ticks, nice_range


def test_nice_range_and_ticks() -> None:
    lo, hi, step = nice_range(66.6, 73.9, 5)
    assert (lo, hi, step) == (66.0, 74.0, 2.0)
    assert linear_ticks(lo, hi, step) == [66.0, 68.0, 70.0, 72.0, 74.0]
    assert log_ticks(1.25, 160.0) == [2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    assert nice_range(5.0, 5.0)[:2] == (4.0, 6.0)  # a single value still gets an axis


def test_log_scale_maps_decades_evenly() -> None:
    s = Scale(1.0, 100.0, 0.0, 200.0, log=True)
    assert (s(1.0), s(10.0), s(100.0)) == (0.0, 100.0, 200.0)


def test_slugs_are_safe_and_distinct() -> None:
    for name in ("../../etc/passwd", "<script>", "a/b", "VDOT", "vdot", ""):
        slug = model_slug(name)
        assert all(c.isalnum() or c == "-" for c in slug) and slug == slug.lower()
    assert model_slug("VDOT") != model_slug("vdot")  # distinct on case-insensitive file systems too
    assert file_name("reference+depth") == "reference+depth"
    assert file_name("../x") != "../x" and "/" not in file_name("../x")


def test_markdown_escape() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("<b>[x](y)</b>") == "&lt;b&gt;\\[x\\](y)&lt;/b&gt;"
    assert md_escape("two\nlines") == "two lines"


def test_svg_text_and_attributes_are_escaped() -> None:
    svg = Svg(100, 50, 'title "<x>"')
    svg.text(1.0, 2.0, "</text><script>alert(1)</script>")
    svg.rect(0.0, 0.0, 5.0, 5.0, "#000", tooltip="a & b")
    root = ET.fromstring(svg.render())
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}text").text == "</text><script>alert(1)</script>"
    assert root.find(f"{ns}script") is None
    assert root.find(f"{ns}title").text == 'title "<x>"'
