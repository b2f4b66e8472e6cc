"""/ready on the metrics port: 200 while the gRPC health says SERVING, 503 from the
moment a drain begins (SIGTERM), while the pre-stop delay still serves gRPC calls:
that is the window in which an HTTP-checking balancer (HAProxy) takes the replica
out of rotation. /metrics keeps answering through the drain."""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

from seqserve.server.api.metrics_http import metrics_app
from tests.integration.grpc_helpers import request, stub
from tests.support.server_process import running_server


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _call(app, path: str) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": ""},
                        lambda status, headers: seen.append(status)))
    return seen[0], body


def test_ready_follows_the_callable_and_other_paths_serve_metrics() -> None:
    serving = [False]
    app = metrics_app(lambda: serving[0])
    assert _call(app, "/ready")[0].startswith("503")
    serving[0] = True
    status, body = _call(app, "/ready")
    assert status.startswith("200") and body == b"SERVING\n"
    status, body = _call(app, "/metrics")
    assert status.startswith("200") and b"seqserve_" in body


def test_ready_turns_503_on_sigterm_while_grpc_still_serves(numbers_repository: Path) -> None:
    with running_server(numbers_repository, extra_args=["--pre-stop-delay", "3"]) as server:
        base = f"http://127.0.0.1:{server.metrics_port}"
        assert _status(base + "/ready") == 200
        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 2
        while _status(base + "/ready") != 503:
            assert time.monotonic() < deadline, "/ready still 200 after SIGTERM"
            time.sleep(0.05)
        assert _status(base + "/metrics") == 200  # scraped through the drain
        channel, client = stub(server.address)
        with channel:  # the pre-stop delay: still answering
            assert len(client.Translate(request(["seven"]), timeout=10).translations) == 1
        assert server.process.wait(30) == 0
