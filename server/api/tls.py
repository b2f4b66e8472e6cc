"""Server TLS credentials that follow the certificate files on disk.

grpc.dynamic_ssl_server_credentials asks a fetcher for a new certificate
configuration on every TLS handshake; ours stats the files and re-reads them
only when a modification time (or size) changed, so a renewed certificate is
served to new connections without a restart, and connections already open
keep theirs. A half-written file (a renewal caught mid-copy) cannot be
loaded: the previous configuration stays in use and the error is logged.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
from pathlib import Path

import grpc

from seqserve.server.api.security_settings import TlsFiles

logger = logging.getLogger(__name__)


def _stamp(paths: list[Path]) -> tuple[tuple[int, int], ...]:
    stats = [os.stat(path) for path in paths]
    return tuple((s.st_mtime_ns, s.st_size) for s in stats)


class ReloadingCertificates:
    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._paths = [files.cert, files.key] + ([files.client_ca] if files.client_ca else [])
        self._lock = threading.Lock()
        self._stamp = _stamp(self._paths)
        self._failed: tuple[tuple[int, int], ...] | None = None
        self.initial = self._configuration()
        self.reloads = 0

    def _configuration(self) -> grpc.ServerCertificateConfiguration:
        cert = self.files.cert.read_bytes()
        key = self.files.key.read_bytes()
        try:
            # The stdlib checks the pair (a key from another certificate, a
            # truncated file) before gRPC would fail every handshake with it.
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(self.files.cert, self.files.key)
        except ssl.SSLError as exc:
            raise ValueError(f"{self.files.cert} / {self.files.key}: {exc}") from exc
        root = self.files.client_ca.read_bytes() if self.files.client_ca else None
        return grpc.ssl_server_certificate_configuration([(key, cert)], root_certificates=root)

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by gRPC per handshake (its own thread): None keeps the current one."""
        with self._lock:
            stamp: tuple[tuple[int, int], ...] | None = None
            try:
                stamp = _stamp(self._paths)
                if stamp in (self._stamp, self._failed):
                    return None
                configuration = self._configuration()
            except (OSError, ValueError) as exc:
                self._failed = stamp  # logged once per broken state, not per handshake
                logger.error("TLS files changed but cannot be loaded (keeping the old ones): %s",
                             exc)
                return None
            self._stamp = stamp
            self.reloads += 1
            logger.info("TLS certificate reloaded from %s", self.files.cert)
            return configuration

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.dynamic_ssl_server_credentials(
            self.initial, self.fetch,
            require_client_authentication=self.files.client_ca is not None,
        )


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    for path in (files.cert, files.key, files.client_ca):
        if path is not None and not path.is_file():
            raise OSError(f"TLS file not found: {path}")
    return ReloadingCertificates(files).credentials()
