"""`seqserve export ... --quantize int8 [--max-quality-drop X]` for every kind;
`--quantize int8-invariant` (translators only: invariant_int8.py) keeps results
independent of batch-mates.

The fp32 export runs first, into a scratch repository, with all its checks;
then quantize.quantize_version publishes the int8 version into the real
repository, or refuses it (exit 1, one line naming the drop and the bound).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from seqserve.server.repository.config import MANIFEST_FILE

INVARIANT = "int8-invariant"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quantize", choices=["int8", INVARIANT], default=None,
                        help="publish int8 weights (ONNX Runtime dynamic quantization); "
                             f"{INVARIANT}: translators only, statically quantized decoder "
                             "products, LSTMs and encoder fp32, batching-invariant")
    parser.add_argument(
        "--max-quality-drop", type=float, default=None,
        help="refuse int8 if quality drops by more than this, in the kind's metric units "
             "(BLEU points, UPOS accuracy points, bits/char, MAE); default per kind",
    )


def run_quantized(
    args: argparse.Namespace,
    export_fp32: Callable[[Path], Path],
    measure: Callable[[Path], float],
    calibration_sources: list[str] | None = None,
) -> int:
    from seqserve.export.quantize import QualityDropError, quantize_version

    extra: dict = {}
    if args.quantize == INVARIANT:
        if not calibration_sources:
            print(f"export failed: --quantize {INVARIANT} is for translators with held-out "
                  "sentences to calibrate on; use --quantize int8", file=sys.stderr)
            return 1
        from seqserve.export.invariant_int8 import METHOD, invariant_quantizer

        extra = {"quantizer": invariant_quantizer(calibration_sources), "method": METHOD}

    try:
        with tempfile.TemporaryDirectory(prefix="seqserve-fp32-") as scratch:
            fp32_dir = export_fp32(Path(scratch))
            final = quantize_version(
                fp32_dir, args.model_repository, args.name, args.version, measure,
                max_drop=args.max_quality_drop, **extra,
            )
    except QualityDropError as exc:
        print(f"export refused: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # one line per failed check, like the fp32 export
        print(f"export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    report = json.loads((final / MANIFEST_FILE).read_text())["quantization"]
    print(f"int8    {report['metric']}: fp32 {report['fp32']} -> int8 {report['int8']} "
          f"(drop {report['drop']}, bound {report['max_quality_drop']})")
    for graph, ops in report["ops"].items():
        print(f"int8    {graph}: {ops['before']} -> {ops['after']}")
    print(f"published {final}")
    return 0
