"""`seqserve train tagger ...` and `seqserve train captioner ...` (the translator keeps
the plain `seqserve train --corpus ...` form). Parsers are built on call."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from seqserve.server.kinds import subcommands

KINDS = tuple(subcommands("train"))
"""Kinds with a `seqserve train <kind>` form (KindSpec.train in server/kinds/)."""


def _tagger(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="seqserve train tagger",
        description="Train a BiLSTM part-of-speech tagger on CoNLL-U (UPOS).",
    )
    p.add_argument("--data", default="turkish-treebanks",
                   help="turkish-treebanks (PyPI, default) | a directory of .conllu files "
                        "(UD *-train/-dev/-test names keep their split) | FILE[,FILE...]")
    p.add_argument("--out", required=True, type=Path, help="training directory")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--max-minutes", type=float, default=3.0, help="training time budget")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--hidden", type=int, default=128, help="LSTM size per direction")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = p.parse_args(argv)
    from seqserve.models.train_tagger import TaggerTrainConfig, train_tagger

    try:
        run = train_tagger(TaggerTrainConfig(
            out=args.out, data=args.data, epochs=args.epochs, max_minutes=args.max_minutes,
            seed=args.seed, hidden=args.hidden, threads=args.threads,
        ))
    except ValueError as exc:
        print(f"seqserve train tagger: {exc}", file=sys.stderr)
        return 2
    print(f"done: {len(run.epochs)} epoch(s), UPOS accuracy on the test split "
          f"{run.test_accuracy:.2%}; run in {run.out}")
    return 0


def _captioner(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="seqserve train captioner",
        description="Train a CNN+LSTM captioner on procedurally rendered scenes.",
    )
    p.add_argument("--out", required=True, type=Path, help="training directory")
    p.add_argument("--train-scenes", type=int, default=3000, help="fresh scenes per epoch")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--max-minutes", type=float, default=4.0, help="training time budget")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    args = p.parse_args(argv)
    from seqserve.models.train_captioner import CaptionerTrainConfig, train_captioner

    run = train_captioner(CaptionerTrainConfig(
        out=args.out, train_scenes=args.train_scenes, epochs=args.epochs,
        max_minutes=args.max_minutes, seed=args.seed, threads=args.threads,
    ))
    print(f"done: {len(run.epochs)} epoch(s), held-out greedy BLEU-4 {run.test_bleu:.2f}; "
          f"run in {run.out}")
    return 0


def main(kind: str, argv: list[str]) -> int:
    # As in models/cli.py: idle OpenMP workers sleep on this shared machine; set
    # before torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return _tagger(argv) if kind == "tagger" else _captioner(argv)
