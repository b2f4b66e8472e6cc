"""The server raises its open-file soft limit to the hard limit at start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

resource = pytest.importorskip("resource")

_PROBE = """
import resource
from seqserve.server.fd_limit import raise_fd_limit
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
print(raise_fd_limit(), resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)
"""


def test_soft_limit_goes_up_to_the_hard_limit() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip(f"hard open-file limit is {hard}: nothing to raise")
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    before_after, soft = " ".join(out[:2]), int(out[2])
    assert before_after.startswith("(256,")
    assert soft > 256
    if hard != resource.RLIM_INFINITY:
        assert soft == hard
