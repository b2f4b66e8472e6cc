"""deploy/compose.yaml and deploy/haproxy/haproxy.cfg describe one deployment: every
`server` HAProxy names is a replica service on a port it exposes, checked on the
image's metrics port; the published port reaches the frontend; the replicas (as the
server itself reads their environment) share the compose Redis and stay in
rotation less long than their pre-stop delay; compose waits out the whole drain."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from seqserve.server.engine.sessions.store_choice import parse_store_spec
from tests.deploy.compose_file import DEPLOY, REPLICAS, SERVICES, image_cmd, option
from tests.deploy.effective_settings import effective_serve_args
from tests.deploy.haproxy_cfg import bind_port, down_after_seconds, sections, servers

CFG = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()
BACKENDS = {name: lines for name, lines in sections(CFG).items() if name.startswith("backend ")}
REDIS_DEFAULT_PORT = 6379
DRAIN_MARGIN_S = 5.0
"""Closing the models after the grace (the same margin the k8s test allows)."""


def compose_seconds(value: str) -> float:
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", value)
    assert "".join(n + u for n, u in parts) == value, f"not a compose duration: {value!r}"
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def effective(name: str, model_dir: Path):
    environment = {k: str(v) for k, v in SERVICES[name].get("environment", {}).items()}
    return effective_serve_args(image_cmd(), environment, model_dir)


def test_every_backend_lists_every_replica():
    assert set(BACKENDS) == {"backend stateless", "backend sessions", "backend decode"}
    for backend, lines in BACKENDS.items():
        hosts = [server.host for server in servers(lines)]
        assert sorted(hosts) == REPLICAS, backend


def test_every_server_is_a_replica_on_a_port_it_exposes_checked_on_the_metrics_port():
    cmd = image_cmd()
    for backend, lines in BACKENDS.items():
        for server in servers(lines):
            assert server.host in SERVICES, f"{backend}: {server.host} is no compose service"
            expose = SERVICES[server.host]["expose"]
            assert str(server.port) in expose and str(server.check_port) in expose, server
            assert server.port == int(option(cmd, "--port")), server
            assert server.check_port == int(option(cmd, "--metrics-port")), server


def test_the_published_port_maps_to_the_frontend_bind():
    (mapping,) = SERVICES["haproxy"]["ports"]
    published, container = (int(p) for p in str(mapping).split(":"))
    assert container == bind_port(CFG)
    assert published == int(option(image_cmd(), "--port"))  # clients keep the usual port
    assert any(v.startswith("./haproxy/haproxy.cfg:") for v in SERVICES["haproxy"]["volumes"])


def test_replicas_share_the_compose_redis(tmp_path):
    redis = SERVICES["redis"]
    command = redis["command"]
    port = int(option(command, "--port")) if "--port" in command else REDIS_DEFAULT_PORT
    for name in REPLICAS:
        args = effective(name, tmp_path)
        spec = parse_store_spec(args.session_store)
        assert spec["store"] == "redis", name
        url = urlsplit(spec["redis_url"])
        assert (url.hostname, url.port or REDIS_DEFAULT_PORT) == ("redis", port), name
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_redis_never_evicts_a_lease():
    command = SERVICES["redis"]["command"]
    assert option(command, "--maxmemory-policy") == "noeviction"


@pytest.mark.parametrize("name", REPLICAS)
def test_pre_stop_outlasts_the_check_and_compose_waits_for_the_drain(name, tmp_path):
    args = effective(name, tmp_path)
    assert args.pre_stop_delay > down_after_seconds(CFG)
    stop = compose_seconds(SERVICES[name]["stop_grace_period"])
    assert stop >= args.pre_stop_delay + args.grace + DRAIN_MARGIN_S
