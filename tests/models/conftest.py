"""Shared settings for the model tests."""

from __future__ import annotations

import os

# Before torch loads libgomp: idle OpenMP workers sleep instead of spinning, which
# on a shared 2-core machine is 2-3x faster (see models/cli.py).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest
import torch


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: trains a real model (~40-90 s); deselect with -m 'not slow'"
    )


@pytest.fixture(autouse=True, scope="session")
def _two_threads() -> None:
    # The test machine has 2 cores shared with other work; more threads only thrash.
    torch.set_num_threads(2)
