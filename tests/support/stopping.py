"""Stopping the real processes tests start (servers, Redis, HAProxy, Prometheus)."""

from __future__ import annotations

import signal
import subprocess


def stop_process(
    process: subprocess.Popen, *, grace: float = 10.0, sig: int = signal.SIGTERM
) -> None:
    """Ask `process` to stop with `sig`; kill it if it is still running after `grace` s."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
