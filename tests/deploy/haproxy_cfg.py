"""A small reader of HAProxy config files (sections, server lines, durations) and
`haproxy -c` for the deploy tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

_SECTION_KEYWORDS = ("global", "defaults", "frontend", "backend", "listen", "resolvers",
                     "peers", "userlist", "program", "cache")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True)
class Server:
    """One `server NAME HOST:PORT ... check port M` line, or one `server-template`."""

    name: str
    host: str
    port: int
    check_port: int | None
    count: int = 1  # server-template's number of slots


def sections(text: str) -> dict[str, list[str]]:
    """'frontend grpc' -> its lines, stripped, without comments or blank lines."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not raw[0].isspace() and line.split()[0] in _SECTION_KEYWORDS:
            current = out.setdefault(line, [])
            continue
        assert current is not None, f"a setting before any section: {line!r}"
        current.append(line)
    return out


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]*)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit or "ms"]  # HAProxy's default unit is ms


def keyword_value(line: str, keyword: str) -> str | None:
    words = line.split()
    return words[words.index(keyword) + 1] if keyword in words else None


def servers(lines: list[str]) -> list[Server]:
    found = []
    for line in lines:
        words = line.split()
        if words[0] == "server":
            name, address = words[1], words[2]
            count = 1
        elif words[0] == "server-template":
            name, address = words[1], words[3]
            count = int(words[2])
        else:
            continue
        host, port = address.strip('"').rsplit(":", 1)
        check = keyword_value(line, "port")
        found.append(Server(name, host, int(port), int(check) if check else None, count))
    return found


def bind_port(text: str) -> int:
    (frontend,) = [lines for name, lines in sections(text).items()
                   if name.startswith("frontend ")]
    (bind,) = [line for line in frontend if line.startswith("bind ")]
    return int(bind.split()[1].rsplit(":", 1)[1])


def down_after_seconds(text: str) -> float:
    """How long a replica that starts failing its check stays in rotation at most:
    the default-server's `inter` x `fall`."""
    (line,) = [line for line in sections(text)["defaults"] if line.startswith("default-server ")]
    inter, fall = keyword_value(line, "inter"), keyword_value(line, "fall")
    assert inter and fall, line
    return seconds(inter) * int(fall)


def require_haproxy() -> str:
    path = shutil.which("haproxy")
    if path is None:
        pytest.skip("haproxy is not installed (make system-deps installs it)")
    return path


def haproxy_version() -> tuple[int, int]:
    done = subprocess.run([require_haproxy(), "-v"], capture_output=True, text=True, timeout=30)
    major, minor = re.search(r"version (\d+)\.(\d+)", done.stdout).groups()  # type: ignore[union-attr]
    return int(major), int(minor)


def haproxy_check(text: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`haproxy -c` on the text (written to a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="seqserve-cfg-") as workdir:
        path = Path(workdir) / "haproxy.cfg"
        path.write_text(text)
        return subprocess.run([require_haproxy(), "-c", "-f", str(path)], capture_output=True,
                              text=True, timeout=30, env=env)
