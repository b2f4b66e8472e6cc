"""ONNX Runtime wrapper: provider fallback is reported, IOBinding gives the same results,
the spin setting reaches the session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from seqserve.server.errors import UnavailableError
from seqserve.server.repository.config import ModelConfig, RuntimeConfig
from seqserve.server.repository.tagger_config import TaggerConfig
from seqserve.server.runtime.graph import GraphSignatureError, OrtGraph
from seqserve.server.runtime.providers import CPU, device_of, requested_providers


def affine_graph(path: Path) -> Path:
    """y = x @ W + b with a dynamic batch dimension."""
    rng = np.random.default_rng(0)
    weight = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], rng.standard_normal(6).tolist())
    bias = helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, -1.0])
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "affine",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 2])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_cuda_request_falls_back_to_cpu_and_says_so(tmp_path: Path) -> None:
    graph = OrtGraph(affine_graph(tmp_path / "g.onnx"), RuntimeConfig())
    # No GPU here: whatever was requested, the active list is what ORT really uses.
    assert graph.providers[-1] == CPU
    assert graph.device == device_of(graph.providers)
    assert requested_providers(["NoSuchProvider"]) == [CPU]


@pytest.mark.parametrize("binding", [True, False])
def test_io_binding_and_plain_run_agree(tmp_path: Path, binding: bool) -> None:
    path = affine_graph(tmp_path / "g.onnx")
    plain = OrtGraph(path, RuntimeConfig(io_binding=False))
    bound = OrtGraph(path, RuntimeConfig(io_binding=binding))
    assert bound.use_binding is binding
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    [expected] = plain.run({"x": x}, ["y"])
    [got] = bound.run({"x": x}, ["y"])
    np.testing.assert_array_equal(got, expected)


def test_signature_mismatch_names_the_missing_tensors(tmp_path: Path) -> None:
    graph = OrtGraph(affine_graph(tmp_path / "g.onnx"), RuntimeConfig())
    with pytest.raises(GraphSignatureError, match="memory"):
        graph.check_signature(["x", "memory"], ["y"])


def test_unloadable_graph_is_unavailable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx file")
    with pytest.raises(UnavailableError, match=r"bad\.onnx"):
        OrtGraph(bad, RuntimeConfig())


@pytest.mark.parametrize(("spin", "allow", "stop_at_run_end"),
                         [(False, "0", None), ("in-run", "1", "1"), (True, "1", None)])
def test_spin_setting_reaches_the_session(tmp_path: Path, spin: bool | str, allow: str,
                                          stop_at_run_end: str | None) -> None:
    """The "in-run" setting spins between a Run's ops and stops when it returns;
    config.yaml's strings and booleans both load."""
    runtime = RuntimeConfig.model_validate({"spin": spin})
    options = OrtGraph(affine_graph(tmp_path / "g.onnx"), runtime).session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == allow
    if stop_at_run_end is None:
        with pytest.raises(Exception, match="force_spinning_stop"):
            options.get_session_config_entry("session.force_spinning_stop")
    else:
        assert options.get_session_config_entry("session.force_spinning_stop") == "1"


def test_translators_spin_within_a_run_by_default_other_kinds_never() -> None:
    assert ModelConfig(name="t").runtime.spin == "in-run"
    assert TaggerConfig(name="t").runtime.spin is False
    with pytest.raises(ValueError, match="spin"):
        RuntimeConfig.model_validate({"spin": "sometimes"})
