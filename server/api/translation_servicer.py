"""Translate and TranslateStream: convert, delegate to the engine, convert back."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import convert
from seqserve.server.api.deadline import deadline_of
from seqserve.server.api.errors import bind_model, grpc_method
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import PartialUpdate
from seqserve.server.kinds import SEQ2SEQ, Seq2SeqHandle
from seqserve.server.metrics import FIRST_PARTIAL_SECONDS


class TranslationMethods:
    """The translation RPCs of the SeqServe service (mixed into SeqServeServicer)."""

    _models: ModelLookup

    def _admit(self, request: pb.TranslateRequest) -> tuple[Seq2SeqHandle, DecodingOptions]:
        """Validate the request against its model; every rejection happens here,
        before the request reaches a queue."""
        version = convert.validate_model_ref(request.model, request.version)
        convert.validate_sentences(request.sentences)
        handle = self._models.get(request.model, version, kind=SEQ2SEQ)
        bind_model(handle.info.name)
        config = handle.info.config
        convert.check_sentence_limit(len(request.sentences), config.limits)
        options = convert.decoding_options_from_proto(request.options)
        # The engine resolves again; doing it here too means a bad option is
        # INVALID_ARGUMENT at once, whatever the queue holds.
        options.resolve(config.decoding, config.limits)
        return handle, options

    @grpc_method
    async def Translate(
        self, request: pb.TranslateRequest, context: grpc.aio.ServicerContext
    ) -> pb.TranslateResponse:
        handle, options = self._admit(request)
        # A cancelled RPC cancels this await; the CancelledError must reach
        # the engine (it drops the rows) and grpc.aio, so nothing catches it.
        results = await handle.translate(
            list(request.sentences), options, deadline=deadline_of(context)
        )
        return convert.translate_response(handle.info, results, return_scores=options.return_scores)

    @grpc_method
    async def TranslateStream(
        self, request: pb.TranslateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.TranslateStreamResponse]:
        arrived = time.perf_counter()
        handle, options = self._admit(request)
        events = handle.translate_stream(
            list(request.sentences), options, deadline=deadline_of(context)
        )
        first_partial = True
        try:
            async for event in events:
                if isinstance(event, PartialUpdate):
                    if first_partial:
                        first_partial = False
                        FIRST_PARTIAL_SECONDS.labels(handle.info.name).observe(
                            time.perf_counter() - arrived
                        )
                    yield convert.partial_to_proto(event)
                    continue
                yield convert.final_to_proto(
                    handle.info, event, return_scores=options.return_scores
                )
                return  # the final result is the last message by contract
            raise RuntimeError("engine translate_stream ended without a final result")
        finally:
            # Closing the engine's stream on every exit (cancel, error, early
            # return) frees its batch rows now rather than at garbage collection.
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
