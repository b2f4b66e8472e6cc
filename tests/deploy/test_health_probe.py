"""The container health probe (python -m seqserve.server.api.health_probe) against the
real server: SERVING exits 0; an unknown service or no server at all exits 1."""

from __future__ import annotations

import subprocess
import sys

from tests.support.server_process import free_port

PROBE = [sys.executable, "-m", "seqserve.server.api.health_probe"]


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PROBE, *args], capture_output=True, text=True, timeout=60)


def test_serving_server_passes(deploy_server):
    done = probe("--target", deploy_server.address)
    assert done.returncode == 0, done.stderr
    assert "SERVING" in done.stderr


def test_named_service_passes(deploy_server):
    done = probe("--target", deploy_server.address, "--service", "seqserve.v1.SeqServe")
    assert done.returncode == 0, done.stderr


def test_unknown_service_fails_with_the_reason(deploy_server):
    done = probe("--target", deploy_server.address, "--service", "no.such.Service")
    assert done.returncode == 1
    assert "NOT_FOUND" in done.stderr


def test_no_server_fails_with_the_reason():
    done = probe("--target", f"127.0.0.1:{free_port()}", "--timeout", "1")
    assert done.returncode == 1
    assert "UNAVAILABLE" in done.stderr or "DEADLINE_EXCEEDED" in done.stderr
