"""The seqserve.v1.SeqServe servicer: one class per gRPC service, one mixin per
group of RPCs (translation, tagging, captioning, sessions, models), so each file
stays about one concept. Each mixin asks ModelLookup.get for its kind's typed
handle (server/kinds/), which is where a wrong-kind call is refused."""

from __future__ import annotations

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.api.caption_servicer import CaptionMethods
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.api.models_servicer import ModelMethods
from seqserve.server.api.session_access import SessionAccess
from seqserve.server.api.session_many import PredictManyMethods
from seqserve.server.api.session_servicer import SessionMethods
from seqserve.server.api.stream_drain import StreamRegistry
from seqserve.server.api.tagging_servicer import TaggingMethods
from seqserve.server.api.translation_servicer import TranslationMethods

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["SeqServe"].full_name
""""seqserve.v1.SeqServe", as health checks and reflection name it."""


class SeqServeServicer(
    TranslationMethods, TaggingMethods, CaptionMethods, SessionMethods, PredictManyMethods,
    ModelMethods,
    pb_grpc.SeqServeServicer,
):
    # The mixins come first so their methods replace the generated base's
    # UNIMPLEMENTED stubs; an RPC without a mixin would stay UNIMPLEMENTED.

    def __init__(self, models: ModelLookup) -> None:
        self._models = models
        self.streams = StreamRegistry()
        """Its long-lived streams, which the server's drain ends (stream_drain.py)."""
        self.session_access = SessionAccess()
        """Who may touch a session (session_access.py); the server sets its policy."""


def add_seqserve_servicer(server: grpc.aio.Server, models: ModelLookup) -> SeqServeServicer:
    servicer = SeqServeServicer(models)
    pb_grpc.add_SeqServeServicer_to_server(servicer, server)
    return servicer
