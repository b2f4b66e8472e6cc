"""Deadline-aware admission for a decode scheduler: refuse at once what cannot finish.

A request whose deadline is shorter than the work queued ahead of it would wait,
hold a queue slot, and time out anyway, after costing the clients behind it. The
scheduler measures its own throughput (sentences finished per second of decode
time, smoothed) and `check` refuses a request when the sentences ahead of it,
at that rate, take longer than its deadline leaves: the wait alone is already
too long. Its own decode time is not guessed (a request's length is unknown
until it decodes), so an empty queue admits everything, as does a scheduler
that has measured nothing yet.
"""

from __future__ import annotations

import time

from seqserve.server.errors import DeadlineExceededError


class ServiceRate:
    """Sentences per second of busy decode time, as an exponentially weighted average."""

    HALF_LIFE_SECONDS = 2.0
    """Busy time over which old measurements count half."""

    def __init__(self) -> None:
        self._busy = 0.0
        self._done = 0.0

    def record(self, busy_seconds: float, finished: int) -> None:
        """One decode step: how long it took and how many sentences it finished."""
        keep = 0.5 ** (busy_seconds / self.HALF_LIFE_SECONDS)
        self._busy = self._busy * keep + busy_seconds
        self._done = self._done * keep + finished

    @property
    def per_second(self) -> float | None:
        if self._busy < 0.05 or self._done < 1:  # not enough seen to say
            return None
        return self._done / self._busy

    def check(self, ahead: int, deadline: float | None, model: str) -> None:
        """Raise DeadlineExceededError when the `ahead` sentences at the measured rate
        end after `deadline` (monotonic seconds)."""
        rate = self.per_second
        if deadline is None or rate is None or ahead == 0:
            return
        needed = ahead / rate
        left = deadline - time.monotonic()
        if needed > left:
            raise DeadlineExceededError(
                f"deadline cannot be met: model '{model}' has {ahead} sentences ahead, about "
                f"{needed:.2f} s of work at the measured {rate:.0f} sentences/s, and the "
                f"request has {max(left, 0.0):.2f} s left; retry later or with a longer deadline"
            )
