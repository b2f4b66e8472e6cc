"""Beam-search equivalence: the served engine over the ONNX graphs vs the PyTorch reference.

Parity proves one decoder step right; this proves the whole decode right: the
engine's batching of many sentences with padding, the memory gather by row,
reordering of state by parent, EOS/min/max-length handling and the n-best
ranking. Both sides decode the same source ids with the same resolved options;
a sentence counts as identical when every n-best token sequence matches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from seqserve.export.contract import Seq2SeqModule
from seqserve.export.reference_beam import BeamOptions, RefHypothesis
from seqserve.export.torch_step import reference_decode
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import SentenceResult
from seqserve.server.repository.config import ModelConfig, load_config

VERIFY_BEAM = 4


def default_checks(config: ModelConfig) -> dict[str, DecodingOptions]:
    """Beam 4 with the full n-best, and greedy: the two paths an engine bug hides in.
    The beam is capped by the model's max_beam_size so a strict config still verifies."""
    beam = min(VERIFY_BEAM, config.limits.max_beam_size)
    return {
        f"beam{beam}": DecodingOptions(beam_size=beam, n_best=beam),
        "greedy": DecodingOptions(beam_size=1, n_best=1),
    }


MAX_REPORTED_MISMATCHES = 5


class VerificationError(RuntimeError):
    """The served engine and the reference decoded some sentence differently."""


class IdDecoder(Protocol):
    """What verification needs of the served engine (OfflineTranslator provides it)."""

    def decode_ids(
        self, src_ids: list[list[int]], options: DecodingOptions
    ) -> list[SentenceResult]: ...

    def close(self) -> None: ...


DecoderFactory = Callable[[Path], IdDecoder]


def offline_translator(version_dir: Path) -> IdDecoder:
    # Imported here so that unit tests with a fake engine need no graphs loaded.
    from seqserve.server.engine.offline import OfflineTranslator

    return OfflineTranslator(version_dir)


@dataclass
class CheckResult:
    label: str
    options: dict[str, Any]
    """The resolved options both sides used."""
    sentences: int = 0
    identical: int = 0
    max_score_diff: float = 0.0
    """Largest |served - reference| ranking score over hypotheses of identical sentences."""
    max_log_prob_diff: float = 0.0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    """The first few differing sentences, with both n-best lists."""

    @property
    def ok(self) -> bool:
        return self.identical == self.sentences

    def summary(self) -> str:
        return (
            f"{self.label}: {self.identical}/{self.sentences} identical, "
            f"max score diff {self.max_score_diff:.2e}"
        )


def beam_options(config: ModelConfig, options: DecodingOptions) -> BeamOptions:
    """The model's defaults filled in exactly as the engine fills them."""
    r = options.resolve(config.decoding, config.limits)
    return BeamOptions(
        beam_size=r.beam_size,
        n_best=r.n_best,
        length_penalty=r.length_penalty,
        max_length=r.max_length,
        min_length=r.min_length,
        bos_id=config.tokenizer.bos_id,
        eos_id=config.tokenizer.eos_id,
    )


def compare_sentence(
    check: CheckResult,
    index: int,
    src_ids: Sequence[int],
    served: SentenceResult,
    reference: list[RefHypothesis],
) -> None:
    """Add one sentence's comparison to `check`."""
    check.sentences += 1
    served_tokens = [list(h.tokens) for h in served.hypotheses]
    reference_tokens = [h.tokens for h in reference]
    if served_tokens == reference_tokens:
        check.identical += 1
        for s, r in zip(served.hypotheses, reference, strict=True):
            check.max_score_diff = max(check.max_score_diff, abs(s.score - r.score))
            check.max_log_prob_diff = max(check.max_log_prob_diff, abs(s.log_prob - r.log_prob))
    elif len(check.mismatches) < MAX_REPORTED_MISMATCHES:
        check.mismatches.append(
            {
                "sentence": index,
                "src_ids": list(src_ids),
                "served": [
                    {"tokens": list(h.tokens), "score": h.score} for h in served.hypotheses
                ],
                "reference": [{"tokens": h.tokens, "score": h.score} for h in reference],
            }
        )


def verify_beam_search(
    version_dir: Path,
    module: Seq2SeqModule,
    sentences: Sequence[Sequence[int]],
    *,
    checks: dict[str, DecodingOptions] | None = None,
    decoder_factory: DecoderFactory = offline_translator,
) -> list[CheckResult]:
    """Decode `sentences` (source ids, EOS included) both ways under each check's options.

    `module` must be in eval mode (dropout off), as it was when exported.
    """
    config = load_config(version_dir)
    checks = checks or default_checks(config)
    served: dict[str, list[SentenceResult]] = {}
    engine = decoder_factory(version_dir)
    try:
        for label, options in checks.items():
            served[label] = engine.decode_ids([list(s) for s in sentences], options)
    finally:
        # Closed before the reference runs: the engine's ONNX Runtime threads may
        # spin between calls and would compete with torch on a small machine.
        engine.close()
    results: list[CheckResult] = []
    for label, options in checks.items():
        ref_options = beam_options(config, options)
        check = CheckResult(label, asdict(ref_options))
        if len(served[label]) != len(sentences):
            raise VerificationError(
                f"{label}: engine returned {len(served[label])} results "
                f"for {len(sentences)} inputs"
            )
        for i, (src, result) in enumerate(zip(sentences, served[label], strict=True)):
            compare_sentence(check, i, src, result, reference_decode(module, src, ref_options))
        results.append(check)
    return results


def to_json(results: list[CheckResult]) -> dict[str, Any]:
    return {r.label: {**asdict(r), "ok": r.ok} for r in results}
