"""SentencePiece models for the source and target sides, with the fixed special ids.

Ids match server/repository/config.py's TokenizerConfig defaults (pad=0, bos=1,
eos=2, unk=3). A source sentence is its subword ids followed by EOS; the decoder
input is BOS + target ids, and the training target is target ids + EOS.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import sentencepiece as spm

from seqserve.models.seq2seq import BOS_ID, EOS_ID, PAD_ID, UNK_ID

SOURCE_MODEL = "source.model"
TARGET_MODEL = "target.model"


def train_sentencepiece(
    sentences: Iterable[str],
    out_file: str | Path,
    vocab_size: int,
    model_type: Literal["unigram", "bpe"] = "unigram",
    seed_sentences: int = 2_000_000,
) -> spm.SentencePieceProcessor:
    """Train a model on `sentences`, write it to `out_file` and return it loaded.

    hard_vocab_limit=False makes vocab_size an upper bound, so a tiny corpus (the
    number-words task) trains instead of failing with "vocab size too large".
    """
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(sentences)),
        model_writer=model,
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=1.0,
        pad_id=PAD_ID,
        bos_id=BOS_ID,
        eos_id=EOS_ID,
        unk_id=UNK_ID,
        hard_vocab_limit=False,
        input_sentence_size=seed_sentences,
        shuffle_input_sentence=False,  # deterministic: same corpus -> same model
        num_threads=2,
        minloglevel=2,
    )
    Path(out_file).write_bytes(model.getvalue())
    return load_sentencepiece(out_file)


def load_sentencepiece(path: str | Path) -> spm.SentencePieceProcessor:
    return spm.SentencePieceProcessor(model_file=str(path))


def encode_source(sp: spm.SentencePieceProcessor, text: str) -> list[int]:
    """Subword ids + EOS, as the server encodes requests."""
    return [*sp.encode(text, out_type=int), EOS_ID]


def encode_target(sp: spm.SentencePieceProcessor, text: str) -> list[int]:
    """Subword ids without specials; add BOS/EOS with `decoder_input`/`decoder_target`."""
    return list(sp.encode(text, out_type=int))


def decoder_input(ids: list[int]) -> list[int]:
    return [BOS_ID, *ids]


def decoder_target(ids: list[int]) -> list[int]:
    return [*ids, EOS_ID]


def decode_target(sp: spm.SentencePieceProcessor, ids: Iterable[int]) -> str:
    """Text of generated ids; stops at the first EOS and ignores BOS/PAD."""
    out: list[int] = []
    for i in ids:
        if i == EOS_ID:
            break
        if i not in (BOS_ID, PAD_ID):
            out.append(int(i))
    return str(sp.decode(out))
