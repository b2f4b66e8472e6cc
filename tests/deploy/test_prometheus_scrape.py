"""The real Prometheus scraping the real server: every dashboard query returns data
through Prometheus's HTTP API, and the alert rules load and evaluate cleanly."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from tests.deploy.prometheus_process import PROMETHEUS, Prometheus, running_prometheus
from tests.deploy.traffic import send_traffic
from tests.support.polling import wait_until

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
WINDOW = "30s"
"""Stands in for Grafana's $__rate_interval: covers the whole test at a 1s scrape."""

pytestmark = pytest.mark.skipif(
    not os.access(PROMETHEUS, os.X_OK),
    reason="prometheus is not installed (Debian: apt-get install prometheus)",
)


def dashboard_queries() -> list[str]:
    from deploy.grafana.make_dashboard import queries

    return [expr.replace("$__rate_interval", WINDOW) for expr in queries()]


@pytest.fixture(scope="module")
def prometheus(deploy_server, tmp_path_factory):
    target = f"127.0.0.1:{deploy_server.metrics_port}"
    with running_prometheus([target], [ALERTS], tmp_path_factory.mktemp("prom")) as prom:
        assert wait_until(lambda: _values(prom, 'up{job="seqserve"}') == [1.0], 20), "never scraped"
        # Counters must move while Prometheus watches for rate() to see traffic.
        send_traffic(deploy_server.address)
        yield prom


def _values(prom: Prometheus, expr: str) -> list[float]:
    return [float(item["value"][1]) for item in prom.query(expr)]


def _has_data(prom: Prometheus, expr: str) -> bool:
    return any(math.isfinite(v) for v in _values(prom, expr))


@pytest.mark.parametrize("expr", dashboard_queries())
def test_dashboard_query_returns_data(prometheus, expr):
    assert wait_until(lambda: _has_data(prometheus, expr), 15), (
        f"no finite sample for {expr}: {prometheus.query(expr)}"
    )
    for item in prometheus.query(expr):
        print(f"{expr}\n    {item['metric']} = {item['value'][1]}")


def test_requests_per_model_and_rpc_seen_by_prometheus(prometheus):
    expr = f"sum by (model, method, code) (increase(seqserve_requests_total[{WINDOW}]))"
    assert wait_until(lambda: len(prometheus.query(expr)) >= 10, 15)
    seen = {(i["metric"].get("model", ""), i["metric"]["method"], i["metric"]["code"])
            for i in prometheus.query(expr)}
    assert {("numbers", "Translate", "OK"), ("numbers", "ModelInfer", "OK"),
            ("co2", "PredictMany", "OK"), ("", "ModelInfer", "NOT_FOUND")} <= seen


def test_alert_rules_load_and_evaluate(prometheus):
    def evaluated() -> bool:
        rules = [r for g in prometheus.api("rules")["groups"] for r in g["rules"]]
        return len(rules) == 5 and all(r.get("lastEvaluation", "").startswith("20")
                                       and r["health"] == "ok" for r in rules)

    assert wait_until(evaluated, 15), prometheus.api("rules")
    # A healthy replica under light traffic fires nothing.
    firing = [a for a in prometheus.api("alerts")["alerts"] if a["state"] == "firing"]
    assert firing == []
