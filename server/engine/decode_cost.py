"""What decoding costs, measured by the decode loop: seconds per iteration at a batch
size, and how many steps a sentence typically takes.

Admission predicts a request's LATENCY from these: its steps times the seconds
per iteration of the batch it will run in. Throughput (sentences per second) is
the wrong figure for that: at a batch of 128, a sentence finishes every few
milliseconds while each one takes a second or more.
"""

from __future__ import annotations


class StepCost:
    """Wall seconds per decode iteration as a function of the batch's rows.

    Fitted as `fixed + per_row * rows` by exponentially weighted least squares over
    recent iterations. An iteration's wall time includes whatever the process made
    the loop wait (the GIL under a flood of RPCs), which is what a sentence in the
    batch experiences. While the batch size has barely varied there is no slope to
    fit: the estimate then scales up with rows and never down (cautious both ways).
    """

    HALF_LIFE_ITERATIONS = 100.0
    MIN_WEIGHT = 5.0
    """Iterations (weighted) seen before there is an estimate."""

    def __init__(self) -> None:
        self._w = self._x = self._y = self._xx = self._xy = 0.0
        self._keep = 0.5 ** (1.0 / self.HALF_LIFE_ITERATIONS)

    def record(self, rows: int, seconds: float) -> None:
        k = self._keep
        self._w = self._w * k + 1.0
        self._x = self._x * k + rows
        self._y = self._y * k + seconds
        self._xx = self._xx * k + rows * rows
        self._xy = self._xy * k + rows * seconds

    def seconds(self, rows: int) -> float | None:
        """Predicted iteration seconds at `rows` rows; None before enough was seen."""
        if self._w < self.MIN_WEIGHT:
            return None
        mean_x, mean_y = self._x / self._w, self._y / self._w
        variance = self._xx / self._w - mean_x * mean_x
        if mean_x <= 0:
            return mean_y
        if variance > (0.1 * mean_x) ** 2:
            slope = (self._xy / self._w - mean_x * mean_y) / variance
            fixed = mean_y - slope * mean_x
            if slope >= 0 and fixed >= 0:
                return fixed + slope * rows
        return mean_y * max(1.0, rows / mean_x)


class TypicalSteps:
    """Decode steps per finished sentence, exponentially weighted."""

    HALF_LIFE_SENTENCES = 50.0
    MIN_SEEN = 3

    def __init__(self) -> None:
        self._seen = 0
        self._mean = 0.0
        self._alpha = 1.0 - 0.5 ** (1.0 / self.HALF_LIFE_SENTENCES)

    def record(self, steps: int) -> None:
        self._seen += 1
        alpha = max(self._alpha, 1.0 / self._seen)  # a plain mean until enough are seen
        self._mean += alpha * (steps - self._mean)

    @property
    def value(self) -> float | None:
        return self._mean if self._seen >= self.MIN_SEEN else None

    def expected(self, min_length: int, max_length: int) -> float | None:
        """Steps a sentence with these bounds will likely take (its own bounds win)."""
        typical = self.value
        if typical is None:
            return None
        return float(min(max(typical, min_length, 1), max_length))
