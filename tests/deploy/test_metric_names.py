"""Every metric the dashboard and the alert rules name exists on a running server, and the
committed dashboard JSON is what deploy/grafana/make_dashboard.py writes."""

from __future__ import annotations

import json

from deploy.grafana.make_dashboard import OUTPUT, main, queries
from tests.deploy.metric_names import alert_names, dashboard_names, exposed_names


def test_dashboard_metrics_exist_on_the_server(deploy_server):
    exposed = exposed_names(deploy_server.metrics_url)
    names = dashboard_names()
    assert len(names) >= 12
    assert names <= exposed, sorted(names - exposed)


def test_alert_rule_metrics_exist_on_the_server(deploy_server):
    exposed = exposed_names(deploy_server.metrics_url)
    names = alert_names()
    assert len(names) >= 6
    assert names <= exposed, sorted(names - exposed)


def test_committed_dashboard_is_current():
    assert main(["--check"]) == 0


def test_dashboard_has_the_panels_the_issue_names():
    panels = json.loads(OUTPUT.read_text())["panels"]
    exprs = " ".join(t["expr"] for p in panels for t in p["targets"])
    assert exprs == " ".join(queries())
    for name in ("seqserve_requests_total", "seqserve_request_latency_seconds_bucket",
                 "seqserve_queue_depth", "seqserve_decode_batch_rows_sum",
                 "seqserve_live_sentences", "seqserve_live_sessions",
                 "seqserve_session_tick_rows_sum", "seqserve_session_snapshot_seconds_bucket",
                 "seqserve_rejected_requests_total"):
        assert name in exprs
    assert all(t["datasource"]["uid"] == "prometheus" for p in panels for t in p["targets"])
