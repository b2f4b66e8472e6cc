"""Batching-invariant int8 for translators: statically quantized decoder products.

Dynamic quantization (quantize.py's default) picks each activation's int8 scale
per call, from the whole batch: a sentence's result then depends on its
batch-mates (measured on en-fr: one step's log probs moved by up to 0.04 between
a request alone and the same request among 127 other rows; DynamicQuantizeLSTM
and DynamicQuantizeMatMul both do it). Here the decoder's weight products
(MatMul/Gemm with a constant weight: attention projection, combine, output
projection) get a fixed activation scale calibrated once, as QDQ nodes that ONNX
Runtime runs as QGemm / int8 MatMul with float outputs, and everything else
stays fp32: the LSTMs (ORT has no statically quantized LSTM) and the whole
encoder (its int8 form would be dynamic again). Each row is then computed by the
same arithmetic whatever shares its batch. Calibration: the fp32 graphs decode
held-out sources greedily and every step's inputs are the calibration batches
(MinMax ranges).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from seqserve.server.repository.config import load_config

METHOD = ("onnxruntime.quantization.quantize_static (QDQ, MinMax, QUInt8 activations, QInt8 "
          "weights) of the decoder's weight MatMul/Gemm; LSTMs and encoder fp32")
CALIBRATION_STEPS = 24


def calibration_feeds(version_dir: Path, sources: list[str],
                      steps: int = CALIBRATION_STEPS) -> list[dict[str, np.ndarray]]:
    """The decoder-step inputs of a greedy fp32 decode of `sources`, one dict per step."""
    from seqserve.server.engine.seq2seq_graphs import Seq2SeqGraphs
    from seqserve.server.repository.tokenizer import PairTokenizer

    config = load_config(version_dir)
    graphs = Seq2SeqGraphs(version_dir, config)
    tokenizer = PairTokenizer(version_dir, config.tokenizer)
    encoded = graphs.encode([tokenizer.encode_source(s) for s in sources])
    longest = max(m.shape[0] for m in encoded.memories)
    memory = np.zeros((len(sources), longest, encoded.memories[0].shape[1]), np.float32)
    mask = np.zeros((len(sources), longest), bool)
    for i, row in enumerate(encoded.memories):
        memory[i, : len(row)] = row
        mask[i, : len(row)] = True
    names = config.graphs.tensors
    index = np.arange(len(sources), dtype=np.int64)
    prev = np.full(len(sources), config.tokenizer.bos_id, np.int64)
    h, c = encoded.init_h, encoded.init_c
    k = 1  # greedy: TopK's k has no effect on the products' ranges
    feeds = []
    for _ in range(steps):
        feeds.append({names.prev_tokens: prev, names.h: h, names.c: c, names.memory: memory,
                      names.memory_mask: mask, names.memory_index: index,
                      names.k: np.array([k], np.int64)})
        out = graphs.step(prev, h, c, memory, mask, index, k)
        prev, h, c = out.topk_ids[:, 0].astype(np.int64), out.h_out, out.c_out
    return feeds


def weight_products(model: onnx.ModelProto) -> list[str]:
    """Names of the MatMul/Gemm nodes whose second input is a constant weight."""
    constants = {init.name for init in model.graph.initializer}
    return [n.name for n in model.graph.node
            if n.op_type in ("MatMul", "Gemm") and len(n.input) > 1 and n.input[1] in constants]


def quantize_decoder_static(path: Path, feeds: list[dict[str, np.ndarray]]) -> None:
    """Quantize the decoder graph at `path` in place (see the module docstring)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from seqserve.export.quantize import constant_fold

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches: Iterator[dict[str, np.ndarray]] = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        folded, out = Path(tmp) / "folded.onnx", Path(tmp) / "quantized.onnx"
        constant_fold(path, folded)
        nodes = weight_products(onnx.load(str(folded)))
        quantize_static(
            str(folded), str(out), Reader(), quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul", "Gemm"], nodes_to_quantize=nodes,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=False,
            # Float outputs: log-softmax and TopK need the logits unrounded.
            extra_options={"OpTypesToExcludeOutputQuantization": ["MatMul", "Gemm"]},
        )
        shutil.move(str(out), str(path))


def invariant_quantizer(sources: list[str]) -> Callable[[Path], dict[str, Any]]:
    """For quantize_version: quantizes a staged seq2seq version's decoder in place and
    returns the op counts per graph (the encoder is left fp32)."""

    def quantize(version_dir: Path) -> dict[str, Any]:
        config = load_config(version_dir)
        decoder = version_dir / config.graphs.decoder
        before = Counter(n.op_type for n in onnx.load(str(decoder)).graph.node)
        quantize_decoder_static(decoder, calibration_feeds(version_dir, sources))
        after = Counter(n.op_type for n in onnx.load(str(decoder)).graph.node)
        watched = ("MatMul", "Gemm", "LSTM", "QuantizeLinear", "DequantizeLinear")
        return {decoder.name: {"before": {k: before[k] for k in watched if before[k]},
                               "after": {k: after[k] for k in watched if after[k]}}}

    return quantize
