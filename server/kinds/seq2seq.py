"""The seq2seq kind (translators): its handle, its request rules and its spec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Protocol

from seqserve.server.errors import InvalidArgumentError
from seqserve.server.kinds.spec import KindSpec

if TYPE_CHECKING:
    from seqserve.server.engine.handle import ModelInfo
    from seqserve.server.engine.options import DecodingOptions
    from seqserve.server.engine.results import PartialUpdate, SentenceResult
    from seqserve.server.repository.config import Limits


class Seq2SeqHandle(Protocol):
    """A loaded seq2seq model. Deadlines are absolute `time.monotonic()` values.

    Cancelling the awaiting task (client disconnect) removes the request's
    rows from the batch. Errors are seqserve.server.errors classes.
    """

    info: ModelInfo

    async def translate(
        self, sentences: list[str], options: DecodingOptions, *, deadline: float | None = None,
    ) -> list[SentenceResult]: ...

    def translate_stream(
        self, sentences: list[str], options: DecodingOptions, *, deadline: float | None = None,
    ) -> AsyncIterator[PartialUpdate | list[SentenceResult]]:
        """Yields PartialUpdate while decoding advances, then the final list once."""
        ...


# ---- request rules: both APIs reach these (the domain API before queueing, KServe
# through the engine's tokenize), so each rule has one message.
def check_sentences(sentences: Sequence[str]) -> None:
    """At least one sentence, and none blank."""
    if not sentences:
        raise InvalidArgumentError("sentences is empty: send at least one sentence")
    for index, sentence in enumerate(sentences):
        if not sentence.strip():
            raise InvalidArgumentError(f"sentences[{index}] is empty or whitespace only")


def check_sentence_count(count: int, limits: Limits) -> None:
    """No more sentences than the model's max_sentences."""
    if count > limits.max_sentences:
        raise InvalidArgumentError(
            f"{count} sentences exceed the model's limit max_sentences={limits.max_sentences}"
        )


SEQ2SEQ: KindSpec[Seq2SeqHandle] = KindSpec(
    name="seq2seq",
    handle=Seq2SeqHandle,
    serves="Translate and TranslateStream",
    config_schema="seqserve.server.repository.config:ModelConfig",
    engine="seqserve.server.engine.translator:Seq2SeqModel",
    kserve_adapter="seqserve.server.api.kserve.kind_seq2seq:Seq2SeqAdapter",
    details=("translator", "seqserve.server.api.model_details:translator"),
    server_policies={
        "continuous": "continuous", "static": "static", "sequential": "sequential",
    },
)
