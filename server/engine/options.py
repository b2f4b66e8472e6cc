"""Per-request decoding options: one object per call, validated at the edge."""

from __future__ import annotations

from dataclasses import dataclass

from seqserve.client.types import DecodingOptions as ClientDecodingOptions
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.repository.config import DecodingDefaults, Limits


@dataclass(frozen=True)
class DecodingOptions(ClientDecodingOptions):
    """The client's options (seqserve.client.types) plus the server-side checks."""

    def resolve(self, defaults: DecodingDefaults, limits: Limits) -> ResolvedOptions:
        """Fill unset fields from the model's defaults and check every limit."""
        beam = defaults.beam_size if self.beam_size is None else self.beam_size
        n_best = defaults.n_best if self.n_best is None else self.n_best
        penalty = defaults.length_penalty if self.length_penalty is None else self.length_penalty
        max_len = defaults.max_length if self.max_length is None else self.max_length
        min_len = defaults.min_length if self.min_length is None else self.min_length
        if not 1 <= beam <= limits.max_beam_size:
            raise InvalidArgumentError(
                f"beam_size must be in [1, {limits.max_beam_size}] (max_beam_size), got {beam}"
            )
        if not 1 <= n_best <= beam:
            raise InvalidArgumentError(
                f"n_best must be in [1, beam_size={beam}], got {n_best}"
            )
        if not 0.0 <= penalty <= 10.0:
            raise InvalidArgumentError(f"length_penalty must be in [0, 10], got {penalty}")
        if not 1 <= max_len <= limits.max_output_length:
            raise InvalidArgumentError(
                f"max_length must be in [1, {limits.max_output_length}] "
                f"(max_output_length), got {max_len}"
            )
        if not 0 <= min_len <= max_len:
            raise InvalidArgumentError(
                f"min_length must be in [0, max_length={max_len}], got {min_len}"
            )
        return ResolvedOptions(beam, n_best, float(penalty), max_len, min_len, self.return_scores)


@dataclass(frozen=True)
class ResolvedOptions:
    """Decoding options with every field set and checked."""

    beam_size: int
    n_best: int
    length_penalty: float
    max_length: int
    min_length: int
    return_scores: bool
