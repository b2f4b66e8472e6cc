"""`seqserve train --corpus charlm|co2`: the streaming models, with the shared flags."""

from __future__ import annotations

import argparse
import json

from seqserve.models.streaming.train import StreamTrainConfig, train_streaming


def train_streaming_cli(args: argparse.Namespace) -> int:
    cfg = StreamTrainConfig(kind=args.corpus, out=args.out, seed=args.seed, threads=args.threads)
    for flag, attr in (("max_minutes", "max_minutes"), ("hidden", "hidden"),
                       ("layers", "layers"), ("batch_size", "batch_size"), ("lr", "lr"),
                       ("emb", "emb"), ("vocab_size", "vocab_size")):
        value = getattr(args, flag, None)
        if value is not None:
            setattr(cfg, attr, value)
    if args.out.exists() and (args.out / "run.json").exists():
        print(f"seqserve train: {args.out} already holds a run", flush=True)
        return 2
    run = train_streaming(cfg)
    print(json.dumps(run["metrics"], indent=1))
    print(f"done: {run['kind']} model in {args.out}")
    return 0
