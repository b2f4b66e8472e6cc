"""Input checks against a kind's signature, with Triton's wording for each failure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from seqserve.server.api.kserve.kinds import Signature, TensorSpec
from seqserve.server.api.kserve.tensors import Tensor
from seqserve.server.errors import InvalidArgumentError


def _shape_ok(spec: TensorSpec, shape: tuple[int, ...], batched: bool) -> bool:
    dims = shape[1:] if batched else shape
    if batched and not shape:
        return False
    # A [B] tensor for dims [1] (one string per row) is what most clients send.
    if spec.dims == (1,) and len(dims) == 0:
        return True
    if len(dims) != len(spec.dims):
        return False
    return all(want == -1 or want == got for want, got in zip(spec.dims, dims, strict=True))


def _check_shape(
    signature: Signature, spec: TensorSpec, shape: tuple[int, ...], model: str
) -> None:
    name = spec.name
    batched = signature.max_batch_size > 0
    if not _shape_ok(spec, shape, batched):
        expected = [-1, *spec.dims] if batched else list(spec.dims)
        raise InvalidArgumentError(
            f"unexpected shape for input '{name}' for model '{model}'. "
            f"Expected {expected}, got {list(shape)}"
        )
    _check_variable_dims(spec, shape[1:] if batched else shape, model)
    if batched and not 1 <= shape[0] <= signature.max_batch_size:
        raise InvalidArgumentError(
            f"inference request batch-size must be <= {signature.max_batch_size} for "
            f"'{model}' (and >= 1), got {shape[0]}"
            + (f" (the model's limit {signature.batch_limit}={signature.max_batch_size})"
               if signature.batch_limit else "")
        )


def check_inputs(signature: Signature, inputs: Mapping[str, Tensor], model: str) -> None:
    for name, tensor in inputs.items():
        spec = signature.input(name)
        if spec is None:
            raise InvalidArgumentError(f"unexpected inference input '{name}' for model '{model}'")
        if tensor.datatype != spec.datatype:
            raise InvalidArgumentError(
                f"inference input '{name}' data-type is '{tensor.datatype}', but model "
                f"'{model}' expects '{spec.datatype}'"
            )
        _check_shape(signature, spec, tensor.shape, model)
    required = [s.name for s in signature.inputs if not s.optional]
    missing = [name for name in required if name not in inputs]
    if missing:
        raise InvalidArgumentError(
            f"expected {len(required)} inputs but got {len(inputs)} inputs for model "
            f"'{model}' (missing {', '.join(repr(m) for m in missing)})"
        )
    if signature.max_batch_size and len({t.shape[0] for t in inputs.values()}) > 1:
        raise InvalidArgumentError(
            f"inputs of one request disagree on the batch size for '{model}'"
        )


def check_declared(signature: Signature, request_inputs: Iterable[Any], model: str) -> None:
    """The shape checks of check_inputs on the declared shapes: a tensor over the
    model's limits is refused before its payload (up to the message limit) is decoded."""
    for given in request_inputs:
        spec = signature.input(given.name)
        shape = tuple(int(d) for d in given.shape)
        if spec is None or given.datatype != spec.datatype or any(d < 0 for d in shape):
            continue  # decoding and check_inputs name these problems
        _check_shape(signature, spec, shape, model)


def _check_variable_dims(spec: TensorSpec, dims: tuple[int, ...], model: str) -> None:
    if not spec.max_variable:
        return
    for want, got in zip(spec.dims, dims, strict=False):
        if want == -1 and got > spec.max_variable:
            raise InvalidArgumentError(
                f"input '{spec.name}' for model '{model}' has a dimension of {got}, over "
                f"the model's limit of {spec.max_variable}"
                + (f" ({spec.limit}={spec.max_variable})" if spec.limit else "")
            )


def check_requested_outputs(signature: Signature, names: Iterable[str], model: str) -> set[str]:
    """The requested output names (empty = all), each one the model has."""
    known = {s.name for s in signature.outputs}
    wanted = set(names)
    for name in sorted(wanted - known):
        raise InvalidArgumentError(f"unexpected inference output '{name}' for model '{model}'")
    return wanted
