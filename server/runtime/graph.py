"""One ONNX graph behind ONNX Runtime: options, provider, signature check, run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from seqserve.server.errors import UnavailableError
from seqserve.server.repository.config import RuntimeConfig
from seqserve.server.runtime.providers import device_of, report_fallback, requested_providers

log = logging.getLogger(__name__)

_WARNING = 2
_FATAL_ONLY = 4


class GraphSignatureError(ValueError):
    """The graph's inputs/outputs do not match what config.yaml promises."""


class OrtGraph:
    """A loaded graph. `run` is thread-safe in ORT and releases the GIL."""

    def __init__(self, path: Path, runtime: RuntimeConfig, *, name: str | None = None) -> None:
        self.path = Path(path)
        self.name = name or self.path.name
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = runtime.intra_op_threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if runtime.spin else "0"
        )
        if runtime.spin == "in-run":
            options.add_session_config_entry("session.force_spinning_stop", "1")
        requested = requested_providers(runtime.providers)
        # A session asked for CUDA on a machine without a usable GPU logs an
        # error and falls back to CPU; silence that one call and report the
        # real provider ourselves (report_fallback) instead.
        ort.set_default_logger_severity(_FATAL_ONLY)
        try:
            self.session = ort.InferenceSession(
                str(self.path), sess_options=options, providers=requested
            )
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph types
            raise UnavailableError(f"cannot load graph {self.path}: {exc}") from exc
        finally:
            ort.set_default_logger_severity(_WARNING)
        self.providers: list[str] = list(self.session.get_providers())
        report_fallback(self.name, requested, self.providers)
        self.device = device_of(self.providers)
        # IOBinding pays on a device (inputs copied once, outputs kept there);
        # on CPU plain run() is as fast and simpler (FACTS.md per-call costs).
        self.use_binding = runtime.io_binding if runtime.io_binding is not None else (
            self.device != "cpu"
        )
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def last_dim(self, output: str) -> int:
        """The fixed size of an output's last axis as the graph declares it; 0 when the
        name is empty or not an output, or the axis is dynamic."""
        shapes = {o.name: o.shape for o in self.session.get_outputs()}
        shape = shapes.get(output) if output else None
        return shape[-1] if shape and isinstance(shape[-1], int) else 0

    def check_signature(self, inputs: Sequence[str], outputs: Sequence[str]) -> None:
        missing_in = [n for n in inputs if n not in self.input_names]
        missing_out = [n for n in outputs if n not in self.output_names]
        if missing_in or missing_out:
            raise GraphSignatureError(
                f"{self.path}: graph inputs {self.input_names} / outputs {self.output_names} "
                f"lack inputs {missing_in} / outputs {missing_out} named in config.yaml"
            )

    def run(self, feeds: dict[str, np.ndarray], outputs: Sequence[str]) -> list[np.ndarray]:
        if not self.use_binding:
            return self.session.run(list(outputs), feeds)
        binding = self.session.io_binding()
        for name, array in feeds.items():
            if self.device == "cpu":
                binding.bind_cpu_input(name, np.ascontiguousarray(array))
            else:
                value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array), "cuda", 0)
                binding.bind_ortvalue_input(name, value)
        for name in outputs:
            binding.bind_output(name, self.device)
        self.session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()
