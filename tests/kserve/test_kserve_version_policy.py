"""Version policy as Triton has it (latest N, specific, all) from the model's
version_policy.yaml; requests pin a version; the index and ListModels list each
loaded version with its state; a reload swaps the whole set."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from tritonclient.grpc import service_pb2

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import request, stub
from tests.kserve.kserve_helpers import expect_error, raw_stub
from tests.support.server_process import running_server


@pytest.fixture(scope="module")
def versioned(numbers_repository: Path, tmp_path_factory):
    root = tmp_path_factory.mktemp("versions")
    model = numbers_repository / "numbers" / "1"
    for name, policy in (("latest2", "latest: 2\n"), ("pick", "specific: [1, 3]\n"),
                         ("every", "all: true\n"), ("plain", None)):
        for version in (1, 2, 3):
            (root / name).mkdir(exist_ok=True)
            (root / name / str(version)).symlink_to(model, target_is_directory=True)
        if policy:
            (root / name / "version_policy.yaml").write_text(policy)
    with running_server(root) as server:
        yield server, root


def _index(address: str) -> dict[str, list[tuple[str, str]]]:
    with raw_stub(address) as kserve:
        models = kserve.RepositoryIndex(service_pb2.RepositoryIndexRequest(), timeout=30).models
    out: dict[str, list[tuple[str, str]]] = {}
    for m in models:
        out.setdefault(m.name, []).append((m.version, m.state))
    return out


def test_each_policy_loads_its_versions(versioned) -> None:
    server, _ = versioned
    index = _index(server.address)
    assert index["latest2"] == [("2", "READY"), ("3", "READY")]
    assert index["pick"] == [("1", "READY"), ("3", "READY")]
    assert index["every"] == [("1", "READY"), ("2", "READY"), ("3", "READY")]
    assert index["plain"] == [("3", "READY")]
    channel, client = stub(server.address)
    with channel:
        listed = client.ListModels(pb.ListModelsRequest(), timeout=30).models
    assert sorted(m.version for m in listed if m.name == "every") == [1, 2, 3]


def test_requests_pin_a_version(versioned) -> None:
    server, _ = versioned
    channel, client = stub(server.address)
    with channel:
        for version in (1, 3):
            reply = client.Translate(pb.TranslateRequest(
                model="pick", version=version, sentences=["seven"]), timeout=30)
            assert reply.version == version
        assert client.Translate(request(["seven"], model="pick"), timeout=30).version == 3
        with pytest.raises(grpc.RpcError) as raised:
            client.Translate(pb.TranslateRequest(model="pick", version=2, sentences=["x"]),
                             timeout=30)
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
        assert "[1, 3]" in raised.value.details()
        meta = client.GetModel(pb.GetModelRequest(model="every", version=2), timeout=30)
        assert meta.version == 2
    with raw_stub(server.address) as kserve:
        assert kserve.ModelReady(service_pb2.ModelReadyRequest(name="latest2", version="2"),
                                 timeout=30).ready
        assert not kserve.ModelReady(service_pb2.ModelReadyRequest(name="latest2", version="1"),
                                     timeout=30).ready
        metadata = kserve.ModelMetadata(service_pb2.ModelMetadataRequest(name="pick"), timeout=30)
        assert list(metadata.versions) == ["1", "3"]


def test_a_changed_policy_applies_on_reload_and_a_bad_one_is_refused(versioned) -> None:
    server, root = versioned
    (root / "plain" / "version_policy.yaml").write_text("latest: 2\n")
    with raw_stub(server.address) as kserve:
        kserve.RepositoryModelLoad(service_pb2.RepositoryModelLoadRequest(model_name="plain"),
                                   timeout=120)
        assert _index(server.address)["plain"] == [("2", "READY"), ("3", "READY")]
        (root / "plain" / "version_policy.yaml").write_text("latest: -1\n")
        expect_error(lambda: kserve.RepositoryModelLoad(
            service_pb2.RepositoryModelLoadRequest(model_name="plain"), timeout=120),
            "FAILED_PRECONDITION", "version_policy.yaml")
    # The versions that served keep serving.
    assert _index(server.address)["plain"] == [("2", "READY"), ("3", "READY")]
