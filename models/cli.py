"""`seqserve train ...`: the top-level console script dispatches here with the remaining argv."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from seqserve.models.corpus import PRESETS
from seqserve.server.kinds import resolve, subcommands

# Streaming models (issue 3): a character LM and the CO2 forecaster.
STREAMING_CORPORA = ("charlm", "co2")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqserve train",
        description="Train an LSTM encoder-decoder translator. Unset sizes take the corpus "
        "preset: "
        + "; ".join(
            f"{name}: vocab {p.vocab_size}, emb {p.emb}, hidden {p.hidden}, layers {p.layers}, "
            f"{p.max_minutes:g} min"
            for name, p in PRESETS.items()
        ),
    )
    parser.add_argument(
        "--corpus", required=True,
        help="libreoffice | numbers | tsv:PATH (source<TAB>target); streaming models: charlm | co2"
    )
    parser.add_argument("--out", required=True, type=Path, help="training directory")
    parser.add_argument("--epochs", type=int, help="total epochs (resumed runs continue to it)")
    parser.add_argument("--max-minutes", type=float, help="training time budget of this run")
    parser.add_argument("--seed", type=int, default=1234, help="data split and init seed")
    parser.add_argument("--vocab-size", type=int, help="SentencePiece vocabulary (each side)")
    parser.add_argument("--emb", type=int, help="embedding size")
    parser.add_argument("--hidden", type=int, help="LSTM size (encoder per direction, decoder)")
    parser.add_argument("--layers", type=int, help="decoder LSTM layers")
    parser.add_argument("--batch-size", type=int, help="sentences per batch")
    parser.add_argument("--lr", type=float, help="Adam learning rate")
    parser.add_argument("--dropout", type=float, help="dropout (training only)")
    parser.add_argument("--max-tokens", type=int, help="skip training pairs longer than this")
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--clip", type=float, default=1.0, help="gradient norm clipping")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--resume", action="store_true", help="continue OUT/checkpoint.pt")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (without the leading 'train'), train, return a process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    entries = subcommands("train")  # seqserve train tagger|captioner ... (the kind registry)
    if argv[:1] and argv[0] in entries:
        return int(resolve(entries[argv[0]])(argv[0], argv[1:]))
    args = _parser().parse_args(argv)
    # Idle OpenMP workers sleep instead of spinning. On a shared 2-core machine
    # spinning workers steal the core the busy one needs: measured here under
    # load, 2 threads ran 39 sentences/s spinning vs 114 passive. libgomp reads
    # this once, when torch loads it, so it must be set before the import below.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Imported here so `seqserve --help` and the serving install never import torch.
    from seqserve.models.data.debian import PackageUnavailableError
    from seqserve.models.train import TrainConfig, train

    if args.corpus in STREAMING_CORPORA:
        from seqserve.models.streaming.cli import train_streaming_cli

        return train_streaming_cli(args)

    config = TrainConfig(
        corpus=args.corpus,
        out=args.out,
        epochs=args.epochs,
        max_minutes=args.max_minutes,
        seed=args.seed,
        vocab_size=args.vocab_size,
        emb=args.emb,
        hidden=args.hidden,
        layers=args.layers,
        batch_size=args.batch_size,
        lr=args.lr,
        dropout=args.dropout,
        max_tokens=args.max_tokens,
        label_smoothing=args.label_smoothing,
        clip=args.clip,
        resume=args.resume,
        progress=not args.no_progress,
        threads=args.threads,
    )
    try:
        result = train(config)
    except (FileExistsError, ValueError, PackageUnavailableError) as exc:
        print(f"seqserve train: {exc}", file=sys.stderr)
        return 2
    last = result.metrics[-1] if result.metrics else None
    if last is not None:
        print(
            f"done: {len(result.metrics)} epoch record(s), valid loss {last.valid_loss:.3f}"
            f"{' (time budget reached)' if result.stopped_by_budget else ''}; "
            f"model in {result.out}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
