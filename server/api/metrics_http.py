"""Prometheus /metrics over HTTP on its own port, and /ready for HTTP-only probes.

/ready answers 200 while the gRPC health says SERVING and 503 otherwise (models
still loading, or a drain began): a balancer that cannot speak grpc.health.v1
(HAProxy's HTTP checks) takes a replica out of rotation as soon as it drains,
during the pre-stop delay, before the gRPC server stops taking calls. Every
other path serves the metrics, as prometheus_client does.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

from seqserve.server.api.security_settings import TlsFiles
from seqserve.server.metrics import REGISTRY

READY_PATH = "/ready"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class MetricsServer:
    httpd: WSGIServer
    thread: Thread

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for)."""
        return int(self.httpd.server_port)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def metrics_app(ready: Callable[[], bool] | None = None) -> WsgiApp:
    """The registry's metrics at every path, and /ready from `ready` (always 200 without)."""
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != READY_PATH:
            return metrics(environ, start_response)
        serving = ready is None or ready()
        body = b"SERVING\n" if serving else b"NOT_SERVING\n"
        start_response("200 OK" if serving else "503 Service Unavailable",
                       [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # a scrape every few seconds must not fill the log


def _plain_server(host: str) -> type[WSGIServer]:
    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    return Server


def start_metrics_http(
    host: str, port: int, tls: TlsFiles | None = None,
    ready: Callable[[], bool] | None = None,
) -> MetricsServer:
    """Serve seqserve's REGISTRY (not the process-global default) at http://host:port/.

    With `tls`, https only; with its client_ca, scrapers must present a certificate.
    """
    app = metrics_app(ready)
    if tls is None:
        httpd = make_server(host, port, app, _plain_server(host), handler_class=_QuietHandler)
        thread = Thread(target=httpd.serve_forever, name="metrics-http", daemon=True)
        thread.start()
    else:
        from seqserve.server.api.metrics_tls import start_metrics_https

        httpd, thread = start_metrics_https(host, port, tls, app)
    return MetricsServer(httpd, thread)
