"""PNG plots of a run from locust's PREFIX_stats_history.csv (--csv-full-history):
throughput and p50/p99 over time per RPC, and latency against the user count."""

from __future__ import annotations

import csv
import itertools
import math
from collections import defaultdict
from pathlib import Path

from seqserve.client.loadtest.gates import AGGREGATED

PLOTS = ("throughput.png", "latency_over_time.png", "latency_vs_users.png")


def _history(path: Path) -> dict[str, list[dict[str, float]]]:
    """Per request name, its rows in time order with numbers parsed (N/A -> NaN)."""
    series: dict[str, list[dict[str, float]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            parsed = {}
            for key in ("Timestamp", "User Count", "50%", "99%", "Total Request Count"):
                value = row[key]
                parsed[key] = math.nan if value in ("", "N/A") else float(value)
            if parsed["Total Request Count"] == 0 or parsed["99%"] == 0:
                # Locust writes 0 percentiles for a window with no answer yet: no data.
                parsed["50%"] = parsed["99%"] = math.nan
            series[row["Name"]].append(parsed)
    return series


def _throughput(rows: list[dict[str, float]], start: float) -> tuple[list[float], list[float]]:
    """Requests/s between consecutive rows, from the running totals."""
    times, rates = [], []
    for before, after in itertools.pairwise(rows):
        elapsed = after["Timestamp"] - before["Timestamp"]
        if elapsed > 0:
            times.append(after["Timestamp"] - start)
            rates.append((after["Total Request Count"] - before["Total Request Count"]) / elapsed)
    return times, rates


def write_plots(history_csv: Path, out: Path, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    series = _history(history_csv)
    if not series:
        raise ValueError(f"{history_csv}: no rows to plot")
    start = min(rows[0]["Timestamp"] for rows in series.values())
    names = sorted(series, key=lambda name: (name == AGGREGATED, name))
    written = []

    fig, ax = plt.subplots(figsize=(9, 5))
    for name in names:
        times, rates = _throughput(series[name], start)
        ax.plot(times, rates, label=name, linewidth=2.5 if name == AGGREGATED else 1.2)
    ax.set(xlabel="seconds", ylabel="requests/s", title=f"Throughput — {title}")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    written.append(_save(fig, out / PLOTS[0]))

    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for ax, column in zip(axes, ("50%", "99%"), strict=True):
        for name in names:
            rows = series[name]
            ax.plot([r["Timestamp"] - start for r in rows], [r[column] for r in rows],
                    label=name, linewidth=2.5 if name == AGGREGATED else 1.2)
        ax.set(xlabel="seconds", ylabel="ms", title=f"p{column[:-1]} over time")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.suptitle(title)
    written.append(_save(fig, out / PLOTS[1]))

    fig, ax = plt.subplots(figsize=(8, 5))
    rows = series.get(AGGREGATED, [])
    for column in ("50%", "99%"):
        ax.plot([r["User Count"] for r in rows], [r[column] for r in rows], "o",
                label=f"p{column[:-1]} (all RPCs)", alpha=0.7)
    ax.set(xlabel="users", ylabel="ms", title=f"Latency vs users — {title}")
    ax.legend()
    ax.grid(alpha=0.3)
    written.append(_save(fig, out / PLOTS[2]))
    return written


def _save(fig: object, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=100, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return path
