"""Retire a replaced or unloaded model without failing the work it still holds.

On a reload the new version is loaded beside the old one and takes every new
request from the moment it is swapped in; the old one keeps running until
the requests it already accepted are answered (its scheduler reports idle),
or until the drain timeout, and only then stops. Requests that picked the
old handle just before the swap reach its queue within the settle time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SETTLE_SECONDS = 0.5
DRAIN_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.02


def is_idle(model: Any) -> bool:
    """Whether every engine loop of `model` has nothing queued or running."""
    loops = [getattr(model, name, None) for name in ("scheduler", "batcher")]
    checks = [loop.idle for loop in loops if loop is not None and hasattr(loop, "idle")]
    return all(check() for check in checks)


class Retirer:
    """Stops retired models on background threads; `close` stops the rest at once."""

    def __init__(self, drain_timeout: float = DRAIN_TIMEOUT_SECONDS) -> None:
        self.drain_timeout = drain_timeout
        self._lock = threading.Lock()
        self._retiring: dict[int, Any] = {}

    def retire(
        self, model: Any, label: str, on_stopped: Callable[[], None] | None = None
    ) -> threading.Thread:
        with self._lock:
            self._retiring[id(model)] = model
        thread = threading.Thread(
            target=self._drain_then_stop, args=(model, label, on_stopped),
            name=f"retire-{label}", daemon=True,
        )
        thread.start()
        return thread

    def _drain_then_stop(
        self, model: Any, label: str, on_stopped: Callable[[], None] | None
    ) -> None:
        started = time.monotonic()
        time.sleep(SETTLE_SECONDS)
        while not is_idle(model) and time.monotonic() - started < self.drain_timeout:
            time.sleep(POLL_SECONDS)
        with self._lock:
            if self._retiring.pop(id(model), None) is None:
                return  # close() stopped it meanwhile
        if not is_idle(model):
            log.warning("%s still busy after %.0fs of draining: stopping it", label,
                        self.drain_timeout)
        model.stop()
        if on_stopped is not None:
            on_stopped()
        log.info("retired %s after %.2fs", label, time.monotonic() - started)

    def close(self) -> None:
        with self._lock:
            models = list(self._retiring.values())
            self._retiring.clear()
        for model in models:
            model.stop()
