"""deploy/haproxy/haproxy.cfg is valid HAProxy config as shipped and as the tests
generate it (free ports in place of the replica hostnames)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.haproxy_process import TEMPLATE, generate_config, require_haproxy


def _check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True,
                          timeout=30)


def test_generated_config_is_valid_and_routes_as_designed(tmp_path):
    require_haproxy()
    text = generate_config(18080, [(15001, 19001), (15002, 19002)], str(tmp_path / "s.sock"))
    assert "bind 127.0.0.1:18080 proto h2" in text
    # Every backend lists exactly our servers, with the metrics port as check port.
    assert text.count("server replica1 127.0.0.1:15001 check port 19001") == 3
    assert text.count("server replica2 127.0.0.1:15002 check port 19002") == 3
    assert "replica3" not in text
    assert "balance hdr(x-seqserve-session)" in text and "hash-type consistent" in text
    assert "balance roundrobin" in text
    # Long-lived Predict streams: far more than HAProxy's default 100 per connection.
    assert "tune.h2.max-concurrent-streams 4096" in text
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    result = _check(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shipped_config_parses(tmp_path):
    require_haproxy()
    # Compose hostnames do not resolve here: the config says to start anyway.
    result = _check(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr
