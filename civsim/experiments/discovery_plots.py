"""Figures and files of a scenario discovery (:mod:`civsim.experiments.discovery`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from civsim.experiments.discovery import Discovery, box_sentence, boxes_json, details_json


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_trajectory(d: Discovery, path: Path) -> None:
    """PRIM: coverage against density along each peeling trajectory, coloured by
    the number of restricted factors; the chosen box circled, the pasted box starred."""
    plt = _plt()
    k = len(d.trajectories)
    fig, axes = plt.subplots(1, k, figsize=(5.2 * k, 4.2), squeeze=False)
    for j, (t, b) in enumerate(zip(d.trajectories, d.boxes, strict=False)):
        ax = axes[0][j]
        sc = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=18)
        i = b.trajectory_index
        if i is not None:
            ax.scatter(
                [t["coverage"][i]],
                [t["density"][i]],
                s=140,
                facecolors="none",
                edgecolors="red",
                lw=1.5,
                label=f"chosen: box {i}",
            )
        ax.scatter(
            [b.coverage],
            [b.density],
            marker="*",
            s=160,
            color="orange",
            edgecolors="k",
            label="after pasting" if b.pasted else "final (no paste)",
        )
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"box {j + 1}: peeling trajectory")
        ax.legend(loc="lower left", fontsize=8)
        fig.colorbar(sc, ax=ax, label="restricted factors")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_limits(d: Discovery, path: Path) -> None:
    """Each box's restrictions on the factors' full ranges (0 = data min, 1 = max), with quasi-p."""
    plt = _plt()
    k = len(d.boxes)
    height = max(2.0, 0.5 * max((len(b.limits) for b in d.boxes), default=1) + 1.4)
    fig, axes = plt.subplots(1, k, figsize=(5.5 * k, height), squeeze=False)
    for j, b in enumerate(d.boxes):
        ax = axes[0][j]
        names = sorted(b.limits, key=lambda n: b.qp.get(n, 1.0))
        for i, n in enumerate(names):
            lo, hi = b.limits[n]
            dmin, dmax = float(d.x[n].min()), float(d.x[n].max())
            span = dmax - dmin or 1.0
            ax.plot([0, 1], [i, i], color="lightgrey", lw=6, solid_capstyle="butt")
            ax.plot([(lo - dmin) / span, (hi - dmin) / span], [i, i], color="C3", lw=6, solid_capstyle="butt")
            ax.text(-0.02, i, f"{dmin:.3g}", ha="right", va="center", fontsize=8)
            ax.text(1.02, i, f"{dmax:.3g}", ha="left", va="center", fontsize=8)
            ax.text((lo - dmin) / span, i + 0.28, f"{lo:.3g}", ha="center", fontsize=8)
            ax.text((hi - dmin) / span, i + 0.28, f"{hi:.3g}", ha="center", fontsize=8)
        ax.set_yticks(range(len(names)), [f"{n}\n(qp {b.qp.get(n, np.nan):.1e})" for n in names], fontsize=8)
        ax.set_xlim(-0.15, 1.15)
        ax.set_ylim(-0.7, len(names) - 0.2)
        ax.set_xticks([])
        ax.set_title(
            f"box {j + 1}: coverage {b.coverage:.2f}, density {b.density:.2f}, mass {b.mass:.2f}", fontsize=9
        )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_scatter(d: Discovery, path: Path) -> None:
    """The rows on the first box's two most significant factors, cases of interest
    in red, the box drawn over them."""
    plt = _plt()
    b = d.boxes[0]
    names = sorted(b.limits, key=lambda n: b.qp.get(n, 1.0))
    names += [f for f in d.factors if f not in names]
    fx, fy = names[0], names[1] if len(names) > 1 else names[0]
    fig, ax = plt.subplots(figsize=(5.5, 4.6))
    y = d.y
    ax.scatter(d.x[fx][~y], d.x[fy][~y], s=10, color="C0", alpha=0.5, label="other")
    word = "below" if d.direction == "below" else "above"
    ax.scatter(
        d.x[fx][y], d.x[fy][y], s=12, color="C3", alpha=0.7, label=f"{d.metric} {word} {d.threshold:g}"
    )
    lx = b.limits.get(fx, (float(d.x[fx].min()), float(d.x[fx].max())))
    ly = b.limits.get(fy, (float(d.x[fy].min()), float(d.x[fy].max())))
    ax.add_patch(plt.Rectangle((lx[0], ly[0]), lx[1] - lx[0], ly[1] - ly[0], fill=False, lw=2, color="k"))
    ax.set_xlabel(fx)
    ax.set_ylabel(fy)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"box 1 on its two most significant factors ({d.method.upper()})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_tree(d: Discovery, path: Path, max_depth: int) -> None:
    """CART: the classification tree itself."""
    from sklearn.tree import plot_tree as sk_plot_tree

    plt = _plt()
    depth = max(1, int(d.tree.get_depth())) if d.tree is not None else max_depth
    fig, ax = plt.subplots(figsize=(min(24.0, 4 + 1.6 * 2 ** min(depth, 4)), 2.0 * depth + 1.5))
    sk_plot_tree(
        d.tree,
        feature_names=d.factors,
        class_names=["other", "case"],
        filled=True,
        impurity=False,
        ax=ax,
        fontsize=7,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_discovery(d: Discovery, out: Path, *, max_depth: int = 4) -> list[Path]:
    """Write ``boxes.json``, ``boxes.md`` (the sentences) and the figures to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "boxes.json"]
    paths[0].write_text(json.dumps(boxes_json(d), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    paths.append(out / "discovery.json")
    paths[1].write_text(json.dumps(details_json(d), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    md = out / "boxes.md"
    lines = [
        f"# Scenario discovery: {d.metric} {d.direction} {d.threshold:g} ({d.method.upper()})",
        "",
        f"{len(d.y)} {d.noun}, {d.n_cases} of them cases of interest. Box rule: {d.rule}.",
        "",
    ]
    lines += [f"{i + 1}. {box_sentence(d, b)}" for i, b in enumerate(d.boxes)]
    lines += [""] + [f"- note: {n}" for n in d.notes]
    md.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    paths.append(md)
    if d.boxes:
        if d.trajectories:
            plot_trajectory(d, out / "peeling_trajectory.png")
            paths.append(out / "peeling_trajectory.png")
        if d.method == "cart" and d.tree is not None:
            plot_tree(d, out / "cart_tree.png", max_depth)
            paths.append(out / "cart_tree.png")
        if any(b.limits for b in d.boxes):
            plot_limits(d, out / "box_limits.png")
            paths.append(out / "box_limits.png")
        plot_scatter(d, out / "box_scatter.png")
        paths.append(out / "box_scatter.png")
    return paths
