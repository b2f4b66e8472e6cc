"""SentencePiece tokenizers of a model directory (source and target sides)."""

from __future__ import annotations

from pathlib import Path

import sentencepiece as spm

from seqserve.server.repository.config import TokenizerConfig


class SubwordTokenizer:
    def __init__(self, model_file: Path) -> None:
        self._sp = spm.SentencePieceProcessor(model_file=str(model_file))
        self.vocab_size = int(self._sp.get_piece_size())

    def encode(self, text: str) -> list[int]:
        return list(self._sp.encode(text, out_type=int))

    def decode(self, ids: list[int]) -> str:
        return str(self._sp.decode(ids))


class PairTokenizer:
    """Source text -> ids (EOS appended, as in training); target ids -> text."""

    def __init__(self, version_dir: Path, config: TokenizerConfig) -> None:
        self.config = config
        self.source = SubwordTokenizer(Path(version_dir) / config.source)
        self.target = SubwordTokenizer(Path(version_dir) / config.target)

    def encode_source(self, text: str) -> list[int]:
        return [*self.source.encode(text), self.config.eos_id]

    def decode_target(self, ids: list[int]) -> str:
        return self.target.decode([i for i in ids if i != self.config.eos_id])
