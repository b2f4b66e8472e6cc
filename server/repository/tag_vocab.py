"""Token -> ids for tagger graphs: the one featurisation shared by training and serving.

models/ imports this module too, so the ids a model was trained on are the
ids the server feeds it (no second copy of the rules to drift apart).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

PAD = 0
UNK = 1
SPECIALS = ("<pad>", "<unk>")


def clip_chars(form: str, max_chars: int) -> str:
    """Long tokens keep their start and their end: prefixes and suffixes carry
    most of the part-of-speech signal (Turkish suffixes especially)."""
    if len(form) <= max_chars:
        return form
    head = max_chars // 2
    return form[:head] + form[len(form) - (max_chars - head) :]


class TagVocab:
    """Word, character and label tables; ids 0 and 1 of words/chars are PAD and UNK."""

    def __init__(
        self, words: list[str], chars: list[str], labels: list[str],
        lowercase: bool = True, max_chars: int = 16,
    ) -> None:
        self.words, self.chars, self.labels = list(words), list(chars), list(labels)
        self.lowercase, self.max_chars = lowercase, max_chars
        self._word_ids = {w: i for i, w in enumerate(self.words)}
        self._char_ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def load(cls, path: Path, *, lowercase: bool = True, max_chars: int = 16) -> TagVocab:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(raw["words"], raw["chars"], raw["labels"], lowercase, max_chars)

    def save(self, path: Path) -> None:
        data = {"words": self.words, "chars": self.chars, "labels": self.labels}
        Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    def word_id(self, form: str) -> int:
        key = form.lower() if self.lowercase else form
        return self._word_ids.get(key, UNK)

    def char_ids(self, form: str) -> list[int]:
        table = self._char_ids
        return [table.get(ch, UNK) for ch in clip_chars(form, self.max_chars)]

    def batch(self, sentences: Sequence[Sequence[str]]) -> tuple[np.ndarray, ...]:
        """(tokens [B,T], chars [B,T,C], lengths [B]) int64, padded with PAD after each row."""
        lengths = np.array([len(s) for s in sentences], dtype=np.int64)
        width = int(lengths.max()) if len(sentences) else 0
        char_width = max(
            (min(len(t), self.max_chars) for s in sentences for t in s), default=1
        )
        tokens = np.zeros((len(sentences), width), dtype=np.int64)
        chars = np.zeros((len(sentences), width, max(char_width, 1)), dtype=np.int64)
        for row, sentence in enumerate(sentences):
            for col, form in enumerate(sentence):
                tokens[row, col] = self.word_id(form)
                ids = self.char_ids(form)
                chars[row, col, : len(ids)] = ids
        return tokens, chars, lengths
