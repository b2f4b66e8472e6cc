"""Universal Dependencies CoNLL-U files -> (tokens, UPOS tags) sentences.

Any UD treebank trains with the same command: pass .conllu files or a
directory; `turkish-treebanks` (PyPI) is the built-in offline source. UD's
own train/dev/test files are used as given; otherwise one seeded split.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import conllu

TURKISH = "turkish-treebanks"


@dataclass(frozen=True)
class TaggedSentence:
    tokens: list[str]
    tags: list[str]


@dataclass(frozen=True)
class TagSplits:
    train: list[TaggedSentence]
    valid: list[TaggedSentence]
    test: list[TaggedSentence]


def turkish_treebank_files() -> list[Path]:
    """The package installs its CoNLL-U files as `data/*.conllu` next to its
    module (site-packages/data/), so locate them through its file list."""
    try:
        files = metadata.files(TURKISH) or []
    except metadata.PackageNotFoundError as exc:
        raise ValueError(f"PyPI package {TURKISH!r} is not installed") from exc
    found = sorted(Path(str(f.locate())) for f in files if str(f).endswith(".conllu"))
    if not found:
        raise ValueError(f"{TURKISH}: no .conllu files in the installed package")
    return found


def read_conllu(path: Path, column: str = "upos") -> list[TaggedSentence]:
    """Word tokens only: multiword ranges (1-2) and empty nodes (1.1) carry no UPOS."""
    sentences = []
    with open(path, encoding="utf-8") as f:
        for sentence in conllu.parse_incr(f):
            tokens, tags = [], []
            for token in sentence:
                if not isinstance(token["id"], int):
                    continue
                tokens.append(token["form"])
                tags.append(token[column] or "_")
            if tokens:
                sentences.append(TaggedSentence(tokens, tags))
    return sentences


def resolve_sources(source: str) -> list[Path]:
    """`turkish-treebanks`, a directory of .conllu files, or comma-separated files."""
    if source == TURKISH:
        return turkish_treebank_files()
    paths: list[Path] = []
    for part in source.split(","):
        path = Path(part)
        if path.is_dir():
            paths.extend(sorted(path.glob("*.conllu")))
        elif path.is_file():
            paths.append(path)
        else:
            raise ValueError(f"no such CoNLL-U file or directory: {path}")
    if not paths:
        raise ValueError(f"{source}: no .conllu files found")
    return paths


def _by_role(paths: Iterable[Path]) -> dict[str, list[Path]]:
    roles: dict[str, list[Path]] = {"train": [], "dev": [], "test": [], "other": []}
    for path in paths:
        stem = path.stem.lower()
        role = next((r for r in ("train", "dev", "test") if stem.endswith(f"-{r}")), "other")
        roles[role].append(path)
    return roles


def load_splits(source: str, *, seed: int = 1234, held_out: float = 0.1) -> TagSplits:
    """UD-named train/dev/test files as given; everything else shuffled and split."""
    roles = _by_role(resolve_sources(source))
    if roles["train"] and roles["test"]:
        read = lambda paths: [s for p in paths for s in read_conllu(p)]  # noqa: E731
        train, test = read(roles["train"]), read(roles["test"])
        valid = read(roles["dev"]) or test
        return TagSplits(train, valid, test)
    sentences = [s for p in resolve_sources(source) for s in read_conllu(p)]
    random.Random(seed).shuffle(sentences)
    n = max(1, int(len(sentences) * held_out))
    return TagSplits(sentences[2 * n :], sentences[n : 2 * n], sentences[:n])
