"""Per-request decoding options: one object per call, validated at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field

from seqserve.client.types import DecodingOptions as ClientDecodingOptions
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.repository.config import DecodingDefaults, Limits

# Limits that every model shares; a model's config may lower them.
MAX_TEMPERATURE = 100.0
MAX_REPETITION_PENALTY = 10.0


@dataclass(frozen=True)
class DecodingOptions(ClientDecodingOptions):
    """The client's options (seqserve.client.types) plus the server-side checks."""

    def resolve(self, defaults: DecodingDefaults, limits: Limits) -> ResolvedOptions:
        """Fill unset fields from the model's defaults and check every limit."""
        beam = defaults.beam_size if self.beam_size is None else self.beam_size
        n_best = defaults.n_best if self.n_best is None else self.n_best
        topk = _pick(self.sampling_topk, defaults.sampling_topk)
        penalty = defaults.length_penalty if self.length_penalty is None else self.length_penalty
        max_len = defaults.max_length if self.max_length is None else self.max_length
        min_len = defaults.min_length if self.min_length is None else self.min_length
        topp = _pick(self.sampling_topp, defaults.sampling_topp)
        temperature = _pick(self.sampling_temperature, defaults.sampling_temperature)
        repetition = _pick(self.repetition_penalty, defaults.repetition_penalty)
        ngram = _pick(self.no_repeat_ngram_size, defaults.no_repeat_ngram_size)
        sampling = topk != 1
        independent = sampling or self.return_alternatives
        if independent and self.beam_size is None:
            beam = 1  # the model's default beam does not apply to per-row decoding
        if not 1 <= beam <= limits.max_beam_size:
            raise InvalidArgumentError(
                f"beam_size must be in [1, {limits.max_beam_size}] (max_beam_size), got {beam}"
            )
        if independent and beam != 1:
            what = "sampling (sampling_topk != 1)" if sampling else "return_alternatives"
            raise InvalidArgumentError(
                f"{what} needs beam_size 1 (use n_best for several hypotheses), got {beam}"
            )
        if independent:
            if not 1 <= n_best <= limits.max_beam_size:
                raise InvalidArgumentError(
                    f"n_best must be in [1, {limits.max_beam_size}] (max_beam_size) "
                    f"when sampling or returning alternatives, got {n_best}"
                )
        elif not 1 <= n_best <= beam:
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
        if topk < 0:
            raise InvalidArgumentError(
                f"sampling_topk must be >= 0 (0 = whole vocabulary, 1 = no sampling), got {topk}"
            )
        if not 0.0 < topp <= 1.0:
            raise InvalidArgumentError(f"sampling_topp must be in (0, 1], got {topp}")
        if not 0.0 < temperature <= MAX_TEMPERATURE:
            raise InvalidArgumentError(
                f"sampling_temperature must be in (0, {MAX_TEMPERATURE:g}], got {temperature}"
            )
        if not 0.0 < repetition <= MAX_REPETITION_PENALTY:
            raise InvalidArgumentError(
                f"repetition_penalty must be in (0, {MAX_REPETITION_PENALTY:g}], got {repetition}"
            )
        if not 0 <= ngram <= limits.max_ngram_size:
            raise InvalidArgumentError(
                f"no_repeat_ngram_size must be in [0, {limits.max_ngram_size}] "
                f"(max_ngram_size), got {ngram}"
            )
        if len(self.suppress_sequences) > limits.max_suppressed_sequences:
            raise InvalidArgumentError(
                f"{len(self.suppress_sequences)} suppress_sequences exceed "
                f"max_suppressed_sequences={limits.max_suppressed_sequences}"
            )
        for index, text in enumerate(self.suppress_sequences):
            if not text.strip():
                raise InvalidArgumentError(f"suppress_sequences[{index}] is empty")
        if self.seed is not None and not 0 <= self.seed < 2**64:
            raise InvalidArgumentError(f"seed must be in [0, 2**64), got {self.seed}")
        return ResolvedOptions(
            beam, n_best, float(penalty), max_len, min_len, self.return_scores,
            sampling_topk=int(topk), sampling_topp=float(topp),
            sampling_temperature=float(temperature), seed=self.seed,
            repetition_penalty=float(repetition), no_repeat_ngram_size=int(ngram),
            suppress_texts=tuple(self.suppress_sequences),
            prefix_texts=tuple(self.target_prefix),
            return_alternatives=self.return_alternatives,
            return_attention=self.return_attention,
        )


def _pick(value, default):  # type: ignore[no-untyped-def]
    return default if value is None else value


@dataclass(frozen=True)
class ResolvedOptions:
    """Decoding options with every field set and checked.

    prefix_tokens / suppress_tokens hold token ids: the model fills them from
    prefix_texts / suppress_texts with its own tokenizer (see with_tokens).
    """

    beam_size: int
    n_best: int
    length_penalty: float
    max_length: int
    min_length: int
    return_scores: bool
    sampling_topk: int = 1
    sampling_topp: float = 1.0
    sampling_temperature: float = 1.0
    seed: int | None = None
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    suppress_texts: tuple[str, ...] = ()
    prefix_texts: tuple[str, ...] = ()
    return_alternatives: bool = False
    return_attention: bool = False
    prefix_tokens: tuple[tuple[int, ...], ...] = ()
    """Empty, one for every sentence, or one per sentence."""
    suppress_tokens: tuple[tuple[int, ...], ...] = field(default=())

    @property
    def sampling(self) -> bool:
        return self.sampling_topk != 1

    @property
    def independent_rows(self) -> bool:
        """Rows of a sentence never mix: each is its own greedy or sampled hypothesis."""
        return self.sampling or self.return_alternatives

    @property
    def rows(self) -> int:
        """Decoder rows per sentence."""
        return self.n_best if self.independent_rows else self.beam_size

    @property
    def needs_full_distribution(self) -> bool:
        """True when a rule needs every token's log prob, not just the graph's top-k."""
        return (
            self.sampling or self.repetition_penalty != 1.0 or self.no_repeat_ngram_size > 0
            or bool(self.suppress_tokens) or any(self.prefix_tokens)
            or self.return_alternatives
        )

    def prefix_for(self, index: int) -> tuple[int, ...]:
        if not self.prefix_tokens:
            return ()
        if len(self.prefix_tokens) == 1:
            return self.prefix_tokens[0]
        return self.prefix_tokens[index]
