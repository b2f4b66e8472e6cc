"""`seqserve export tagger ...` and `seqserve export captioner ...`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqserve.export.quantize_cli import add_arguments as add_quantize_arguments
from seqserve.export.quantize_cli import run_quantized
from seqserve.server.kinds import subcommands
from seqserve.server.repository.config import MANIFEST_FILE

KINDS = tuple(subcommands("export"))
"""Kinds with a `seqserve export <kind>` form (KindSpec.export in server/kinds/)."""


def main(kind: str, argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog=f"seqserve export {kind}",
        description=f"Export a trained {kind} run to ONNX, verify it, publish a model version.",
    )
    p.add_argument("--run", type=Path, required=True, help="training run directory")
    p.add_argument("--model-repository", type=Path, required=True, help="repository root")
    p.add_argument("--name", required=True, help="model name (directory under the repository)")
    p.add_argument("--version", type=int, default=None, help="default: next free number")
    p.add_argument("--quality-scenes", type=int, default=300,
                   help="captioner: held-out scenes for BLEU (default 300)")
    add_quantize_arguments(p)
    args = p.parse_args(argv)
    if args.quantize:
        return _quantized(kind, args)
    try:
        if kind == "tagger":
            from seqserve.export.tagger_export import export_tagger

            version_dir = export_tagger(args.run, args.model_repository, args.name, args.version)
        else:
            from seqserve.export.captioner_export import export_captioner

            version_dir = export_captioner(
                args.run, args.model_repository, args.name, args.version,
                quality_scenes=args.quality_scenes,
            )
    except Exception as exc:  # one line per failed check, non-zero exit
        print(f"export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    manifest = json.loads((version_dir / MANIFEST_FILE).read_text())
    print(f"parity  {json.dumps(manifest['parity'])}")
    print(f"quality {json.dumps(manifest['quality'])}")
    print(f"published {version_dir}")
    return 0


def _quantized(kind: str, args: argparse.Namespace) -> int:
    if kind == "tagger":
        from seqserve.export.quantize import tagger_measure
        from seqserve.export.tagger_export import export_tagger

        return run_quantized(
            args, lambda scratch: export_tagger(args.run, scratch, args.name, 1),
            tagger_measure(args.run),
        )
    from seqserve.export.captioner_export import export_captioner
    from seqserve.export.quantize import captioner_measure

    return run_quantized(
        args,
        lambda scratch: export_captioner(args.run, scratch, args.name, 1,
                                         quality_scenes=args.quality_scenes),
        captioner_measure(args.quality_scenes),
    )
