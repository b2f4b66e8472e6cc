"""TLS and token options reach every client path: the asyncio channel (SessionMux,
load-test users), the load test's locust command line and the locust users."""

from __future__ import annotations

import asyncio
import importlib.util

import grpc
import pytest

from seqserve.client.channel import connect_aio
from seqserve.client.loadtest.cli import build_parser, locust_command
from seqserve.client.security import LOCUST_PREFIX, ClientSecurity, client_security_from_args
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.certs import CertFiles
from tests.support.server_process import ServerProcess


async def _list_models(address: str, security: ClientSecurity) -> pb.ListModelsResponse:
    async with connect_aio(address, security=security) as channel:
        return await pb_grpc.SeqServeStub(channel).ListModels(pb.ListModelsRequest(), timeout=30)


def test_asyncio_channel_carries_mtls_and_the_token(
    mtls_server: ServerProcess, certs: CertFiles, tokens
) -> None:
    security = ClientSecurity.from_options(
        tls_ca=certs.ca, tls_cert=certs.client_cert, tls_key=certs.client_key,
        token=tokens.infer,
    )
    reply = asyncio.run(_list_models(mtls_server.address, security))
    assert reply.models  # the fixture repository's models, listed over mTLS

    no_token = ClientSecurity.from_options(
        tls_ca=certs.ca, tls_cert=certs.client_cert, tls_key=certs.client_key
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        asyncio.run(_list_models(mtls_server.address, no_token))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_loadtest_forwards_tls_and_token_options_to_locust(certs: CertFiles, tmp_path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text("secret\n", encoding="utf-8")
    args = build_parser().parse_args([
        "--target", "127.0.0.1:1", "--translator", "t",
        "--grpc-tls-ca", str(certs.ca), "--grpc-token-file", str(token_file),
    ])
    command = locust_command(args, ["TranslateUser"])
    assert command[command.index("--grpc-tls-ca") + 1] == str(certs.ca)
    assert command[command.index("--grpc-token-file") + 1] == str(token_file)
    assert "--tls-cert" not in command  # locust's own web-UI option stays untouched


@pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="locust not installed")
def test_locust_users_parse_the_same_options(certs: CertFiles, tmp_path) -> None:
    # The locustfile registers its options on locust's parser; parse them the
    # way locust does and build the users' security from them.
    import argparse

    from seqserve.client.security import add_client_security_arguments

    token_file = tmp_path / "token.txt"
    token_file.write_text("secret\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    parser.add_argument("--tls-cert")  # locust's web UI option, as in locust
    add_client_security_arguments(parser.add_argument_group("seqserve"), prefix=LOCUST_PREFIX)
    parsed = parser.parse_args([
        "--tls-cert", "web.pem", "--grpc-tls-ca", str(certs.ca),
        "--grpc-token-file", str(token_file),
    ])
    security = client_security_from_args(parsed, prefix=LOCUST_PREFIX)
    assert security.uses_tls and security.token == "secret"
    assert security.tls_ca == certs.ca.read_bytes()
