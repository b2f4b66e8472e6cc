"""The served graphs' signatures as data: names from config.py, types, dynamic axes.

One table drives the exporters' dynamic-axis arguments, the post-export checks
and the parity shapes, so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from onnx import TensorProto

from seqserve.export.graph_checks import TensorSpec
from seqserve.server.repository.config import Seq2SeqTensors

# Symbolic dimension names written into the graphs.
BATCH = "B"  # sentences in an encoder call
SRC_LEN = "S"  # padded source length
ROWS = "N"  # hypothesis rows in a decoder step
REQUESTS = "R"  # sentences whose memory a decoder step reads
TOP_K = "k"  # candidates returned per row


@dataclass(frozen=True)
class GraphSignature:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @property
    def input_names(self) -> list[str]:
        return [s.name for s in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [s.name for s in self.outputs]


def _spec(name: str, elem: int, rank: int, axes: dict[int, str] | None = None) -> TensorSpec:
    return TensorSpec(name, elem, rank, axes or {})


def encoder_signature(t: Seq2SeqTensors) -> GraphSignature:
    i64, f32 = TensorProto.INT64, TensorProto.FLOAT
    return GraphSignature(
        inputs=(
            _spec(t.src_tokens, i64, 2, {0: BATCH, 1: SRC_LEN}),
            _spec(t.src_lengths, i64, 1, {0: BATCH}),
        ),
        outputs=(
            _spec(t.memory, f32, 3, {0: BATCH, 1: SRC_LEN}),
            _spec(t.init_h, f32, 3, {1: BATCH}),
            _spec(t.init_c, f32, 3, {1: BATCH}),
        ),
    )


def decoder_signature(t: Seq2SeqTensors) -> GraphSignature:
    i64, f32, b = TensorProto.INT64, TensorProto.FLOAT, TensorProto.BOOL
    return GraphSignature(
        inputs=(
            _spec(t.prev_tokens, i64, 1, {0: ROWS}),
            _spec(t.h, f32, 3, {1: ROWS}),
            _spec(t.c, f32, 3, {1: ROWS}),
            _spec(t.memory, f32, 3, {0: REQUESTS, 1: SRC_LEN}),
            _spec(t.memory_mask, b, 2, {0: REQUESTS, 1: SRC_LEN}),
            _spec(t.memory_index, i64, 1, {0: ROWS}),
            _spec(t.k, i64, 1),
        ),
        outputs=(
            _spec(t.topk_logprobs, f32, 2, {0: ROWS, 1: TOP_K}),
            _spec(t.topk_ids, i64, 2, {0: ROWS, 1: TOP_K}),
            _spec(t.h_out, f32, 3, {1: ROWS}),
            _spec(t.c_out, f32, 3, {1: ROWS}),
            _spec(t.attention, f32, 2, {0: ROWS, 1: SRC_LEN}),
        ),
    )
