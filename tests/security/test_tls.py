"""TLS and mTLS on the real server: who can connect, and certificate rotation without restart."""

from __future__ import annotations

import socket
import ssl
import time

import grpc
import pytest

from seqserve.client.security import ClientSecurity
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.certs import CertFiles
from tests.support.server_process import ServerProcess


def _list(security: ClientSecurity, address: str) -> pb.ListModelsResponse:
    with security.channel(address) as channel:
        return pb_grpc.SeqServeStub(channel).ListModels(
            pb.ListModelsRequest(), timeout=20, metadata=security.metadata()
        )


def _mtls(certs: CertFiles, token: str) -> ClientSecurity:
    return ClientSecurity.from_options(
        tls_ca=certs.ca, tls_cert=certs.client_cert, tls_key=certs.client_key, token=token
    )


def test_mtls_with_client_certificate_and_token_is_served(
    mtls_server: ServerProcess, certs: CertFiles, tokens
) -> None:
    reply = _list(_mtls(certs, tokens.infer), mtls_server.address)
    assert [m.name for m in reply.models] == ["numbers"]


def test_plaintext_client_cannot_talk_to_a_tls_port(mtls_server: ServerProcess, tokens) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _list(ClientSecurity(token=tokens.infer), mtls_server.address)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_tls_without_a_client_certificate_is_refused(
    mtls_server: ServerProcess, certs: CertFiles, tokens
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _list(ClientSecurity.from_options(tls_ca=certs.ca, token=tokens.infer),
              mtls_server.address)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_client_certificate_from_another_ca_is_refused(
    mtls_server: ServerProcess, certs: CertFiles, tokens, tmp_path
) -> None:
    from tests.support.certs import new_authority

    stranger_cert, stranger_key = new_authority("stranger").issue("intruder", server=False)
    (tmp_path / "c.pem").write_bytes(stranger_cert)
    (tmp_path / "c.key").write_bytes(stranger_key)
    security = ClientSecurity.from_options(
        tls_ca=certs.ca, tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "c.key",
        token=tokens.infer,
    )
    with pytest.raises(grpc.RpcError) as caught:
        _list(security, mtls_server.address)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def _served_certificate(address: str, certs: CertFiles) -> bytes:
    host, port = address.rsplit(":", 1)
    context = ssl.create_default_context(cafile=str(certs.ca))
    context.load_cert_chain(certs.client_cert, certs.client_key)
    context.set_alpn_protocols(["h2"])
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def test_rotated_certificate_is_served_without_restart(
    mtls_server: ServerProcess, certs: CertFiles, tokens
) -> None:
    from cryptography import x509

    before = _served_certificate(mtls_server.address, certs)
    new_cert, new_key = certs.authority.issue("localhost", server=True)
    # Key first, then certificate: the server never sees a new cert with an old key
    # it would accept (and a mismatched pair is refused by the reload check anyway).
    mtls_server.live_key.write_bytes(new_key)  # type: ignore[attr-defined]
    mtls_server.live_cert.write_bytes(new_cert)  # type: ignore[attr-defined]
    expected = x509.load_pem_x509_certificate(new_cert).serial_number
    deadline = time.monotonic() + 20
    served = before
    while time.monotonic() < deadline:
        served = _served_certificate(mtls_server.address, certs)
        if served != before:
            break
        time.sleep(0.2)
    assert x509.load_der_x509_certificate(served).serial_number == expected
    # And gRPC calls keep working on new connections with the new certificate.
    assert _list(_mtls(certs, tokens.infer), mtls_server.address).models
    assert mtls_server.alive()


def test_metrics_port_takes_tls_and_client_certificates(
    mtls_server: ServerProcess, certs: CertFiles
) -> None:
    import urllib.error
    import urllib.request

    url = f"https://127.0.0.1:{mtls_server.metrics_port}/metrics"
    # A client that connects and says nothing must not hold up the scrapes.
    silent = socket.create_connection(("127.0.0.1", mtls_server.metrics_port), timeout=10)
    context = ssl.create_default_context(cafile=str(certs.ca))
    context.load_cert_chain(certs.client_cert, certs.client_key)
    body = urllib.request.urlopen(url, context=context, timeout=10).read().decode()
    assert "seqserve" in body
    anonymous = ssl.create_default_context(cafile=str(certs.ca))
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
        urllib.request.urlopen(url, context=anonymous, timeout=10).read()
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(mtls_server.metrics_url, timeout=10).read()
    silent.close()


def test_a_half_written_renewal_keeps_the_old_certificate(certs: CertFiles, tmp_path) -> None:
    from seqserve.server.api.security_settings import TlsFiles
    from seqserve.server.api.tls import ReloadingCertificates

    cert, key = tmp_path / "s.pem", tmp_path / "s.key"
    cert.write_bytes(certs.server_cert.read_bytes())
    key.write_bytes(certs.server_key.read_bytes())
    reloading = ReloadingCertificates(TlsFiles(cert, key))
    assert reloading.fetch() is None  # unchanged files: nothing to do
    new_cert, new_key = certs.authority.issue("localhost", server=True)
    cert.write_bytes(new_cert)  # the key is still the old one: a mismatched pair
    assert reloading.fetch() is None and reloading.reloads == 0
    key.write_bytes(new_key)
    assert reloading.fetch() is not None and reloading.reloads == 1
