"""Captioners over KServe v2.

    IMAGE     BYTES [B, 1]        encoded PNG/JPEG, one image per row    } exactly
    PIXELS    FP32  [B, 3, H, W]  normalised tensors, the model's H x W } one of them
    CAPTIONS  BYTES [B, n_best]   best first
    SCORES    FP32  [B, n_best]

Decoding options as for translators (beam_size, n_best, ...). Image checks
(formats, byte and pixel limits) are the engine's, as on the domain API.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqserve.server.api.kserve.kind_seq2seq import (
    ATTENTION,
    SCORES,
    nbest_outputs,
    options_from_parameters,
)
from seqserve.server.api.kserve.kinds import InferCall, InferOutcome, Signature, TensorSpec
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds import CAPTIONER, CaptionerHandle

IMAGE, PIXELS, CAPTIONS = "IMAGE", "PIXELS", "CAPTIONS"


class CaptionerAdapter:
    platform = CAPTIONER.platform

    def signature(self, info: ModelInfo) -> Signature:
        config = info.config
        pre = config.preprocessing
        return Signature(
            inputs=(
                TensorSpec(IMAGE, "BYTES", (1,), optional=True),
                TensorSpec(PIXELS, "FP32", (pre.channels, pre.height, pre.width), optional=True),
            ),
            outputs=(TensorSpec(CAPTIONS, "BYTES", (-1,)), TensorSpec(SCORES, "FP32", (-1,)),
                     TensorSpec(ATTENTION, "FP32", (-1, -1, -1), optional=True)),
            max_batch_size=config.limits.max_images, batch_limit="max_images",
        )

    @staticmethod
    def _images(call: InferCall) -> list[Any]:
        given = [name for name in (IMAGE, PIXELS) if name in call.inputs]
        if len(given) != 1:
            raise InvalidArgumentError(
                f"send exactly one of the inputs '{IMAGE}' or '{PIXELS}' (got {given or 'none'})"
            )
        data = call.inputs[given[0]].data
        if given[0] == IMAGE:
            return [bytes(item) for item in data.reshape(-1)]
        return [np.ascontiguousarray(row, dtype=np.float32) for row in data]

    async def infer(self, handle: CaptionerHandle, call: InferCall) -> InferOutcome:
        images = self._images(call)
        options = options_from_parameters(call)
        config = handle.info.config
        resolved = options.resolve(config.decoding, config.limits)  # INVALID_ARGUMENT early
        results = await handle.caption(images, options, deadline=call.deadline)
        return InferOutcome(nbest_outputs(CAPTIONS, results, resolved.n_best), len(images))

    def forget(self, model: str) -> None:
        return None
