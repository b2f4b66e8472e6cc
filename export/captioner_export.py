"""A captioner training run -> a verified `kind: captioner` model version.

encoder.onnx (image -> memory, init_h, init_c), decoder.onnx (the seq2seq
decoder-step graph, exported by the translator's own exporter and checked by
its own decoder parity), vocab.json, config.yaml, manifest.json. Quality is
measured through the served engine (ORT graphs + DecodeScheduler + beam
search): BLEU-4 of greedy and beam 5 on held-out scenes.
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from seqserve.export.inputs import ModelDims
from seqserve.export.onnx_export import export_decoder
from seqserve.export.parity import cpu_session, decoder_parity
from seqserve.export.writer import _deep_merge, staged_version
from seqserve.models.captioner import Captioner
from seqserve.models.data.scenes import HELD_OUT, held_out_scenes, train_scenes
from seqserve.models.train_captioner import METRICS, bleu, load_captioner
from seqserve.server.engine.captioner import CaptionerModel
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.repository.captioner_config import CaptionerConfig
from seqserve.server.repository.config import dump_config, load_config
from seqserve.server.repository.image_input import normalise
from seqserve.server.repository.repository import ModelVersion

TOLERANCE = 1e-4


class ImageEncoderGraph(nn.Module):
    def __init__(self, model: Captioner) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.model.encode_images(image)


def export_encoder(model: Captioner, config: CaptionerConfig, path: Path) -> dict[str, Any]:
    """Legacy exporter, batch axis symbolic; parity at batch sizes 1 and 7."""
    pre, t = config.preprocessing, config.graphs.tensors
    example = torch.zeros(5, pre.channels, pre.height, pre.width)
    names = [t.memory, t.init_h, t.init_c]
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            ImageEncoderGraph(model).eval(), (example,), buffer, dynamo=False, opset_version=18,
            input_names=[config.graphs.image], output_names=names,
            dynamic_axes={config.graphs.image: {0: "batch"}, t.memory: {0: "batch"},
                          t.init_h: {1: "batch"}, t.init_c: {1: "batch"}},
        )
    graph = onnx.load_from_string(buffer.getvalue())
    if not graph.graph.input[0].type.tensor_type.shape.dim[0].dim_param:
        raise RuntimeError("encoder batch axis was fixed at export")
    onnx.checker.check_model(graph, full_check=True)
    onnx.save(graph, str(path))
    session = cpu_session(path)
    worst = 0.0
    for batch in (1, 7):
        scenes = held_out_scenes(batch)
        images = np.stack([normalise(s.image.astype(np.float32), pre) for s in scenes])
        got = session.run(names, {config.graphs.image: images})
        with torch.no_grad():
            want = [x.numpy() for x in model.encode_images(torch.from_numpy(images))]
        worst = max(worst, *(float(np.abs(g - w).max()) for g, w in zip(got, want, strict=True)))
    if worst > TOLERANCE:
        raise RuntimeError(f"encoder parity {worst:.2e} over {TOLERANCE}")
    return {"batches": [1, 7], "max_abs_diff": worst, "tolerance": TOLERANCE}


def measure_quality(version_dir: Path, config: CaptionerConfig, scenes: int) -> dict[str, Any]:
    """BLEU-4 of greedy and beam 5 through the served engine on held-out scenes."""
    held_out = held_out_scenes(scenes)
    arrays = [normalise(s.image.astype(np.float32), config.preprocessing) for s in held_out]
    references = [s.caption for s in held_out]
    model = CaptionerModel(ModelVersion(config.name, 0, version_dir, config))
    model.start()
    figures: dict[str, Any] = {"scenes": scenes}
    try:
        # Seen colour+shape pairs too, so a reader can tell generalisation
        # (held-out pairs) from plain recognition.
        seen = train_scenes(scenes, seed=424242)
        seen_arrays = [normalise(s.image.astype(np.float32), config.preprocessing) for s in seen]
        seen_results = model.caption_blocking(seen_arrays, DecodingOptions(beam_size=1))
        seen_hyps = [r.hypotheses[0].text for r in seen_results]
        figures["seen_pairs_greedy_bleu4"] = round(bleu(seen_hyps, [s.caption for s in seen]), 2)
        for label, beam in (("greedy", 1), ("beam5", 5)):
            started = time.perf_counter()
            results = model.caption_blocking(arrays, DecodingOptions(beam_size=beam, n_best=1))
            seconds = time.perf_counter() - started
            hypotheses = [r.hypotheses[0].text for r in results]
            figures[label] = {
                "bleu4": round(bleu(hypotheses, references), 2),
                "exact_match": sum(h == r for h, r in zip(hypotheses, references, strict=True))
                / len(references),
                "images_per_s": round(len(arrays) / seconds, 1),
            }
    finally:
        model.stop()
    figures["held_out_pairs"] = sorted(" ".join(pair) for pair in HELD_OUT)
    figures["beam_not_below_greedy"] = figures["beam5"]["bleu4"] >= figures["greedy"]["bleu4"]
    return figures


def export_captioner(
    run: Path, repository: Path, name: str, version: int | None = None,
    *, config_overrides: dict[str, Any] | None = None, quality_scenes: int = 300,
) -> Path:
    model, words, state = load_captioner(run)
    base = CaptionerConfig(name=name).model_dump(mode="json")
    config = CaptionerConfig.model_validate(_deep_merge(base, {
        "description": "CNN+LSTM captioner of rendered scenes (shapes, colours, sizes, counts, "
                       "relative positions)",
        "preprocessing": {"mean": state["preprocessing"]["mean"],
                          "std": state["preprocessing"]["std"]},
        **(config_overrides or {}), "name": name,
    }))
    t = config.graphs.tensors
    with staged_version(repository, name, version) as staged:
        encoder_report = export_encoder(model, config, staged.path / config.graphs.encoder)
        dims = ModelDims(1, model.config.hidden, model.config.memory_dim, len(words), len(words))
        export_decoder(model, staged.path / config.graphs.decoder, t, dims, "legacy")
        decoder_report = decoder_parity(model, staged.path / config.graphs.decoder, t, dims)
        if not decoder_report.ok:
            raise RuntimeError(f"decoder parity failed: {decoder_report}")
        (staged.path / config.vocab.file).write_text(json.dumps(words))
        dump_config(config, staged.path)
        if load_config(staged.path) != config:
            raise RuntimeError("config.yaml does not round-trip through load_config")
        quality = measure_quality(staged.path, config, quality_scenes) if quality_scenes else {}
        metrics_path = Path(run) / METRICS
        write_manifest_sections = {
            "kind": "captioner", "exporter": {"encoder": "legacy", "decoder": "legacy"},
            "parity": {"encoder": encoder_report,
                       "decoder": dataclasses.asdict(decoder_report)},
            "quality": quality,
            "training": json.loads(metrics_path.read_text()) if metrics_path.exists() else {},
        }
        from seqserve.export.manifest import write_manifest

        write_manifest(staged.path, write_manifest_sections)
        return staged.publish()
