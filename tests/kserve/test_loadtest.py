"""`seqserve loadtest` against the real server holding every kind: locust runs
in a child process (gevent never touches this one), the report is written, and
the SLO gates decide the exit status."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from seqserve.client.loadtest import cli as loadtest
from seqserve.client.loadtest.gates import Gates, RpcStats, evaluate
from tests.kserve.conftest import CAPTIONER, FORECASTER, TAGGER, TRANSLATOR

RPCS = {"Translate", "TranslateStream", "Tag", "Caption", "Predict open", "Predict chunk",
        "ModelInfer"}


def _seqserve(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seqserve.server.cli", "loadtest", *argv],
                          capture_output=True, text=True, timeout=timeout)


def _slo(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_loadtest_every_kind_passes_then_fails_a_strict_gate(kserve_server, tmp_path):
    out = tmp_path / "report"
    generous = _slo(tmp_path / "pass.yaml",
                    "max_error_ratio: 0.0\nmin_requests: 7\np99_ms:\n  default: 60000\n")
    run = _seqserve(
        "--target", kserve_server.address, "--users", "6", "--spawn-rate", "6",
        "--duration", "4s", "--out", str(out), "--slo", str(generous),
        "--translator", TRANSLATOR, "--kserve-model", TRANSLATOR, "--tagger", TAGGER,
        "--captioner", CAPTIONER, "--session-model", FORECASTER, "--beam-size", "2",
        "--chunk-rate", "50", "--session-chunks", "4",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SLO: PASS" in run.stdout
    for name in ("loadtest_stats.csv", "loadtest_stats_history.csv", "report.html",
                 "throughput.png", "latency_over_time.png", "latency_vs_users.png",
                 "summary.json"):
        assert (out / name).stat().st_size > 0, name
    with (out / "loadtest_stats.csv").open(newline="") as handle:
        counts = {row["Name"]: int(row["Request Count"]) for row in csv.DictReader(handle)}
    assert counts["Aggregated"] > 0
    assert all(counts.get(rpc, 0) > 0 for rpc in RPCS), counts

    # The same run against p99 < 1 ms: every RPC misses it, the exit status says so.
    strict = _slo(tmp_path / "fail.yaml", "p99_ms:\n  default: 1\n")
    gated = _seqserve("--check-only", str(out), "--slo", str(strict), "--no-plots")
    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert "SLO: FAIL" in gated.stdout and "FAIL  p99 Translate ms" in gated.stdout


def test_loadtest_refuses_bad_slo_files_and_runs_without_models(tmp_path, capsys):
    out = tmp_path / "report"
    out.mkdir()
    (out / "loadtest_stats.csv").write_text(
        "Type,Name,Request Count,Failure Count,Requests/s,50%,99%\n"
        "grpc,Tag,10,0,5.0,3,9\n,Aggregated,10,0,5.0,3,9\n")
    typo = _slo(tmp_path / "typo.yaml", "p99ms:\n  default: 10\n")
    assert loadtest.main(["--check-only", str(out), "--slo", str(typo), "--no-plots"]) == 2
    assert "p99ms" in capsys.readouterr().err
    assert loadtest.main(["--target", "127.0.0.1:1", "--out", str(out)]) == 2  # no model
    assert loadtest.main(["--target", "127.0.0.1:1", "--users", "1", "--translator", "x",
                          "--out", str(out)]) == 2  # 2 user kinds, 1 user


def _stats(p99: float, failures: int = 0) -> list[RpcStats]:
    return [RpcStats("Tag", 100, failures, 50.0, 3.0, p99),
            RpcStats("Aggregated", 100, failures, 50.0, 3.0, p99)]


def test_gates_p99_per_rpc_error_ratio_and_minimum():
    gates = Gates(max_error_ratio=0.02, min_requests=50, p99_ms={"default": 100, "Tag": 10})
    assert all(v.passed for v in evaluate(_stats(9.0, failures=2), gates))
    failed = {v.gate for v in evaluate(_stats(11.0, failures=3), gates) if not v.passed}
    assert failed == {"p99 Tag ms", "error ratio"}
    assert not evaluate(_stats(1.0), Gates(min_requests=101))[0].passed


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30s", 30), ("2m", 120),
                                               ("1h30m", 5400)])
def test_durations(text, seconds):
    assert loadtest.parse_duration(text) == seconds
