"""Bearer tokens with roles on the real server, over both APIs (seqserve.v1 and KServe v2)."""

from __future__ import annotations

import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seqserve.client.security import ClientSecurity
from seqserve.client.translation_client import TranslationClient
from seqserve.protos.inference import grpc_service_pb2 as kpb
from seqserve.protos.inference import grpc_service_pb2_grpc as kpb_grpc
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.certs import CertFiles
from tests.support.server_process import ServerProcess


def _security(certs: CertFiles, token: str | None = None) -> ClientSecurity:
    return ClientSecurity.from_options(
        tls_ca=certs.ca, tls_cert=certs.client_cert, tls_key=certs.client_key, token=token
    )


def _code(call) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()


@pytest.fixture()
def anonymous(mtls_server: ServerProcess, certs: CertFiles):  # type: ignore[no-untyped-def]
    with _security(certs).channel(mtls_server.address) as channel:
        yield channel


def test_calls_without_a_token_are_unauthenticated_on_both_apis(anonymous) -> None:
    seqserve = pb_grpc.SeqServeStub(anonymous)
    kserve = kpb_grpc.GRPCInferenceServiceStub(anonymous)
    assert _code(lambda: seqserve.ListModels(pb.ListModelsRequest(), timeout=20)) \
        == grpc.StatusCode.UNAUTHENTICATED
    assert _code(lambda: seqserve.Translate(
        pb.TranslateRequest(model="numbers", sentences=["one"]), timeout=20,
    )) == grpc.StatusCode.UNAUTHENTICATED
    assert _code(lambda: kserve.ModelMetadata(kpb.ModelMetadataRequest(name="numbers"),
                                              timeout=20)) == grpc.StatusCode.UNAUTHENTICATED
    assert _code(lambda: kserve.RepositoryModelUnload(
        kpb.RepositoryModelUnloadRequest(model_name="numbers"), timeout=20,
    )) == grpc.StatusCode.UNAUTHENTICATED


def test_an_unknown_or_malformed_token_is_unauthenticated(anonymous) -> None:
    seqserve = pb_grpc.SeqServeStub(anonymous)
    for header in ("Bearer ssv_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer ", "bearer"):
        code = _code(lambda h=header: seqserve.ListModels(
            pb.ListModelsRequest(), timeout=20, metadata=[("authorization", h)],
        ))
        assert code == grpc.StatusCode.UNAUTHENTICATED, header


def test_health_and_reflection_stay_open_for_probes(anonymous) -> None:
    health = health_pb2_grpc.HealthStub(anonymous)
    reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=20)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    kserve = kpb_grpc.GRPCInferenceServiceStub(anonymous)
    assert kserve.ServerLive(kpb.ServerLiveRequest(), timeout=20).live
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    reflection = reflection_pb2_grpc.ServerReflectionStub(anonymous)
    answers = list(reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=20,
    ))
    names = {s.name for s in answers[0].list_services_response.service}
    assert "seqserve.v1.SeqServe" in names


def test_infer_token_serves_inference_but_not_repository_control(
    mtls_server: ServerProcess, certs: CertFiles, tokens
) -> None:
    with TranslationClient(mtls_server.address, security=_security(certs, tokens.infer)) as c:
        reply = c.translate(["twenty one"], model="numbers")
        assert reply.model == "numbers" and len(reply.sentences) == 1
    with _security(certs, tokens.infer).channel(mtls_server.address) as channel:
        kserve = kpb_grpc.GRPCInferenceServiceStub(channel)
        assert kserve.RepositoryIndex(kpb.RepositoryIndexRequest(), timeout=20).models
        with pytest.raises(grpc.RpcError) as caught:
            kserve.RepositoryModelUnload(
                kpb.RepositoryModelUnloadRequest(model_name="numbers"), timeout=20)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "admin" in (caught.value.details() or "")
        assert _code(lambda: kserve.RepositoryModelLoad(
            kpb.RepositoryModelLoadRequest(model_name="numbers"), timeout=20,
        )) == grpc.StatusCode.PERMISSION_DENIED
    # The model is still there and serving.
    with TranslationClient(mtls_server.address, security=_security(certs, tokens.infer)) as c:
        assert c.translate(["two"], model="numbers").model == "numbers"


def test_admin_token_reaches_repository_control(
    mtls_server: ServerProcess, certs: CertFiles, tokens
) -> None:
    with _security(certs, tokens.admin).channel(mtls_server.address) as channel:
        kserve = kpb_grpc.GRPCInferenceServiceStub(channel)
        code = _code(lambda: kserve.RepositoryModelLoad(
            kpb.RepositoryModelLoadRequest(model_name="no-such-model"), timeout=30,
        ))
        # Past authentication and authorisation: the repository's own answer.
        assert code not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
        assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)


def test_triton_client_with_tls_and_a_bearer_header(
    mtls_server: ServerProcess, certs: CertFiles, tokens
) -> None:
    import tritonclient.grpc as triton
    from tritonclient.utils import InferenceServerException

    client = triton.InferenceServerClient(
        mtls_server.address, ssl=True, root_certificates=str(certs.ca),
        private_key=str(certs.client_key), certificate_chain=str(certs.client_cert),
    )
    try:
        headers = {"authorization": f"Bearer {tokens.infer}"}
        assert client.get_model_metadata("numbers", headers=headers).name == "numbers"
        with pytest.raises(InferenceServerException) as caught:
            client.get_model_metadata("numbers")
        assert "UNAUTHENTICATED" in str(caught.value.status())
    finally:
        client.close()


def test_cli_client_takes_tls_and_token_options(
    mtls_server: ServerProcess, certs: CertFiles, tokens, tmp_path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(tokens.infer + "\n")
    base = [sys.executable, "-m", "seqserve.server.cli", "client", "translate",
            "--target", mtls_server.address, "--model", "numbers", "--tls-ca", str(certs.ca),
            "--tls-cert", str(certs.client_cert), "--tls-key", str(certs.client_key)]
    ok = subprocess.run([*base, "--token-file", str(token_file), "three"],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("# numbers v1")
    refused = subprocess.run([*base, "three"], capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/bin:/bin"})
    assert refused.returncode == 1
    assert "UNAUTHENTICATED" in refused.stderr
