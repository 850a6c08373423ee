"""A small, deterministic SVG writer: scales, "nice" ticks, and escaped elements.

Every text and attribute value goes through `esc`; every coordinate is written with two decimals, so the same inputs
give byte-identical files. No fonts are embedded: text is SVG <text>, drawn by the browser.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
CHAR_W = 0.58  # mean glyph width in em of FONT, for laying out legends (an estimate; labels are also clipped)


def esc(text: object) -> str:
    """XML/HTML-escape text and attribute values (&, <, >, " and ')."""
    return html.escape(str(text), quote=True)


def num(x: float) -> str:
    """A coordinate: two decimals, no "-0.00"."""
    s = f"{x:.2f}"
    return "0.00" if s == "-0.00" else s


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_W


def nice_step(span: float, target: int) -> float:
    """The 1-2-5 step closest to span/target (the usual axis-tick rule)."""
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


def nice_range(lo: float, hi: float, target: int = 5) -> tuple[float, float, float]:
    """(lo', hi', step): [lo, hi] widened outwards to whole 1-2-5 steps."""
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    step = nice_step(hi - lo, target)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def linear_ticks(lo: float, hi: float, step: float) -> list[float]:
    n = int(round((hi - lo) / step))
    return [round(lo + i * step, 10) for i in range(n + 1)]


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks per decade inside [lo, hi] (lo > 0)."""
    out = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** k
            if lo <= v * (1 + 1e-9) and v <= hi * (1 + 1e-9):
                out.append(v)
    return out


def tick_text(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.1e}"


@dataclass(frozen=True)
class Scale:
    """Maps a domain [d0, d1] to pixels [r0, r1], linearly or on log10."""

    d0: float
    d1: float
    r0: float
    r1: float
    log: bool = False

    def __call__(self, v: float) -> float:
        f = (lambda x: math.log10(x)) if self.log else (lambda x: x)
        a, b = f(self.d0), f(self.d1)
        return self.r0 + (f(v) - a) / (b - a) * (self.r1 - self.r0)


@dataclass
class Svg:
    """Collects elements; `render` wraps them in a sized <svg> with a title (for screen readers and tooltips)."""

    width: float
    height: float
    title: str
    parts: list[str] = field(default_factory=list)

    def add(self, tag: str, attrs: dict[str, object], body: str = "") -> None:
        a = " ".join(f'{k.replace("_", "-")}="{num(v) if isinstance(v, float) else esc(v)}"' for k, v in attrs.items())
        self.parts.append(f"<{tag} {a}>{body}</{tag}>" if body else f"<{tag} {a}/>")

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = "#888", width: float = 1.0) -> None:
        self.add("line", {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "stroke": stroke, "stroke_width": width})

    def text(self, x: float, y: float, text: str, size: float = 12.0, anchor: str = "start", fill: str = "#222",
             rotate: float | None = None, weight: str = "normal") -> None:
        attrs: dict[str, object] = {"x": x, "y": y, "font_size": size, "text_anchor": anchor, "fill": fill}
        if weight != "normal":
            attrs["font_weight"] = weight
        if rotate is not None:
            attrs["transform"] = f"rotate({num(rotate)} {num(x)} {num(y)})"
        self.add("text", attrs, esc(text))

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tooltip: str = "", hollow: bool = False) -> None:
        """hollow: white fill, coloured outline (a mark that is not comparable with the filled ones)."""
        body = f"<title>{esc(tooltip)}</title>" if tooltip else ""
        paint = {"fill": "#fff", "stroke": fill, "stroke_width": 1.5} if hollow else {"fill": fill}
        self.add("rect", {"x": x, "y": y, "width": max(w, 0.0), "height": max(h, 0.0), **paint}, body)

    def circle(self, x: float, y: float, r: float, fill: str, tooltip: str = "", hollow: bool = False) -> None:
        body = f"<title>{esc(tooltip)}</title>" if tooltip else ""
        paint = {"fill": "#fff", "stroke": fill, "stroke_width": 2.0} if hollow else \
            {"fill": fill, "stroke": "#fff", "stroke_width": 1.0}
        self.add("circle", {"cx": x, "cy": y, "r": r, **paint}, body)

    def polyline(self, points: list[tuple[float, float]], stroke: str, width: float = 1.5) -> None:
        pts = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        self.add("polyline", {"points": pts, "fill": "none", "stroke": stroke, "stroke_width": width})

    def render(self, css_class: str = "plot") -> str:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="{esc(css_class)}" role="img" '
                f'width="{num(self.width)}" height="{num(self.height)}" '
                f'viewBox="0 0 {num(self.width)} {num(self.height)}" font-family="{esc(FONT)}">')
        bg = f'<rect x="0" y="0" width="{num(self.width)}" height="{num(self.height)}" fill="#fff"/>'
        return "\n".join([head, f"<title>{esc(self.title)}</title>", bg, *self.parts, "</svg>"]) + "\n"
