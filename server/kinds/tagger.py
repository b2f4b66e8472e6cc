"""The tagger kind: its handle, its request rules and its spec."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds.spec import KindSpec

if TYPE_CHECKING:
    from seqserve.server.engine.handle import ModelInfo
    from seqserve.server.engine.tagger import TokenLabel
    from seqserve.server.repository.tagger_config import TaggerLimits


class TaggerHandle(Protocol):
    """A loaded tagger: tokenised sentences in, one label per token out."""

    info: ModelInfo

    async def tag(
        self, sentences: list[list[str]], *, top_k: int = 0, deadline: float | None = None,
    ) -> list[list[TokenLabel]]: ...


# ---- request rules (both APIs reach them through the engine's validate)
def check_tokens(sentences: Sequence[Sequence[str]], field: str = "sentences") -> None:
    """At least one sentence; each with tokens, none blank. `field` names what the
    client sent (the domain API's `texts` are split into tokens first)."""
    if not sentences:
        raise InvalidArgumentError("no sentences: send at least one (texts or sentences)")
    for index, tokens in enumerate(sentences):
        if not tokens:
            what = "is empty or whitespace only" if field == "texts" else "has no tokens"
            raise InvalidArgumentError(f"{field}[{index}] {what}")
        for position, token in enumerate(tokens):
            if not token or token.isspace():
                raise InvalidArgumentError(
                    f"{field}[{index}].tokens[{position}] is empty or whitespace only"
                )


def check_limits(sentences: Sequence[Sequence[str]], top_k: int, limits: TaggerLimits) -> None:
    """The model's max_sentences, max_tokens and max_top_k."""
    if len(sentences) > limits.max_sentences:
        raise InvalidArgumentError(
            f"{len(sentences)} sentences exceed the model's limit "
            f"max_sentences={limits.max_sentences}"
        )
    for index, tokens in enumerate(sentences):
        if len(tokens) > limits.max_tokens:
            raise InvalidArgumentError(
                f"sentence {index} has {len(tokens)} tokens, over the model's limit "
                f"max_tokens={limits.max_tokens}"
            )
    if top_k > limits.max_top_k:
        raise InvalidArgumentError(
            f"top_k={top_k} exceeds the model's limit max_top_k={limits.max_top_k}"
        )


TAGGER: KindSpec[TaggerHandle] = KindSpec(
    name="tagger",
    handle=TaggerHandle,
    serves="Tag",
    config_schema="seqserve.server.repository.tagger_config:TaggerConfig",
    engine="seqserve.server.engine.tagger:TaggerModel",
    kserve_adapter="seqserve.server.api.kserve.kind_tagger:TaggerAdapter",
    details=("tagger", "seqserve.server.api.model_details:tagger"),
    # Taggers batch dynamically (their config's policy); there is no static batch.
    server_policies={"continuous": "the model's configured (dynamic) batching",
                     "sequential": "sequential"},
    train="seqserve.models.kind_cli:main",
    export="seqserve.export.kind_cli:main",
)
