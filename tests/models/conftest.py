"""Shared settings for the model tests."""

from __future__ import annotations

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
