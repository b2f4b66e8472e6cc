"""The image-encoder and decoder-step graphs of a captioner.

The decoder is the translator's decoder-step contract, so `step` is inherited
from Seq2SeqGraphs unchanged; only `encode` differs: its inputs are image
arrays [C,H,W], and every image's memory is the whole feature grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqserve.server.engine.seq2seq_graphs import EncoderOutput, Seq2SeqGraphs
from seqserve.server.repository.captioner_config import CaptionerConfig
from seqserve.server.runtime.graph import OrtGraph


class CaptionerGraphs(Seq2SeqGraphs):
    def __init__(self, version_dir: Path, config: CaptionerConfig) -> None:
        # Not Seq2SeqGraphs.__init__: that one builds a token encoder.
        names = config.graphs.tensors
        self.names = names
        self.image_name = config.graphs.image
        self.encoder = OrtGraph(version_dir / config.graphs.encoder, config.runtime)
        self.decoder = OrtGraph(version_dir / config.graphs.decoder, config.runtime)
        self.encoder.check_signature(
            [self.image_name], [names.memory, names.init_h, names.init_c]
        )
        self.decoder.check_signature(
            [names.prev_tokens, names.h, names.c, names.memory, names.memory_mask,
             names.memory_index, names.k],
            [names.topk_logprobs, names.topk_ids, names.h_out, names.c_out],
        )
        self.providers = self.decoder.providers
        pre = config.preprocessing
        probe = self.encode([np.zeros((pre.channels, pre.height, pre.width), np.float32)])
        self.layers, _, self.hidden = probe.init_h.shape
        self.memory_dim = probe.memories[0].shape[1]

    def encode(self, sources: list[np.ndarray]) -> EncoderOutput:  # type: ignore[override]
        n = self.names
        memory, init_h, init_c = self.encoder.run(
            {self.image_name: np.stack(sources).astype(np.float32, copy=False)},
            [n.memory, n.init_h, n.init_c],
        )
        return EncoderOutput([memory[i] for i in range(len(sources))], init_h, init_c)
