"""Input checks against a kind's signature, with Triton's wording for each failure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
        batched = signature.max_batch_size > 0
        if not _shape_ok(spec, tensor.shape, batched):
            expected = [-1, *spec.dims] if batched else list(spec.dims)
            raise InvalidArgumentError(
                f"unexpected shape for input '{name}' for model '{model}'. "
                f"Expected {expected}, got {list(tensor.shape)}"
            )
        if batched and not 1 <= tensor.shape[0] <= signature.max_batch_size:
            raise InvalidArgumentError(
                f"inference request batch-size must be <= {signature.max_batch_size} for "
                f"'{model}' (and >= 1), got {tensor.shape[0]}"
            )
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


def check_requested_outputs(signature: Signature, names: Iterable[str], model: str) -> set[str]:
    """The requested output names (empty = all), each one the model has."""
    known = {s.name for s in signature.outputs}
    wanted = set(names)
    for name in sorted(wanted - known):
        raise InvalidArgumentError(f"unexpected inference output '{name}' for model '{model}'")
    return wanted
