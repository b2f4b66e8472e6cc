"""deploy/k8s has the same shape as compose: Redis + N replicas + HAProxy. The
balancer's config is the compose one with DNS-discovered servers (and valid for
`haproxy -c`), it finds the replicas through the headless Service on their real
ports, the replicas' session store is the Redis Service, and ports agree from the
ConfigMap to the containers to the Services."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from seqserve.server.engine.sessions.store_choice import parse_store_spec
from tests.deploy.effective_settings import effective_serve_args
from tests.deploy.haproxy_cfg import (
    bind_port,
    down_after_seconds,
    haproxy_check,
    haproxy_version,
    sections,
    servers,
)
from tests.deploy.k8s_docs import (
    CONTAINER,
    POD,
    PORTS,
    REPLICAS_SERVICE,
    container_ports,
    manifest,
    only_container,
    option,
    pod_labels,
    pod_spec,
    server_args,
)

COMPOSE_CFG = (Path(__file__).resolve().parents[2] / "deploy" / "haproxy" / "haproxy.cfg"
               ).read_text()
BALANCER_SETTINGS = manifest("ConfigMap", "seqserve-haproxy")
CFG: str = BALANCER_SETTINGS["data"]["haproxy.cfg"]
BALANCER = manifest("Deployment", "seqserve-haproxy")
BALANCER_CONTAINER = only_container(BALANCER)
ENTRY = manifest("Service", "seqserve")
REDIS = manifest("Deployment", "seqserve-redis")
REDIS_CONTAINER = only_container(REDIS)
REDIS_SERVICE = manifest("Service", "seqserve-redis")
HPA = manifest("HorizontalPodAutoscaler", "seqserve")
CLUSTER_DOMAIN = "svc.cluster.local"


def service_port(service: dict, name: str) -> dict:
    (port,) = [p for p in service["spec"]["ports"] if p["name"] == name]
    return port


def without_servers(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith(("server ", "server-template "))]


def test_the_balancer_routes_and_checks_exactly_as_the_compose_config():
    ours, theirs = sections(CFG), sections(COMPOSE_CFG)
    assert set(ours) == set(theirs)
    for name in ours:
        if name.startswith("resolvers "):
            continue  # k8s adds a larger DNS payload for many records
        assert without_servers(ours[name]) == without_servers(theirs[name]), name


def test_every_backend_fills_its_slots_from_the_headless_service():
    assert REPLICAS_SERVICE["spec"]["clusterIP"] == "None"
    name = REPLICAS_SERVICE["metadata"]["name"]
    grpc, metrics = service_port(REPLICAS_SERVICE, "grpc"), service_port(REPLICAS_SERVICE,
                                                                           "metrics")
    for backend in ("backend stateless", "backend sessions", "backend decode"):
        (template,) = servers(sections(CFG)[backend])
        assert template.host == f"{name}.${{POD_NAMESPACE}}.{CLUSTER_DOMAIN}", backend
        # A headless Service does no port mapping: HAProxy dials the pod's port.
        assert template.port == grpc["port"] == PORTS[grpc["targetPort"]], backend
        assert template.check_port == metrics["port"] == PORTS[metrics["targetPort"]], backend
        assert template.count >= HPA["spec"]["maxReplicas"], "slots for every replica"
    # Every balancer pod keys the session hash ring by the pods' addresses.
    (line,) = [s for s in sections(CFG)["backend sessions"] if s.startswith("server-template ")]
    assert line.split()[-2:] == ["hash-key", "addr"]


def test_the_balancer_pod_reads_that_config_with_its_namespace():
    mounts = {m["name"]: m["mountPath"] for m in BALANCER_CONTAINER["volumeMounts"]}
    (volume,) = [v for v in pod_spec(BALANCER)["volumes"] if v["name"] == "config"]
    assert volume["configMap"]["name"] == BALANCER_SETTINGS["metadata"]["name"]
    assert mounts["config"] == "/usr/local/etc/haproxy"  # the haproxy image's CMD -f
    (namespace,) = [e for e in BALANCER_CONTAINER["env"] if e["name"] == "POD_NAMESPACE"]
    assert namespace["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert container_ports(BALANCER_CONTAINER) == {"grpc": bind_port(CFG)}
    # hash-key needs HAProxy >= 3.0
    major, minor = (int(n) for n in BALANCER_CONTAINER["image"].split(":")[1].split(".")[:2])
    assert (major, minor) >= (3, 0)


def test_clients_enter_through_the_balancer_on_the_usual_port():
    assert ENTRY["spec"]["selector"].items() <= pod_labels(BALANCER).items()
    assert not ENTRY["spec"]["selector"].items() <= pod_labels(manifest(
        "Deployment", "seqserve")).items()
    grpc = service_port(ENTRY, "grpc")
    assert grpc["port"] == PORTS["grpc"]
    assert container_ports(BALANCER_CONTAINER)[grpc["targetPort"]] == bind_port(CFG)


def test_the_balancer_config_is_valid_haproxy():
    env = {**os.environ, "POD_NAMESPACE": "default"}
    text = CFG
    if haproxy_version() < (3, 0):
        # This machine's HAProxy predates `hash-key` (3.0, the image's version): check
        # everything else, and that the keyword is the only thing it rejects.
        result = haproxy_check(text, env)
        assert result.returncode != 0 and "unknown keyword 'hash-key'" in result.stderr
        text = re.sub(r" hash-key addr\b", "", text)
    result = haproxy_check(text, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr  # slots start empty, quietly
    missing = {k: v for k, v in env.items() if k != "POD_NAMESPACE"}
    assert haproxy_check(text, missing).returncode != 0  # the namespace is required


def test_replicas_use_the_redis_service_as_session_store(tmp_path):
    args = effective_serve_args(server_args(), {}, tmp_path)
    spec = parse_store_spec(args.session_store)
    assert spec["store"] == "redis"
    url = urlsplit(spec["redis_url"])
    redis_port = service_port(REDIS_SERVICE, "redis")
    assert (url.hostname, url.port) == (REDIS_SERVICE["metadata"]["name"], redis_port["port"])
    assert container_ports(REDIS_CONTAINER)[redis_port["targetPort"]] \
        == int(option(REDIS_CONTAINER["command"], "--port"))
    assert REDIS_SERVICE["spec"]["selector"].items() <= pod_labels(REDIS).items()


def test_one_redis_that_never_evicts_a_lease():
    assert REDIS["spec"]["replicas"] == 1
    assert REDIS["spec"]["strategy"]["type"] == "Recreate"  # never two stores at once
    assert option(REDIS_CONTAINER["command"], "--maxmemory-policy") == "noeviction"
    assert not REDIS_SERVICE["spec"]["selector"].items() <= pod_labels(manifest(
        "Deployment", "seqserve")).items()


def test_the_pre_stop_delay_outlasts_the_balancer_check(tmp_path):
    args = effective_serve_args(server_args(), {}, tmp_path)
    assert args.pre_stop_delay == float(option(server_args(), "--pre-stop-delay"))
    assert args.pre_stop_delay > down_after_seconds(CFG)
    assert POD["terminationGracePeriodSeconds"] >= args.pre_stop_delay + args.grace + 5
    assert POD["enableServiceLinks"] is False  # no SEQSERVE_* from the Services
    assert CONTAINER["envFrom"][0]["configMapRef"]["name"] == "seqserve-settings"
