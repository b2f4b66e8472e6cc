"""KServe v2 tensors <-> numpy: datatypes, raw and typed contents, BYTES framing.

Pure functions over protobuf messages: every rule about what a well-formed
input tensor is lives here, with Triton's wording where Triton has one, so a
client gets the same message from seqserve as from Triton.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from seqserve.protos.inference import grpc_service_pb2 as pb
from seqserve.server.errors import InvalidArgumentError

# KServe datatype -> numpy dtype (little-endian, as raw contents are on the wire).
NUMPY_DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype("<u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
BYTES = "BYTES"
DATATYPES = frozenset([*NUMPY_DTYPES, BYTES])

# Which InferTensorContents list carries each datatype (the protocol packs the
# small integer types into the 32-bit lists).
_TYPED_FIELD = {
    "BOOL": "bool_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    BYTES: "bytes_contents",
}


@dataclass(frozen=True)
class Tensor:
    """One decoded input or output: numpy data (object array of bytes for BYTES)."""

    name: str
    datatype: str
    data: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)


# ---------------------------------------------------------------- BYTES framing


def pack_bytes(items: Sequence[bytes]) -> bytes:
    """BYTES raw contents: each element as a 4-byte little-endian length, then its bytes."""
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


def unpack_bytes(raw: bytes, count: int, name: str) -> list[bytes]:
    """The inverse of pack_bytes; the element count must match the shape exactly."""
    items: list[bytes] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise InvalidArgumentError(
                f"unexpected end of BYTES data for input '{name}' (a truncated length prefix)"
            )
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise InvalidArgumentError(
                f"element byte size indicates more data than available for input '{name}'"
            )
        items.append(raw[offset : offset + length])
        offset += length
    if len(items) != count:
        raise InvalidArgumentError(
            f"unexpected number of string elements {len(items)} for inference input "
            f"'{name}', expecting {count}"
        )
    return items


# ---------------------------------------------------------------- inputs


def _element_count(shape: Sequence[int], name: str) -> int:
    if any(dim < 0 for dim in shape):
        raise InvalidArgumentError(
            f"input '{name}' has a negative dimension in shape {list(shape)}"
        )
    count = math.prod(shape)  # Python ints: an absurd shape cannot wrap around
    if count > _MAX_ELEMENTS:
        raise InvalidArgumentError(
            f"input '{name}' shape {list(shape)} has {count} elements, more than an int64 "
            f"can count"
        )
    return count


_MAX_ELEMENTS = 2**63 - 1


def _has_typed(contents: pb.InferTensorContents) -> bool:
    return any(len(getattr(contents, field)) for field in set(_TYPED_FIELD.values()))


def decode_inputs(request: pb.ModelInferRequest, model: str) -> dict[str, Tensor]:
    """Every input of the request as numpy, checked against its declared shape and type."""
    raw = list(request.raw_input_contents)
    if raw and len(raw) != len(request.inputs):
        raise InvalidArgumentError(
            f"expected {len(request.inputs)} raw_input_contents (one per input) but got "
            f"{len(raw)} for model '{model}'"
        )
    tensors: dict[str, Tensor] = {}
    for index, spec in enumerate(request.inputs):
        if spec.name in tensors:
            raise InvalidArgumentError(f"input '{spec.name}' is given twice for model '{model}'")
        blob = raw[index] if raw else None
        tensors[spec.name] = decode_input(spec, blob, model)
    return tensors


def decode_input(
    spec: pb.ModelInferRequest.InferInputTensor, raw: bytes | None, model: str
) -> Tensor:
    name, datatype = spec.name, spec.datatype
    if datatype not in DATATYPES:
        raise InvalidArgumentError(
            f"invalid datatype '{datatype}' for inference input '{name}' of model '{model}' "
            f"(expected one of {', '.join(sorted(DATATYPES))})"
        )
    shape = list(spec.shape)
    count = _element_count(shape, name)
    typed = spec.HasField("contents") and _has_typed(spec.contents)
    if raw is not None and typed:
        raise InvalidArgumentError(
            f"contents field must not be specified when using raw_input_contents for "
            f"'{name}' for model '{model}'"
        )
    if datatype == BYTES:
        if raw is not None:
            items = unpack_bytes(raw, count, name)
        else:
            items = list(spec.contents.bytes_contents)
            _check_count(len(items), count, name, model)
        data = np.empty(count, dtype=object)
        data[:] = items
        return Tensor(name, datatype, data.reshape(shape))
    dtype = NUMPY_DTYPES[datatype]
    if raw is not None:
        expected = count * dtype.itemsize
        if len(raw) != expected:
            raise InvalidArgumentError(
                f"input byte size mismatch for input '{name}' for model '{model}'. "
                f"Expected {expected}, got {len(raw)}"
            )
        array = np.frombuffer(raw, dtype=dtype).reshape(shape)
    else:
        field = _TYPED_FIELD.get(datatype)
        if field is None:
            raise InvalidArgumentError(
                f"input '{name}' of model '{model}' is {datatype}, which has no typed "
                f"contents field: send it in raw_input_contents"
            )
        values = getattr(spec.contents, field)
        _check_count(len(values), count, name, model)
        array = _typed_array(values, dtype, name, model).reshape(shape)
    return Tensor(name, datatype, array)


def _typed_array(values: Sequence[object], dtype: np.dtype, name: str, model: str) -> np.ndarray:
    """Typed contents as `dtype`; the small integer types travel in 32-bit lists, so
    a value may not fit the declared type."""
    if dtype.kind in "iu" and dtype.itemsize < 4 and len(values):
        wide = np.asarray(list(values), dtype=np.int64)
        info = np.iinfo(dtype)
        bad = np.flatnonzero((wide < info.min) | (wide > info.max))
        if bad.size:
            raise InvalidArgumentError(
                f"input '{name}' of model '{model}' element {int(bad[0])} is "
                f"{int(wide[bad[0]])}, outside the range of {dtype.name.upper()} "
                f"[{info.min}, {info.max}]"
            )
        return wide.astype(dtype)
    return np.asarray(list(values), dtype=dtype)


def _check_count(got: int, expected: int, name: str, model: str) -> None:
    if got != expected:
        raise InvalidArgumentError(
            f"unexpected number of elements for input '{name}' for model '{model}': "
            f"the shape needs {expected}, the contents hold {got}"
        )


# ---------------------------------------------------------------- outputs


def add_output(response: pb.ModelInferResponse, tensor: Tensor) -> None:
    """Append `tensor` as an output with raw contents (what Triton itself sends)."""
    response.outputs.add(name=tensor.name, datatype=tensor.datatype, shape=tensor.shape)
    if tensor.datatype == BYTES:
        response.raw_output_contents.append(
            pack_bytes([_as_bytes(item) for item in tensor.data.reshape(-1)])
        )
        return
    dtype = NUMPY_DTYPES[tensor.datatype]
    response.raw_output_contents.append(np.ascontiguousarray(tensor.data, dtype=dtype).tobytes())


def _as_bytes(item: object) -> bytes:
    if isinstance(item, bytes):
        return item
    return str(item).encode("utf-8")


def bytes_tensor(name: str, rows: Sequence[Sequence[str | bytes]]) -> Tensor:
    """A [len(rows), widest] BYTES tensor; short rows are padded with empty strings."""
    width = max((len(row) for row in rows), default=0)
    data = np.full((len(rows), width), b"", dtype=object)
    for r, row in enumerate(rows):
        for c, item in enumerate(row):
            data[r, c] = _as_bytes(item)
    return Tensor(name, BYTES, data)
