"""/metrics over https, with the TLS handshake in each connection's own thread.

prometheus_client's own TLS server wraps the listening socket, so the
handshake runs inside accept() on the one serving thread: a client that
connects and sends nothing stops every scrape. Here accept() returns at once
and the handshake happens on the connection's thread, bounded by a timeout.
"""

from __future__ import annotations

import socket
import ssl
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from seqserve.server.api.security_settings import TlsFiles

HANDSHAKE_SECONDS = 10.0


class _QuietHandler(WSGIRequestHandler):
    timeout = HANDSHAKE_SECONDS  # a connection silent this long (handshake or request) is closed

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _context(tls: TlsFiles) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert, tls.key)
    if tls.client_ca is not None:
        context.load_verify_locations(tls.client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def start_metrics_https(
    host: str, port: int, tls: TlsFiles, app: Any
) -> tuple[WSGIServer, threading.Thread]:
    context = _context(tls)

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        def get_request(self) -> tuple[socket.socket, Any]:
            raw, address = self.socket.accept()
            return context.wrap_socket(raw, server_side=True,
                                       do_handshake_on_connect=False), address

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a failed handshake or a reset connection is the client's problem

    httpd = make_server(host, port, app, Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread
