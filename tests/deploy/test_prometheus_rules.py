"""deploy/prometheus: the scrape config and alert rules pass promtool, and the rules'
unit tests (deploy/prometheus/tests/alerts_test.yml) pass `promtool test rules`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")

pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed "
                                "(Debian: apt-get install prometheus)")


def promtool(*args: str) -> str:
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, *args], cwd=PROMETHEUS_DIR, capture_output=True,
                          text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def test_scrape_config_is_valid():
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml")


def test_alert_rules_are_valid():
    assert "SUCCESS: 5 rules found" in promtool("check", "rules", "alerts.yml")


def test_alert_rule_unit_tests_pass():
    assert "SUCCESS" in promtool("test", "rules", "tests/alerts_test.yml")


def test_a_wrong_expectation_fails(tmp_path: Path):
    """The unit tests can fail: the same file expecting no replica-down alert does."""
    broken = (PROMETHEUS_DIR / "tests" / "alerts_test.yml").read_text().replace(
        "instance: replica2:9090", "instance: replica3:9090", 1)
    (tmp_path / "alerts.yml").write_text((PROMETHEUS_DIR / "alerts.yml").read_text())
    case = tmp_path / "tests" / "alerts_test.yml"
    case.parent.mkdir()
    case.write_text(broken)
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, "test", "rules", str(case)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "SeqserveReplicaDown" in done.stdout + done.stderr
