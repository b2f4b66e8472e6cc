"""Prometheus /metrics over HTTP on its own port (a daemon thread of prometheus_client)."""

from __future__ import annotations

from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from seqserve.server.api.security_settings import TlsFiles
from seqserve.server.metrics import REGISTRY


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


def start_metrics_http(host: str, port: int, tls: TlsFiles | None = None) -> MetricsServer:
    """Serve seqserve's REGISTRY (not the process-global default) at http://host:port/.

    With `tls`, https only; with its client_ca, scrapers must present a certificate.
    """
    if tls is None:
        httpd, thread = start_http_server(port, addr=host, registry=REGISTRY)
    else:
        from seqserve.server.api.metrics_tls import start_metrics_https

        httpd, thread = start_metrics_https(host, port, tls)
    return MetricsServer(httpd, thread)
