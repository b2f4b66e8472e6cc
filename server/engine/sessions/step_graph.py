"""step.onnx behind the names config.yaml gives it: pad a tick's chunks, run, split
the outputs into per-step outputs and new state."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqserve.server.repository.streaming_config import StreamingConfig
from seqserve.server.runtime.graph import OrtGraph


class StepGraph:
    def __init__(self, version_dir: Path, config: StreamingConfig) -> None:
        spec = config.graph
        self.spec = spec
        self.graph = OrtGraph(Path(version_dir) / spec.file, config.runtime, name=spec.file)
        self.state_inputs = [p.input for p in spec.states]
        self.state_outputs = [p.output for p in spec.states]
        self.graph.check_signature(
            [spec.inputs, spec.lengths, *self.state_inputs], [*spec.outputs, *self.state_outputs]
        )
        self.tokens = config.input.type == "tokens"
        self.features = config.input.features
        self.providers = self.graph.providers

    def pad(self, chunks: list[np.ndarray], steps: int) -> np.ndarray:
        """Chunks of different lengths in one [B,T,...] array; padding is never read
        (the LSTM's sequence_lens stops each row at its own length)."""
        if self.tokens:
            batch = np.zeros((len(chunks), steps), dtype=np.int64)
        else:
            batch = np.zeros((len(chunks), steps, self.features), dtype=np.float32)
        for row, chunk in enumerate(chunks):
            batch[row, : chunk.shape[0]] = chunk
        return batch

    def run(
        self, inputs: np.ndarray, lengths: np.ndarray, state: list[np.ndarray]
    ) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
        feeds = {self.spec.inputs: inputs, self.spec.lengths: lengths}
        feeds.update(zip(self.state_inputs, state, strict=True))
        names = [*self.spec.outputs, *self.state_outputs]
        values = self.graph.run(feeds, names)
        count = len(self.spec.outputs)
        return dict(zip(self.spec.outputs, values[:count], strict=True)), values[count:]
