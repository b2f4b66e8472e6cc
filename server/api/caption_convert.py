"""protobuf <-> captioner engine objects for the Caption RPC (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api.convert import hypothesis_to_proto
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.results import SentenceResult
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds.captioner import check_image_count

_DTYPES = {"float32": np.float32}
_MAX_DIMS = 4


def tensor_from_proto(msg: pb.ImageTensor, *, where: str) -> np.ndarray:
    """Raw little-endian bytes -> array; dtype and size must agree with `shape`
    (the model's shape and value checks are the engine's)."""
    dtype = _DTYPES.get(msg.dtype)
    if dtype is None:
        raise InvalidArgumentError(
            f"{where}: dtype {msg.dtype!r} not supported (supported: {sorted(_DTYPES)})"
        )
    shape = tuple(int(d) for d in msg.shape)
    if not shape or len(shape) > _MAX_DIMS or 0 in shape:
        raise InvalidArgumentError(f"{where}: shape {list(shape)} is empty or zero-sized")
    expected = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if len(msg.data) != expected:
        raise InvalidArgumentError(
            f"{where}: {len(msg.data)} data bytes, but shape {list(shape)} of {msg.dtype} "
            f"needs {expected}"
        )
    return np.frombuffer(msg.data, dtype=np.dtype(dtype).newbyteorder("<")).astype(
        dtype
    ).reshape(shape)


def images_from_request(request: pb.CaptionRequest) -> list[bytes | np.ndarray]:
    check_image_count(len(request.images))
    images: list[bytes | np.ndarray] = []
    for index, image in enumerate(request.images):
        where = f"images[{index}]"
        kind = image.WhichOneof("input")
        if kind == "encoded":
            images.append(bytes(image.encoded))
        elif kind == "tensor":
            images.append(tensor_from_proto(image.tensor, where=where))
        else:
            raise InvalidArgumentError(f"{where}: set encoded bytes or a tensor")
    return images


def caption_response(
    info: ModelInfo, results: Sequence[SentenceResult], *, return_scores: bool
) -> pb.CaptionResponse:
    return pb.CaptionResponse(
        model=info.name,
        version=info.version,
        captions=[
            pb.ImageCaptions(
                hypotheses=[hypothesis_to_proto(h, return_scores=return_scores)
                            for h in r.hypotheses],
                decode_steps=r.decode_steps,
            )
            for r in results
        ],
    )
