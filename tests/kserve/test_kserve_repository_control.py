"""RepositoryModelLoad as an attacker would call it: names are plain names inside
the repository (aliases normalised, paths refused), the number of loaded models is
bounded, a malformed config.yaml is a clear error naming file and line, `version`
is honoured and `config` overrides refused, and no message shows a server path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tritonclient.grpc import service_pb2

from tests.kserve.kserve_helpers import expect_error, raw_stub
from tests.support.server_process import ServerProcess, running_server

MAX_MODELS = 2
RepoParam = service_pb2.ModelRepositoryParameter


@pytest.fixture(scope="module")
def control_server(
    numbers_repository: Path, tmp_path_factory
) -> Iterator[tuple[ServerProcess, Path]]:
    base = tmp_path_factory.mktemp("repo-control")
    root, outside = base / "repo", base / "outside"
    model = numbers_repository / "numbers" / "1"
    for name, versions in (("numbers", (1,)), ("multi", (1, 2))):
        for version in versions:
            (root / name).mkdir(parents=True, exist_ok=True)
            (root / name / str(version)).symlink_to(model, target_is_directory=True)
    (outside / "stolen").mkdir(parents=True)
    (outside / "stolen" / "1").symlink_to(model, target_is_directory=True)
    with running_server(root, extra_args=["--max-models", str(MAX_MODELS)]) as server:
        yield server, root


def _load(address: str, name: str, **parameters: RepoParam) -> object:
    with raw_stub(address) as stub:
        return stub.RepositoryModelLoad(
            service_pb2.RepositoryModelLoadRequest(model_name=name, parameters=parameters),
            timeout=60,
        )


def _index(address: str) -> list[str]:
    with raw_stub(address) as stub:
        reply = stub.RepositoryIndex(service_pb2.RepositoryIndexRequest(), timeout=30)
    return sorted(m.name for m in reply.models)


@pytest.mark.parametrize("name", [
    "../outside/stolen", "../../outside/stolen", "numbers/../../outside/stolen",
    "/etc", "numbers/1", "..", "a\\b", "x" * 300, "é" * 200,
])
def test_names_that_are_not_plain_names_are_invalid_argument(control_server, name) -> None:
    server, root = control_server
    message = expect_error(lambda: _load(server.address, name), "INVALID_ARGUMENT", "name")
    assert str(root.parent) not in message
    assert "stolen" not in _index(server.address)
    assert server.alive()


def test_aliases_load_the_one_model_they_name(control_server) -> None:
    server, _ = control_server
    for alias in ("./numbers", "numbers/", ".//numbers/."):
        _load(server.address, alias)
    assert _index(server.address) == ["multi", "numbers"]


def test_the_number_of_loaded_models_is_bounded(control_server) -> None:
    server, root = control_server
    (root / "third").mkdir()
    (root / "third" / "1").symlink_to((root / "numbers" / "1").resolve())
    expect_error(lambda: _load(server.address, "third"), "RESOURCE_EXHAUSTED", "third")
    with raw_stub(server.address) as stub:
        stub.RepositoryModelUnload(
            service_pb2.RepositoryModelUnloadRequest(model_name="multi"), timeout=60)
    _load(server.address, "third")  # room again
    with raw_stub(server.address) as stub:
        stub.RepositoryModelUnload(
            service_pb2.RepositoryModelUnloadRequest(model_name="third"), timeout=60)
    _load(server.address, "multi")


def test_malformed_config_yaml_names_file_and_line(control_server) -> None:
    server, root = control_server
    (root / "broken" / "1").mkdir(parents=True)
    (root / "broken" / "1" / "config.yaml").write_text("kind: seq2seq\nname: [unclosed\n")
    message = expect_error(lambda: _load(server.address, "broken"), "FAILED_PRECONDITION",
                           "broken/1/config.yaml", "line")
    assert str(root) not in message
    assert server.alive()


def test_version_is_honoured_and_config_override_refused(control_server) -> None:
    server, _ = control_server
    _load(server.address, "multi", version=RepoParam(string_param="1"))
    with raw_stub(server.address) as stub:
        ready = stub.ModelReady(service_pb2.ModelReadyRequest(name="multi", version="1"),
                                timeout=30)
        assert ready.ready
    _load(server.address, "multi", version=RepoParam(int64_param=2))
    with raw_stub(server.address) as stub:
        ready = stub.ModelReady(service_pb2.ModelReadyRequest(name="multi", version="2"),
                                timeout=30)
        assert ready.ready
    expect_error(lambda: _load(server.address, "multi", version=RepoParam(string_param="²")),
                 "INVALID_ARGUMENT", "version")
    expect_error(lambda: _load(server.address, "multi", version=RepoParam(int64_param=9)),
                 "NOT_FOUND", "multi")
    expect_error(lambda: _load(server.address, "multi", config=RepoParam(string_param="{}")),
                 "INVALID_ARGUMENT", "config")
