"""Table and picture of the token-cloud OTD experiment (otd_toy.py)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from vdot_train.experiments.token_clouds import TokenCloudMixture

COLS = ("modes_covered", "near_mode", "mode_tv", "set_rms", "ordered_rms")


def _key(r: dict) -> tuple[str, float | None]:
    return r["method"], (r["eps_rel"] if r["method"] != "dmd" else None)  # DMD does not depend on ε


def table(rows: list[dict], ref: dict, spacing_sq: float, sharpness: dict) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[_key(r)].append(r)
    out = ["| method | ε/δ² (ε) | plan sharpness | modes covered (of 4) | near a mode | mode imbalance (TV) | set RMS | "
           "ordered RMS | grad/elem w·DMD | grad/elem w·OTD | seeds |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (m, e), rs in groups.items():
        cells = []
        for c in COLS:
            v = np.array([r[c] for r in rs])
            cells.append(f"{v.mean():.2f} ± {v.std():.2f}" if c == "modes_covered" else f"{v.mean():.3f} ± {v.std():.3f}")
        gd = np.median([r["grad_dmd"] for r in rs])
        go = np.median([r["grad_otd"] for r in rs])
        eps = "—" if e is None else f"{e:g} ({e * spacing_sq:.2g})"
        sharp = "—" if e is None else f"{sharpness.get(e, sharpness.get(str(e), float('nan'))):.2f}"
        out.append(f"| {m} | {eps} | {sharp} | " + " | ".join(cells)
                   + f" | {'—' if np.isnan(gd) else f'{gd:.2e}'} | {'—' if np.isnan(go) else f'{go:.2e}'} | {len(rs)} |")
    out.append(f"| target samples (reference) | — | — | {ref['modes_covered']:.0f} | {ref['near_mode']:.3f} | "
               f"{ref['mode_tv']:.3f} | {ref['set_rms']:.3f} | {ref['ordered_rms']:.3f} | — | — | — |")
    return "\n".join(out)


def plot(rows: list[dict], target: TokenCloudMixture, path: Path) -> None:
    """Seed 0: 12 generated clouds per row (colour = token index), one panel per method / ε."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.get("samples") is not None]
    fig, axes = plt.subplots(len(shown) + 1, 1, figsize=(12, 1.6 * (len(shown) + 1)), squeeze=False)
    panels = [("target", target.to_clouds(target.sample(12, stratified=True)).numpy())]
    for r in shown:
        lat = np.asarray(r["samples"])[:12]
        eps = "" if r["method"] == "dmd" else f", ε/δ² {r['eps_rel']:g}"
        panels.append((f"{r['method']}{eps}", lat.reshape(lat.shape[0], lat.shape[1], -1).transpose(0, 2, 1)))
    for ax, (title, clouds) in zip(axes[:, 0], panels):
        for i, c in enumerate(clouds):
            ax.scatter(c[:, 0] + 5.0 * i, c[:, 1], c=np.arange(len(c)), cmap="viridis", s=5)
        ax.set_xlim(-3, 5.0 * len(clouds) - 2)
        ax.set_ylim(-2.5, 2.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(title, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    """Print the table again from a saved otd_toy.json: python -m vdot_train.experiments.otd_toy_report docs/otd_toy.json"""
    import json
    import sys

    d = json.loads(Path(sys.argv[1]).read_text())
    print(table(d["rows"], d["reference"], d["token_spacing_sq"], {float(k): v for k, v in d["plan_sharpness"].items()}))


if __name__ == "__main__":
    main()
