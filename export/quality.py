"""Translation quality through the served graphs: BLEU and exact match on held-out pairs.

Measured with the engine (OfflineTranslator.translate: the server's tokenizer,
scheduler and beam search), so the figure in the manifest is the one clients
get, not the PyTorch model's.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import sacrebleu

from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import SentenceResult
from seqserve.server.repository.config import load_config

QUALITY_BEAM = 5


def default_settings(version_dir: Path) -> dict[str, DecodingOptions]:
    """Greedy and beam 5 (capped by the model's max_beam_size), one hypothesis each."""
    beam = min(QUALITY_BEAM, load_config(version_dir).limits.max_beam_size)
    return {
        "greedy": DecodingOptions(beam_size=1, n_best=1),
        f"beam{beam}": DecodingOptions(beam_size=beam, n_best=1),
    }


class TextTranslator(Protocol):
    def translate(self, sentences: list[str], options: DecodingOptions) -> list[SentenceResult]: ...

    def close(self) -> None: ...


def _open_translator(version_dir: Path) -> TextTranslator:
    from seqserve.server.engine.offline import OfflineTranslator

    return OfflineTranslator(version_dir)


def score(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus BLEU (sacrebleu defaults: 13a tokenisation) and the exact-match rate."""
    # What sacrebleu.corpus_bleu does, keeping the metric object for its signature.
    metric = sacrebleu.BLEU()
    bleu = metric.corpus_score(list(hypotheses), [list(references)])
    exact = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references, strict=True))
    return {
        "bleu": round(bleu.score, 2),
        "exact_match": round(exact / max(len(references), 1), 4),
        # The signature (tokeniser, smoothing, version) makes the figure reproducible.
        "signature": str(metric.get_signature()),
    }


def measure_quality(
    version_dir: Path,
    pairs: Sequence[tuple[str, str]],
    *,
    settings: dict[str, DecodingOptions] | None = None,
    translator: TextTranslator | None = None,
) -> dict[str, Any]:
    """{"pairs": n, "<setting>": {"bleu", "exact_match", "seconds", "sentences_per_s"}}."""
    sources = [s for s, _ in pairs]
    references = [t for _, t in pairs]
    engine = translator or _open_translator(version_dir)
    out: dict[str, Any] = {"pairs": len(pairs)}
    try:
        for label, options in (settings or default_settings(version_dir)).items():
            start = time.perf_counter()
            results = engine.translate(sources, options)
            seconds = time.perf_counter() - start
            texts = [r.hypotheses[0].text if r.hypotheses else "" for r in results]
            out[label] = {
                **score(texts, references),
                "seconds": round(seconds, 2),
                "sentences_per_s": round(len(sources) / seconds, 1) if seconds > 0 else None,
            }
    finally:
        if translator is None:
            engine.close()
    return out
