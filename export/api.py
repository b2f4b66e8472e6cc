"""One call from a trained module to a served model version.

export_seq2seq: export both graphs (first exporter that passes the signature
and parity checks), copy the tokenizers, write and re-read config.yaml, verify
the served beam search against the PyTorch reference, measure BLEU, write the
manifest, and only then publish the version directory atomically. Any failed
check raises and leaves the repository untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import onnx
import sentencepiece as spm
from torch import nn

from seqserve.export.contract import Seq2SeqModule
from seqserve.export.graph_checks import describe
from seqserve.export.graphs import EXPORTERS, build_graphs
from seqserve.export.inputs import probe_dims
from seqserve.export.manifest import check_manifest, write_manifest
from seqserve.export.onnx_export import DEFAULT_OPSET, Exporter
from seqserve.export.quality import measure_quality
from seqserve.export.run_dir import load_run
from seqserve.export.verify import VerificationError, verify_beam_search
from seqserve.export.verify import to_json as verification_json
from seqserve.export.writer import build_config, copy_tokenizers, staged_version, write_config

log = logging.getLogger(__name__)


def _vocab_size(path: Path) -> int:
    return spm.SentencePieceProcessor(model_file=str(path)).get_piece_size()


def export_seq2seq(
    module: Seq2SeqModule,
    source_sp_path: Path,
    target_sp_path: Path,
    repository: Path,
    name: str,
    version: int | None = None,
    *,
    config_overrides: dict[str, Any] | None = None,
    verify_sentences: Sequence[Sequence[int]] | None = None,
    test_pairs: Sequence[tuple[str, str]] | None = None,
    training: dict[str, Any] | None = None,
    exporters: tuple[Exporter, ...] = EXPORTERS,
    opset: int = DEFAULT_OPSET,
) -> Path:
    """Write `repository/name/<version>/` and return its path.

    verify_sentences: source ids (EOS included) decoded by the engine and by the
      reference beam search (beam 4 and greedy); export fails unless all match.
      None skips the check (recorded as skipped in the manifest).
    test_pairs: (source text, reference text) for BLEU through the engine; None skips.
    training: metrics to record in the manifest (export_run passes the checkpoint's).
    """
    if isinstance(module, nn.Module):
        module.eval()  # dropout off: export, parity and the reference all need eval mode
    config = build_config(name, config_overrides)  # fail on a bad override before slow work
    source_sp_path, target_sp_path = Path(source_sp_path), Path(target_sp_path)
    dims = probe_dims(module, _vocab_size(source_sp_path))
    target_vocab = _vocab_size(target_sp_path)
    if dims.target_vocab != target_vocab:
        raise ValueError(
            f"decode_step returns {dims.target_vocab} logits but {target_sp_path} "
            f"has {target_vocab} pieces; the engine needs them equal"
        )

    with staged_version(Path(repository), name, version) as staged:
        log.info("exporting %s version %d into %s", name, staged.version, staged.path)
        graphs = build_graphs(
            module, staged.path, config.graphs.tensors, dims,
            encoder_file=config.graphs.encoder, decoder_file=config.graphs.decoder,
            exporters=exporters, opset=opset,
        )  # fmt: skip
        for build in graphs.values():
            log.info("%s (%s exporter) %s", build.name, build.exporter, build.parity.summary())
        copy_tokenizers(staged.path, source_sp_path, target_sp_path, config)
        write_config(staged.path, config)

        verification: dict[str, Any] = {"skipped": "no verify_sentences given"}
        if verify_sentences:
            checks = verify_beam_search(staged.path, module, verify_sentences)
            verification = verification_json(checks)
            for check in checks:
                log.info("beam verification %s", check.summary())
            failed = [c for c in checks if not c.ok]
            if failed:
                detail = "; ".join(f"{c.summary()}, first: {c.mismatches[:1]}" for c in failed)
                raise VerificationError(f"served beam search differs from reference: {detail}")

        quality: dict[str, Any] = {"skipped": "no test_pairs given"}
        if test_pairs:
            quality = measure_quality(staged.path, list(test_pairs))
            log.info("quality %s", quality)

        write_manifest(
            staged.path,
            {
                "model": {
                    "name": name,
                    "version": staged.version,
                    "kind": config.kind,
                    "dims": asdict(dims),
                },
                "exporter": {g: b.exporter for g, b in graphs.items()},
                "graphs": {
                    g: {
                        "file": b.file,
                        "opset": b.opset,
                        "signature": describe(
                            onnx.load(str(staged.path / b.file), load_external_data=False)
                        ),
                        "failed_attempts": b.failed_attempts,
                    }
                    for g, b in graphs.items()
                },
                "parity": {g: b.parity.to_json() for g, b in graphs.items()},
                "beam_verification": verification,
                "training": training or {},
                "quality": quality,
            },
        )
        problems = check_manifest(staged.path)
        if problems:
            raise RuntimeError(f"manifest does not match the files: {problems}")
        final = staged.publish()
    log.info("published %s", final)
    return final


def export_run(
    run_dir: Path,
    repository: Path,
    name: str,
    version: int | None = None,
    bleu_pairs: int = 1000,
    *,
    verify_count: int = 50,
    config_overrides: dict[str, Any] | None = None,
) -> Path:
    """Export a models/ training run directory (checkpoint.pt, *.model, test.tsv, valid.tsv).

    The first `verify_count` held-out sentences are decoded both ways; the first
    `bleu_pairs` held-out pairs (0 skips) give the BLEU figures.
    """
    run = load_run(Path(run_dir))
    held_out = run.held_out
    return export_seq2seq(
        run.module,
        run.source_sp_path,
        run.target_sp_path,
        repository,
        name,
        version,
        config_overrides={**run.config_overrides, **(config_overrides or {})},
        verify_sentences=[run.encode_source(src) for src, _ in held_out[:verify_count]],
        test_pairs=held_out[:bleu_pairs] if bleu_pairs > 0 else None,
        training=run.training,
    )
