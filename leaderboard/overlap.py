"""Marks that would cover each other on a scatter plot (two runs at the same steps and nearly the same NA, e.g.
teacher@4 and VDOT@4): grouped, set side by side around their true position, and labelled.

Pure geometry on pixel positions, so it is tested without drawing.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Placed:
    """Where a mark is drawn (x, y) for a true position (x0, y0); `group` numbers the cluster (−1: alone)."""

    x: float
    y: float
    x0: float
    y0: float
    group: int


def clusters(points: list[tuple[float, float]], radius: float) -> list[list[int]]:
    """Indices of points whose marks (circles of `radius`) would overlap, grouped transitively; in input order."""
    parent = list(range(len(points)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (xi, yi) in enumerate(points):
        for j in range(i):
            xj, yj = points[j]
            if (xi - xj) ** 2 + (yi - yj) ** 2 < (2 * radius) ** 2:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(points)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def spread(points: list[tuple[float, float]], radius: float, gap: float = 2.0) -> list[Placed]:
    """Each cluster of ≥ 2 marks laid out in a row centred on the cluster's mean position, 2·radius + gap apart;
    lone marks stay where they are."""
    out: list[Placed | None] = [None] * len(points)
    n_group = 0
    for members in clusters(points, radius):
        if len(members) == 1:
            i = members[0]
            out[i] = Placed(points[i][0], points[i][1], points[i][0], points[i][1], -1)
            continue
        cx = sum(points[i][0] for i in members) / len(members)
        cy = sum(points[i][1] for i in members) / len(members)
        step = 2 * radius + gap
        for k, i in enumerate(members):
            x = cx + (k - (len(members) - 1) / 2) * step
            out[i] = Placed(x, cy, points[i][0], points[i][1], n_group)
        n_group += 1
    return [p for p in out if p is not None]
