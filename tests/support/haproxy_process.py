"""A real HAProxy for tests, configured from deploy/haproxy/haproxy.cfg with free
127.0.0.1 ports in place of the replica hostnames."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server_process import free_port
from tests.support.stopping import stop_process

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "haproxy" / "haproxy.cfg"
_SERVER = re.compile(r"^(\s+)server replica\d+ \S+ check port \d+\s*$")


def require_haproxy() -> None:
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed (make system-deps installs it)")


def generate_config(
    bind_port: int, replicas: list[tuple[int, int]], stats_socket: str | None = None,
    template: str | None = None,
) -> str:
    """The template with `bind 127.0.0.1:bind_port` and one `server` line per replica
    (gRPC port, metrics port) in every backend."""
    text = TEMPLATE.read_text() if template is None else template
    text, binds = re.subn(r"(?m)^(\s+)bind :\d+ ", rf"\g<1>bind 127.0.0.1:{bind_port} ", text)
    assert binds == 1, "the template's frontend must have one `bind :PORT proto h2` line"
    out: list[str] = []
    previous_was_server = False
    for line in text.splitlines():
        match = _SERVER.match(line)
        if match:
            if not previous_was_server:  # the first server line of a backend: emit ours
                out += [f"{match.group(1)}server replica{i + 1} 127.0.0.1:{grpc} check port "
                        f"{metrics}" for i, (grpc, metrics) in enumerate(replicas)]
            previous_was_server = True
            continue
        previous_was_server = False
        out.append(line)
        if stats_socket and line.strip() == "global":
            out.append(f"    stats socket {stats_socket} level admin")
    return "\n".join(out) + "\n"


@dataclass
class HaproxyProcess:
    port: int
    socket_path: str
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(self.socket_path)
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_states(self, backend: str = "sessions") -> dict[str, str]:
        """replicaN -> "UP L7OK" / "DOWN SOCKERR" / ... (state, last check), from `show stat`."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        states = {}
        for row in lines[1:]:
            fields = dict(zip(header, row.split(","), strict=False))
            if fields.get("pxname") == backend and fields.get("svname", "").startswith("replica"):
                states[fields["svname"]] = f"{fields.get('status')} {fields.get('check_status')}"
        return states

    def wait_states(self, wanted: dict[str, str], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.server_states()
            # A server starts UP before its first check: UP counts once a check passed.
            if all(states.get(k, "").startswith(v) and (v != "UP" or "L7OK" in states[k])
                   for k, v in wanted.items()):
                return
            time.sleep(0.1)
        raise AssertionError(f"haproxy servers {self.server_states()} != {wanted}")


@contextmanager
def running_haproxy(
    replicas: list[tuple[int, int]], template: str | None = None
) -> Iterator[HaproxyProcess]:
    """HAProxy on the shipped config (or `template`, e.g. with another maxconn) in front
    of the replicas (gRPC port, metrics port), on a free port."""
    require_haproxy()
    with tempfile.TemporaryDirectory(prefix="seqserve-haproxy-") as workdir:
        port = free_port()
        sock = str(Path(workdir) / "admin.sock")
        config = Path(workdir) / "haproxy.cfg"
        config.write_text(generate_config(port, replicas, sock, template))
        process = subprocess.Popen(["haproxy", "-db", "-f", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server = HaproxyProcess(port, sock, process)
        try:
            deadline = time.monotonic() + 20
            while not Path(sock).exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    err = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"haproxy did not start:\n{err}")
                time.sleep(0.05)
            yield server
        finally:
            stop_process(process)
