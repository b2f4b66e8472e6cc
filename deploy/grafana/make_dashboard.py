"""Write dashboards/seqserve.json, the Grafana dashboard of deploy/compose.yaml.

    python deploy/grafana/make_dashboard.py          # rewrite the committed JSON
    python deploy/grafana/make_dashboard.py --check  # exit 1 when it is stale

The panels are data (PANELS) so the tests can run every query against a real
Prometheus scraping a real server (tests/deploy/test_prometheus_scrape.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

OUTPUT = Path(__file__).resolve().parent / "dashboards" / "seqserve.json"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
RATE = "$__rate_interval"
# Long-lived streams (sessions) are not latencies; keep them off the latency panels.
UNARY = 'method!~"Predict|PredictMany|ModelStreamInfer"'


class Panel(NamedTuple):
    title: str
    unit: str
    queries: tuple[tuple[str, str], ...]
    """(PromQL, legend) pairs."""


def _quantile(q: float, metric: str, by: str, selector: str = "") -> str:
    inner = f"{metric}_bucket{{{selector}}}" if selector else f"{metric}_bucket"
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({inner}[{RATE}])))"


def _mean(metric: str, by: str) -> str:
    return (f"sum by ({by}) (rate({metric}_sum[{RATE}])) / "
            f"sum by ({by}) (rate({metric}_count[{RATE}]))")


PANELS: tuple[Panel, ...] = (
    Panel("Requests/s by model and RPC", "reqps", (
        (f"sum by (model, method) (rate(seqserve_requests_total[{RATE}]))",
         "{{model}} {{method}}"),
    )),
    Panel("Errors/s by status code", "reqps", (
        (f'sum by (code, method) (rate(seqserve_requests_total{{code!="OK"}}[{RATE}]))',
         "{{code}} {{method}}"),
    )),
    Panel("p50 latency by model and RPC", "s", (
        (_quantile(0.5, "seqserve_request_latency_seconds", "model, method", UNARY),
         "{{model}} {{method}}"),
    )),
    Panel("p99 latency by model and RPC", "s", (
        (_quantile(0.99, "seqserve_request_latency_seconds", "model, method", UNARY),
         "{{model}} {{method}}"),
    )),
    Panel("Queue vs compute time (p99)", "s", (
        (_quantile(0.99, "seqserve_queue_duration_seconds", "model"), "queue {{model}}"),
        (_quantile(0.99, "seqserve_compute_duration_seconds", "model"), "compute {{model}}"),
    )),
    Panel("Time to first partial, TranslateStream (p50 / p99)", "s", (
        (_quantile(0.5, "seqserve_time_to_first_partial_seconds", "model"), "p50 {{model}}"),
        (_quantile(0.99, "seqserve_time_to_first_partial_seconds", "model"), "p99 {{model}}"),
    )),
    Panel("Queue depth", "short", (
        ("sum by (model) (seqserve_queue_depth)", "{{model}}"),
        ("sum by (model) (seqserve_queue_capacity)", "capacity {{model}}"),
    )),
    Panel("Decode batch rows (mean per step)", "short", (
        (_mean("seqserve_decode_batch_rows", "model"), "{{model}}"),
    )),
    Panel("Live sentences", "short", (
        ("sum by (model) (seqserve_live_sentences)", "{{model}}"),
    )),
    Panel("Live sessions", "short", (
        ("sum by (model) (seqserve_live_sessions)", "{{model}}"),
        ("sum by (model) (seqserve_session_capacity)", "capacity {{model}}"),
    )),
    Panel("Session tick rows (mean per tick)", "short", (
        (_mean("seqserve_session_tick_rows", "model"), "{{model}}"),
    )),
    Panel("Session inter-step time (p50 / p99)", "s", (
        (_quantile(0.5, "seqserve_session_inter_step_seconds", "model"), "p50 {{model}}"),
        (_quantile(0.99, "seqserve_session_inter_step_seconds", "model"), "p99 {{model}}"),
    )),
    Panel("Snapshot write latency (p99)", "s", (
        (_quantile(0.99, "seqserve_session_snapshot_seconds", "model"), "{{model}}"),
    )),
    Panel("Rejections/s by reason", "reqps", (
        (f"sum by (model, reason) (rate(seqserve_rejected_requests_total[{RATE}]))",
         "{{model}} {{reason}}"),
    )),
)


def queries() -> list[str]:
    return [expr for panel in PANELS for expr, _ in panel.queries]


def _panel(index: int, panel: Panel) -> dict[str, Any]:
    width, height = 12, 8
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": panel.title,
        "datasource": DATASOURCE,
        "gridPos": {"h": height, "w": width, "x": (index % 2) * width,
                    "y": (index // 2) * height},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr,
             "legendFormat": legend}
            for n, (expr, legend) in enumerate(panel.queries)
        ],
    }


def dashboard() -> dict[str, Any]:
    return {
        "uid": "seqserve",
        "title": "seqserve",
        "tags": ["seqserve"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"},
        "templating": {"list": []},
        "panels": [_panel(i, p) for i, p in enumerate(PANELS)],
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the JSON is stale")
    args = parser.parse_args(argv)
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != render():
            print(f"{OUTPUT} is stale: run python {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
