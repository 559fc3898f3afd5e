"""The artefacts that are charts (SVG, matplotlib with the Agg backend), drawn from the `history` facts.

Deterministic: a fixed `svg.hashsalt`, no date in the metadata, text kept as text (the browser draws the
Chinese labels). matplotlib is imported here only, when a pack is generated (`devops-audit[assess]`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

__all__ = ["CHARTS"]

_RC = {"svg.hashsalt": "devops-audit", "svg.fonttype": "none", "font.size": 9, "text.parse_math": False,
       "font.family": "sans-serif", "axes.spines.top": False,
       "axes.spines.right": False}
_MAIN, _BRANCH, _ACCENT = "#0969da", "#8250df", "#cf222e"


def _save(fig: Any, path: Path, caption: str) -> None:
    """Chinese glyphs are measured with a Latin font (a warning each): the SVG keeps the text and the browser
    draws it with the reader's own CJK font."""
    import warnings

    fig.supxlabel(caption, fontsize=7, color="#57606a", x=0.01, ha="left")  # the layout keeps room for it
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(path, format="svg", metadata={"Date": None, "Creator": "devops-audit"})


def _figure(width: float, height: float, rows: int = 1, cols: int = 1) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(rows, cols, figsize=(width, height), layout="constrained")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _caption(history: dict[str, Any], commit: str | None) -> str:
    return (f"source: git history of {history['ref']} at {(commit or '')[:12]}, window {history['window_start'][:10]}"
            f" to {history['window_end'][:10]}")


def _timeline(history: dict[str, Any] | None) -> tuple[list[dict[str, Any]], str]:
    if not history:
        return [], "no git history: scan a clone with its history (fetch-depth: 0)"
    changes = history.get("timeline") or []
    return changes, "" if changes else "no commit landed on the default branch in the window"


def branch_graph(history: dict[str, Any] | None, out: Path, commit: str | None) -> str:
    """Default branch as a line of landed changes; each merged branch a lane from its first commit to its merge."""
    import matplotlib.pyplot as plt

    changes, reason = _timeline(history)
    if reason:
        return reason
    merges = sorted((c for c in changes if c["merge"] and c["branch_commits"]), key=lambda c: (c["started"], c["sha"]))
    lanes: list[datetime] = []
    placed = []
    for change in merges:
        start, end = _when(change["started"]), _when(change["time"])
        lane = next((i for i, free in enumerate(lanes) if free < start), None)
        if lane is None:
            lanes.append(end)
            lane = len(lanes) - 1
        else:
            lanes[lane] = end
        placed.append((change, start, end, lane + 1))
    height = min(2.0 + 0.28 * max(len(lanes), 1), 12.0)
    with plt.rc_context(_RC):
        fig, ax = _figure(11, height)
        times = [_when(c["time"]) for c in changes]
        ax.axhline(0, color=_MAIN, linewidth=2, zorder=1)
        ax.scatter(times, [0] * len(times), s=14, color=_MAIN, zorder=3, label=f"default branch ({history['default_branch']})")
        for change, start, end, lane in placed:
            ax.plot([start, start, end, end], [0, lane, lane, 0], color=_BRANCH, linewidth=1, alpha=0.8, zorder=2)
            if len(placed) <= 40:
                label = change.get("branch") or (f"#{change['pr']}" if change.get("pr") else change["sha"][:7])
                ax.annotate(label[:28], (start, lane), fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_yticks([])
        ax.set_title(f"分支信息图 Branch and merge graph: {len(changes)} changes landed, {len(merges)} merged branches, "
                     f"median branch life {history.get('median_branch_age_days')} days")
        fig.autofmt_xdate()
        _save(fig, out, _caption(history, commit))
        plt.close(fig)
    return ""


def merge_requests(history: dict[str, Any] | None, out: Path, commit: str | None) -> str:
    """Distributions of merge-request size (files, commits) and lead time (first commit to merge)."""
    import matplotlib.pyplot as plt

    changes, reason = _timeline(history)
    if reason:
        return reason
    requests = [c for c in changes if c["merge"] or c.get("pr")]
    if not requests:
        return ("no merge or pull/merge-request commit in the window: changes land as direct commits, so there is "
                "no merge request to measure")
    panels = [("文件 Files changed per merge request", [c["files"] for c in requests if c.get("files") is not None]),
              ("提交 Commits per merge request", [max(c["branch_commits"], 1) for c in requests]),
              ("周期 Lead time, first commit to merge (hours)", [c["lead_hours"] for c in requests])]
    with plt.rc_context(_RC):
        fig, axes = _figure(11, 3.2, 1, 3)
        for ax, (title, values) in zip(axes, panels):
            if values:
                ax.hist(values, bins=min(20, max(5, len(set(values)))), color=_BRANCH)
                mid = median(values)
                ax.axvline(mid, color=_ACCENT, linestyle="--", linewidth=1)
                ax.set_title(f"{title}\nmedian {mid:g}, n={len(values)}")
            else:
                ax.set_title(f"{title}\nno data")
            ax.set_ylabel("merge requests")
        _save(fig, out, _caption(history, commit))
        plt.close(fig)
    return ""


def integration_frequency(history: dict[str, Any] | None, out: Path, commit: str | None) -> str:
    """Changes landing on the default branch per day over the window (empty days shown)."""
    import matplotlib.pyplot as plt

    changes, reason = _timeline(history)
    if reason:
        return reason
    per_day = Counter(c["time"][:10] for c in changes)
    first, last = date.fromisoformat(history["window_start"][:10]), date.fromisoformat(history["window_end"][:10])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    counts = [per_day.get(d.isoformat(), 0) for d in days]
    with plt.rc_context(_RC):
        fig, ax = _figure(11, 3.0)
        ax.bar(days, counts, width=0.8, color=[_MAIN if d.weekday() < 5 else "#8c959f" for d in days])
        share = history.get("daily_integration_share")
        ax.set_title(f"集成频率 Integration frequency: changes landed per day on {history['default_branch']}; "
                     f"{sum(1 for c in counts if c)} of {len(days)} days; working days with integration: "
                     f"{'—' if share is None else f'{share * 100:.0f}%'}")
        ax.set_ylabel("changes")
        fig.autofmt_xdate()
        _save(fig, out, _caption(history, commit))
        plt.close(fig)
    return ""


def release_cadence(history: dict[str, Any] | None, out: Path, commit: str | None) -> str:
    """Tags over the window: releases (semantic versions, not pre-releases) and other tags."""
    import matplotlib.pyplot as plt

    if not history:
        return "no git history: scan a clone with its history and its tags (git fetch --tags)"
    tags = [t for t in history.get("tags", []) if t.get("date")]
    with plt.rc_context(_RC):
        fig, ax = _figure(11, 2.4)
        for tag in tags:
            when = _when(tag["date"])
            color = _MAIN if tag.get("release") else "#8c959f"
            ax.vlines(when, 0, 1, color=color)
            ax.annotate(tag["name"][:24], (when, 1), fontsize=6, rotation=45, xytext=(0, 2), textcoords="offset points")
        ax.set_xlim(_when(history["window_start"]), _when(history["window_end"]))
        ax.set_yticks([])
        ax.set_title(f"发布节奏 Release cadence: {history['release_count']} releases in the window, median interval "
                     f"{history.get('median_release_interval_days')} days")
        fig.autofmt_xdate()
        _save(fig, out, _caption(history, commit))
        plt.close(fig)
    return ""


# artefact id -> [(file, draw)]; `draw` returns "" when it drew, else why it could not
CHARTS: dict[str, list[tuple[str, Callable[[dict[str, Any] | None, Path, str | None], str]]]] = {
    "branch-graph": [("branch-graph.svg", branch_graph)],
    "merge-requests": [("merge-requests.svg", merge_requests)],
    "integration-frequency": [("integration-frequency.svg", integration_frequency)],
    "releases": [("release-cadence.svg", release_cadence)],
}
