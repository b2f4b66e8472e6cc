"""The captioner kind: its handle, its request rules and its spec."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds.spec import KindSpec

if TYPE_CHECKING:
    from seqserve.server.engine.captioner import ImageInput
    from seqserve.server.engine.handle import ModelInfo
    from seqserve.server.engine.options import DecodingOptions
    from seqserve.server.engine.results import SentenceResult
    from seqserve.server.repository.captioner_config import CaptionerLimits


class CaptionerHandle(Protocol):
    """A loaded captioner: images (encoded bytes or normalised tensors) in, captions out."""

    info: ModelInfo

    async def caption(
        self, images: list[ImageInput], options: DecodingOptions, *,
        deadline: float | None = None,
    ) -> list[SentenceResult]: ...


# ---- request rules: the domain API checks the count before queueing, both APIs
# reach it again in the engine's prepare; one message each.
def check_image_count(count: int, limits: CaptionerLimits | None = None) -> None:
    """At least one image; with the model's limits, at most max_images."""
    if not count:
        raise InvalidArgumentError("no images: send at least one image")
    if limits is not None and count > limits.max_images:
        raise InvalidArgumentError(
            f"{count} images exceed the model's limit max_images={limits.max_images}"
        )


CAPTIONER: KindSpec[CaptionerHandle] = KindSpec(
    name="captioner",
    handle=CaptionerHandle,
    serves="Caption",
    config_schema="seqserve.server.repository.captioner_config:CaptionerConfig",
    engine="seqserve.server.engine.captioner:CaptionerModel",
    kserve_adapter="seqserve.server.api.kserve.kind_captioner:CaptionerAdapter",
    details=("captioner", "seqserve.server.api.model_details:captioner"),
    server_policies={
        "continuous": "continuous", "static": "static", "sequential": "sequential",
    },
    train="seqserve.models.kind_cli:main",
    export="seqserve.export.kind_cli:main",
)
