"""`seqserve export`: a training run directory -> a verified model version.

The parser is built inside main() (nothing happens at import time), so the
top-level CLI can import this module cheaply and hand it the remaining argv.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from seqserve.export.quantize_cli import add_arguments as add_quantize_arguments
from seqserve.export.quantize_cli import run_quantized
from seqserve.server.kinds import resolve, subcommands
from seqserve.server.repository.config import MANIFEST_FILE


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seqserve export",
        description="Export a trained seq2seq run to ONNX, verify it, and publish a model version.",
    )
    p.add_argument("--run", type=Path, required=True, help="training run directory")
    p.add_argument("--model-repository", type=Path, required=True, help="repository root")
    p.add_argument("--name", required=True, help="model name (directory under the repository)")
    p.add_argument("--version", type=int, default=None, help="default: next free number")
    p.add_argument(
        "--bleu-pairs", type=int, default=1000, help="held-out pairs for BLEU (default 1000)"
    )
    p.add_argument("--skip-bleu", action="store_true", help="skip the BLEU measurement")
    p.add_argument(
        "--verify-sentences", type=int, default=50, help="held-out sentences decoded both ways"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress and exporter output")
    add_quantize_arguments(p)
    return p


def _print_report(manifest: dict[str, Any]) -> None:
    for graph, report in manifest["parity"].items():
        diffs = ", ".join(f"{k}={v:.2e}" for k, v in report["max_abs_diff"].items())
        exporter = manifest["exporter"][graph]
        print(f"parity  {graph:8s} ({exporter}): max |ORT - torch| {diffs}")
        if report.get("topk_ids_compared"):
            print(
                f"        topk_ids: {report['topk_ids_mismatched']} mismatched of "
                f"{report['topk_ids_compared']} compared (near-ties excluded)"
            )
    verification = manifest["beam_verification"]
    if "skipped" in verification:
        print(f"verify  skipped: {verification['skipped']}")
    for label, check in verification.items():
        if label == "skipped":
            continue
        print(
            f"verify  {label:8s}: {check['identical']}/{check['sentences']} identical, "
            f"max score diff {check['max_score_diff']:.2e}"
        )
    quality = manifest["quality"]
    if "skipped" in quality:
        print(f"quality skipped: {quality['skipped']}")
    for label, figures in quality.items():
        if isinstance(figures, dict):
            print(
                f"quality {label:8s}: BLEU {figures['bleu']:.2f}, exact match "
                f"{figures['exact_match']:.1%} on {quality['pairs']} pairs "
                f"({figures['sentences_per_s']} sentences/s)"
            )


def main(argv: list[str]) -> int:
    entries = subcommands("export")  # seqserve export tagger|captioner ... (the kind registry)
    if argv[:1] and argv[0] in entries:
        return int(resolve(entries[argv[0]])(argv[0], argv[1:]))
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # onnxscript's optimiser logs every pass at INFO; it says nothing a user acts on.
    for noisy in ("onnxscript", "onnx_ir"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not args.verbose:
        # The engine warns when CUDA is unavailable, which does not matter for
        # checks that run on CPU anyway.
        logging.getLogger("seqserve.server.runtime").setLevel(logging.ERROR)

    from seqserve.export.streaming import export_streaming_cli, is_streaming_run

    if is_streaming_run(args.run):  # models/streaming runs (charlm, co2) carry run.json
        if args.quantize:
            from seqserve.export.quantize import streaming_measure
            from seqserve.export.streaming import export_streaming_run

            return run_quantized(
                args, lambda scratch: export_streaming_run(args.run, scratch, args.name, 1),
                streaming_measure(args.run),
            )
        return export_streaming_cli(args.run, args.model_repository, args.name, args.version)
    from seqserve.export.api import export_run  # torch import: only once arguments are valid

    if args.quantize:
        from seqserve.export.quantize import seq2seq_measure
        from seqserve.export.run_dir import load_run

        held_out = load_run(args.run).held_out
        pairs = held_out[: max(args.bleu_pairs, 1)]
        return run_quantized(
            args,
            lambda scratch: export_run(args.run, scratch, args.name, 1,
                                       bleu_pairs=0 if args.skip_bleu else args.bleu_pairs,
                                       verify_count=args.verify_sentences),
            seq2seq_measure(pairs),
            # Calibrate on held-out sentences after the BLEU ones where there are any.
            [s for s, _ in (held_out[len(pairs):][:64] or held_out[:64])],
        )

    try:
        version_dir = export_run(
            args.run,
            args.model_repository,
            args.name,
            args.version,
            bleu_pairs=0 if args.skip_bleu else args.bleu_pairs,
            verify_count=args.verify_sentences,
        )
    except Exception as exc:  # report any failed check as one line, exit non-zero
        print(f"export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.verbose:
            raise
        return 1
    _print_report(json.loads((version_dir / MANIFEST_FILE).read_text()))
    print(f"published {version_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
