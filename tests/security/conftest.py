"""Servers started for real with generated certificates and a hashed tokens file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from seqserve.server.api.tokens_file import add_token
from tests.support.certs import CertFiles, write_certs
from tests.support.server_process import ServerProcess, running_server


@dataclass
class Tokens:
    file: Path
    infer: str
    admin: str
    other: str
    """A second infer token: another client for the per-client limit tests."""


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    return write_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    path = tmp_path_factory.mktemp("tokens") / "tokens.txt"
    infer, _ = add_token(path, role="infer", name="app")
    admin, _ = add_token(path, role="admin", name="operator")
    other, _ = add_token(path, role="infer", name="other-app")
    return Tokens(path, infer, admin, other)


@pytest.fixture(scope="session")
def mtls_server(
    numbers_repository: Path, certs: CertFiles, tokens: Tokens,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """mTLS + tokens; the server certificate lives in a copy the rotation test rewrites."""
    live = tmp_path_factory.mktemp("live-certs")
    cert, key = live / "server.pem", live / "server.key"
    cert.write_bytes(certs.server_cert.read_bytes())
    key.write_bytes(certs.server_key.read_bytes())
    args = ["--tls-cert", str(cert), "--tls-key", str(key), "--tls-client-ca", str(certs.ca),
            "--tokens-file", str(tokens.file), "--metrics-tls", "--metrics-host", "127.0.0.1"]
    with running_server(numbers_repository, extra_args=args) as process:
        process.live_cert = cert  # type: ignore[attr-defined]
        process.live_key = key  # type: ignore[attr-defined]
        yield process


# The KServe suite's repository (a model of every kind) for the limit tests' streams
# and sessions; imported, not copied, so both suites share the cached exports.
from tests.support.kind_repository import kserve_repository, tiny_captioner_run  # noqa: E402, F401
