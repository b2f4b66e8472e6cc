"""The encoder and decoder-step graphs of a seq2seq model, fed as the contract says."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqserve.server.repository.config import ModelConfig
from seqserve.server.runtime.graph import OrtGraph


@dataclass(frozen=True)
class EncoderOutput:
    memories: list[np.ndarray]
    """Per sentence [length, M], real positions only."""
    init_h: np.ndarray
    init_c: np.ndarray


@dataclass(frozen=True)
class StepOutput:
    topk_logprobs: np.ndarray
    topk_ids: np.ndarray
    h_out: np.ndarray
    c_out: np.ndarray
    attention: np.ndarray | None = None
    """[N, S] attention weights, fetched only when asked for."""


class Seq2SeqGraphs:
    def __init__(self, version_dir: Path, config: ModelConfig) -> None:
        names = config.graphs.tensors
        self.names = names
        self.pad_id = config.tokenizer.pad_id
        self.encoder = OrtGraph(version_dir / config.graphs.encoder, config.runtime)
        self.decoder = OrtGraph(version_dir / config.graphs.decoder, config.runtime)
        self.encoder.check_signature(
            [names.src_tokens, names.src_lengths], [names.memory, names.init_h, names.init_c]
        )
        self.decoder.check_signature(
            [names.prev_tokens, names.h, names.c, names.memory, names.memory_mask,
             names.memory_index, names.k],
            [names.topk_logprobs, names.topk_ids, names.h_out, names.c_out],
        )
        self.providers = self.decoder.providers
        # One encoder call warms the graph up and tells the state shapes.
        probe = self.encode([[config.tokenizer.eos_id]])
        self.layers, _, self.hidden = probe.init_h.shape
        self.memory_dim = probe.memories[0].shape[1]
    def encode(self, sources: list[list[int]]) -> EncoderOutput:
        lengths = np.array([len(s) for s in sources], np.int64)
        tokens = np.full((len(sources), int(lengths.max())), self.pad_id, np.int64)
        for i, s in enumerate(sources):
            tokens[i, : len(s)] = s
        n = self.names
        memory, init_h, init_c = self.encoder.run(
            {n.src_tokens: tokens, n.src_lengths: lengths}, [n.memory, n.init_h, n.init_c]
        )
        memories = [memory[i, : lengths[i]] for i in range(len(sources))]
        return EncoderOutput(memories, init_h, init_c)

    def step(
        self,
        prev_tokens: np.ndarray,
        h: np.ndarray,
        c: np.ndarray,
        memory: np.ndarray,
        memory_mask: np.ndarray,
        memory_index: np.ndarray,
        k: int,
        attention: bool = False,
    ) -> StepOutput:
        n = self.names
        feeds = {
            n.prev_tokens: prev_tokens,
            n.h: h,
            n.c: c,
            n.memory: memory,
            n.memory_mask: memory_mask,
            n.memory_index: memory_index,
            n.k: np.array([k], np.int64),
        }
        fetch = [n.topk_logprobs, n.topk_ids, n.h_out, n.c_out]
        if attention and self.has_attention:
            lp, ids, h_out, c_out, weights = self.decoder.run(feeds, [*fetch, n.attention])
            return StepOutput(lp, ids, h_out, c_out, weights)
        lp, ids, h_out, c_out = self.decoder.run(feeds, fetch)
        return StepOutput(lp, ids, h_out, c_out)

    @property
    def has_attention(self) -> bool:
        """Older exports may lack the optional attention output of the step graph."""
        return self.names.attention in self.decoder.output_names
