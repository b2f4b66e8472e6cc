"""Fixtures for export tests: tiny SentencePiece models and a tiny contract module."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
import sentencepiece as spm

from tests.export.tiny_module import TinySeq2Seq

_SOURCE_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_TARGET_WORDS = ["un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"]


@dataclass(frozen=True)
class TinyCorpus:
    source_model: Path
    target_model: Path
    pairs: list[tuple[str, str]]
    source_vocab: int
    target_vocab: int

    def encode_source(self, text: str) -> list[int]:
        sp = spm.SentencePieceProcessor(model_file=str(self.source_model))
        return [*sp.encode(text, out_type=int), 2]  # EOS ends every source sentence


def _train(sentences: list[str], path: Path) -> int:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        vocab_size=20,
        model_type="word",
        pad_id=0,
        bos_id=1,
        eos_id=2,
        unk_id=3,
        hard_vocab_limit=False,
        minloglevel=2,
        num_threads=1,
    )
    path.write_bytes(model.getvalue())
    return spm.SentencePieceProcessor(model_file=str(path)).get_piece_size()


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> TinyCorpus:
    rng = random.Random(0)
    pairs = []
    for _ in range(200):
        ids = [rng.randrange(10) for _ in range(rng.randint(1, 6))]
        pairs.append(
            (" ".join(_SOURCE_WORDS[i] for i in ids), " ".join(_TARGET_WORDS[i] for i in ids))
        )
    out = tmp_path_factory.mktemp("spm")
    src_vocab = _train([s for s, _ in pairs], out / "source.model")
    tgt_vocab = _train([t for _, t in pairs], out / "target.model")
    return TinyCorpus(out / "source.model", out / "target.model", pairs, src_vocab, tgt_vocab)


@pytest.fixture(scope="session")
def tiny_module(tiny_corpus: TinyCorpus) -> TinySeq2Seq:
    return TinySeq2Seq(tiny_corpus.source_vocab, tiny_corpus.target_vocab, sharpness=4.0).eval()


@pytest.fixture(scope="session")
def published(
    tiny_module: TinySeq2Seq, tiny_corpus: TinyCorpus, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """export_seq2seq of the tiny module, with verification through the served engine."""
    from seqserve.export.api import export_seq2seq

    repository = tmp_path_factory.mktemp("repository")
    return export_seq2seq(
        tiny_module,
        tiny_corpus.source_model,
        tiny_corpus.target_model,
        repository,
        "tiny",
        config_overrides={"decoding": {"max_length": 20}, "source_language": "en"},
        verify_sentences=[tiny_corpus.encode_source(s) for s, _ in tiny_corpus.pairs[:20]],
        test_pairs=tiny_corpus.pairs[:40],
        training={"final": {"valid_loss": 1.5}},
    )
