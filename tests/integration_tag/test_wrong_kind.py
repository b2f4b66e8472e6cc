"""Calling Translate on a tagger is a clear INVALID_ARGUMENT, and the server keeps serving."""

from __future__ import annotations

import grpc
import pytest

from tests.integration.grpc_helpers import request, stub
from tests.support.server_process import ServerProcess


def test_translate_on_a_tagger_names_the_kind(tag_server: ServerProcess) -> None:
    channel, client = stub(tag_server.address)
    with channel, pytest.raises(grpc.RpcError) as raised:
        client.Translate(request(["Bu kitap ."], model="pos"), timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tagger" in raised.value.details()
    assert tag_server.alive()
