"""Translate held-out sentences with greedy decoding and score them (exact match, BLEU)."""

from __future__ import annotations

from collections.abc import Sequence

import sentencepiece as spm

from seqserve.models.batching import collate
from seqserve.models.data.pairs import Pair
from seqserve.models.greedy import greedy_decode
from seqserve.models.seq2seq import Seq2Seq
from seqserve.models.tokenizer import decode_target, encode_source


def translate(
    model: Seq2Seq,
    source_sp: spm.SentencePieceProcessor,
    target_sp: spm.SentencePieceProcessor,
    sentences: Sequence[str],
    batch_size: int = 64,
) -> list[str]:
    """Greedy translations in input order (sorted by length internally for speed)."""
    encoded = [encode_source(source_sp, s) for s in sentences]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out = [""] * len(encoded)
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        batch = collate([(encoded[i], []) for i in index])
        for i, ids in zip(index, greedy_decode(model, batch.src, batch.src_lengths), strict=True):
            out[i] = decode_target(target_sp, ids)
    return out


def exact_match(hypotheses: Sequence[str], pairs: Sequence[Pair]) -> float:
    """Fraction of hypotheses equal to the reference (whitespace-normalised)."""
    if len(hypotheses) != len(pairs):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(pairs)} references")
    hits = sum(
        " ".join(h.split()) == " ".join(t.split())
        for h, (_, t) in zip(hypotheses, pairs, strict=True)
    )
    return hits / max(len(pairs), 1)


def corpus_bleu(hypotheses: Sequence[str], pairs: Sequence[Pair]) -> float:
    """sacreBLEU (13a tokenisation) against one reference per sentence."""
    import sacrebleu  # training extra only

    return float(sacrebleu.corpus_bleu(list(hypotheses), [[t for _, t in pairs]]).score)
