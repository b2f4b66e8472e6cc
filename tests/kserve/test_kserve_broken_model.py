"""One broken model does not stop the server: it is FAILED (with its reason) in the
model index, the others serve, ServerReady is false until it loads (Triton's strict
readiness), and fixing it and loading it again makes the server ready."""

from __future__ import annotations

import shutil
from pathlib import Path

from grpc_health.v1 import health_pb2, health_pb2_grpc
from tritonclient.grpc import service_pb2

from tests.integration.grpc_helpers import request, stub
from tests.kserve.kserve_helpers import raw_stub
from tests.support.server_process import running_server


def test_a_broken_model_is_failed_and_the_others_serve(numbers_repository: Path,
                                                       tmp_path: Path) -> None:
    (tmp_path / "numbers").symlink_to(numbers_repository / "numbers", target_is_directory=True)
    broken = tmp_path / "broken" / "1"
    broken.mkdir(parents=True)
    (broken / "config.yaml").write_text("kind: seq2seq\nname: [unclosed\n")
    with running_server(tmp_path) as server:
        with raw_stub(server.address) as kserve:
            index = {m.name: m for m in kserve.RepositoryIndex(
                service_pb2.RepositoryIndexRequest(), timeout=30).models}
            assert index["numbers"].state == "READY"
            assert index["broken"].state == "FAILED"
            assert "broken/1/config.yaml" in index["broken"].reason
            assert "line 3, column 1" in index["broken"].reason  # where YAML noticed
            assert str(tmp_path) not in index["broken"].reason
            assert not kserve.ServerReady(service_pb2.ServerReadyRequest(), timeout=30).ready
            assert kserve.ModelReady(service_pb2.ModelReadyRequest(name="numbers"),
                                     timeout=30).ready
            channel, client = stub(server.address)
            with channel:
                assert len(client.Translate(request(["seven"]), timeout=30).translations) == 1
                health = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=30)
                assert health.status == health_pb2.HealthCheckResponse.SERVING
            # Fixed on disk and loaded again: the server becomes ready.
            shutil.rmtree(broken)
            broken.symlink_to(numbers_repository / "numbers" / "1", target_is_directory=True)
            kserve.RepositoryModelLoad(
                service_pb2.RepositoryModelLoadRequest(model_name="broken"), timeout=120)
            assert kserve.ServerReady(service_pb2.ServerReadyRequest(), timeout=30).ready
        assert server.alive()
