"""deploy/k8s at schema level (no cluster here): kinds, apiVersions, required fields,
selectors that match, ports equal to the server's flag defaults, probes on real ports,
shutdown timing that covers the server's drain, and HPA metrics the server exports."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.deploy.k8s_docs import (
    CONTAINER,
    DEPLOYMENT,
    DOCS,
    K8S,
    POD,
    PORTS,
    REPLICAS_SERVICE,
    manifest,
    option,
    server_args,
)
from tests.deploy.metric_names import exposed_names
from tests.deploy.server_flags import serve_default, serve_options

API_VERSIONS = {
    "ConfigMap": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "ServingRuntime": "serving.kserve.io/v1alpha1",
    "InferenceService": "serving.kserve.io/v1beta1",
}
MANIFESTS = sorted([  # (kind, name) of every document in deploy/k8s
    ("ConfigMap", "seqserve-settings"),
    ("Deployment", "seqserve"),
    ("Service", "seqserve-replicas"),  # headless: the balancer resolves the replicas
    ("HorizontalPodAutoscaler", "seqserve"),
    ("PodDisruptionBudget", "seqserve"),
    ("Deployment", "seqserve-redis"),  # the shared session store
    ("Service", "seqserve-redis"),
    ("ConfigMap", "seqserve-haproxy"),  # the balancer
    ("Deployment", "seqserve-haproxy"),
    ("Service", "seqserve"),  # the clients' entry point, through the balancer
    ("ServingRuntime", "seqserve"),
    ("InferenceService", "seqserve-numbers"),
])
REQUIRED = {  # dotted paths each kind must set
    "ConfigMap": ["data"],
    "Service": ["spec.selector", "spec.ports"],
    "Deployment": ["spec.selector.matchLabels", "spec.template.metadata.labels",
                   "spec.template.spec.containers"],
    "HorizontalPodAutoscaler": ["spec.scaleTargetRef.name", "spec.maxReplicas", "spec.metrics"],
    "PodDisruptionBudget": ["spec.selector.matchLabels"],
    "ServingRuntime": ["spec.supportedModelFormats", "spec.containers"],
    "InferenceService": ["spec.predictor.model.modelFormat.name",
                         "spec.predictor.model.storageUri"],
}
HPA = manifest("HorizontalPodAutoscaler", "seqserve")
PDB = manifest("PodDisruptionBudget", "seqserve")
RUNTIME = manifest("ServingRuntime", "seqserve")
INFERENCE = manifest("InferenceService", "seqserve-numbers")


def dig(doc: dict[str, Any], dotted: str) -> Any:
    value: Any = doc
    for key in dotted.split("."):
        assert isinstance(value, dict) and key in value, f"{doc['kind']}: {dotted} missing"
        value = value[key]
    return value


def test_every_manifest_is_present_once_with_its_api_version():
    assert sorted((doc["kind"], doc["metadata"]["name"]) for doc in DOCS) == MANIFESTS
    for doc in DOCS:
        assert doc["apiVersion"] == API_VERSIONS[doc["kind"]]
        assert doc["metadata"]["name"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: f"{d['kind']}-{d['metadata']['name']}")
def test_required_fields(doc):
    for path in REQUIRED[doc["kind"]]:
        assert dig(doc, path) not in (None, "", [], {})


def test_selectors_match_the_pod_labels():
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert REPLICAS_SERVICE["spec"]["selector"].items() <= labels.items()
    assert PDB["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = HPA["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", DEPLOYMENT["metadata"]["name"])


def test_container_ports_are_the_server_defaults_and_the_configmap_values():
    assert {"grpc": serve_default("--port"), "metrics": serve_default("--metrics-port")} == PORTS
    args = server_args()
    assert int(option(args, "--port")) == PORTS["grpc"]
    assert int(option(args, "--metrics-port")) == PORTS["metrics"]
    assert option(args, "--host") == "0.0.0.0"
    template = DEPLOYMENT["spec"]["template"]["metadata"]["annotations"]
    assert int(template["prometheus.io/port"]) == PORTS["metrics"]


def test_args_use_real_serve_flags_with_valid_values():
    args = server_args()
    assert args[0] == "serve"
    known = serve_options()
    for flag in (a for a in args if a.startswith("--")):
        assert flag in known, flag
    for flag in ("--policy", "--log-level"):
        assert option(args, flag) in known[flag].choices
    assert CONTAINER["envFrom"][0]["configMapRef"]["name"] == "seqserve-settings"
    mounts = {m["mountPath"] for m in CONTAINER["volumeMounts"]}
    assert option(args, "--model-repository") in mounts


def test_native_grpc_probes_on_the_grpc_port():
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert CONTAINER[probe]["grpc"]["port"] == PORTS["grpc"], probe


def test_replicas_service_targets_named_container_ports():
    ports = REPLICAS_SERVICE["spec"]["ports"]
    assert {p["targetPort"] for p in ports} == set(PORTS)
    assert {p["name"]: p["port"] for p in ports} == PORTS


def test_termination_grace_covers_the_pre_stop_delay_and_the_drain():
    pre_stop = float(option(server_args(), "--pre-stop-delay"))
    grace = float(option(server_args(), "--grace"))
    assert grace == serve_default("--grace")
    assert pre_stop > 0
    # The server's own pre-stop delay replaces a preStop `sleep` (deployment.yaml says
    # why); both would only add up.
    assert "preStop" not in CONTAINER.get("lifecycle", {})
    # After SIGTERM the server reports NOT_SERVING for `pre_stop` while serving, then
    # needs `grace` for in-flight RPCs plus a few seconds to close the models.
    assert POD["terminationGracePeriodSeconds"] >= pre_stop + grace + 5


def test_resources_set():
    assert CONTAINER["resources"]["requests"]["cpu"]
    assert CONTAINER["resources"]["limits"]["memory"]


def test_hpa_scales_on_cpu_and_a_metric_the_server_exports(deploy_server):
    metrics = HPA["spec"]["metrics"]
    assert {m["type"] for m in metrics} == {"Resource", "Pods"}
    names = {m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"}
    assert names == {"seqserve_queue_depth"}
    assert names <= exposed_names(deploy_server.metrics_url)


def test_kserve_runtime_serves_v2_grpc_on_the_server_port():
    runtime, service = RUNTIME, INFERENCE
    assert "grpc-v2" in runtime["spec"]["protocolVersions"]
    (container,) = runtime["spec"]["containers"]
    args = [str(a) for a in container["args"]]
    (port,) = container["ports"]
    assert port["name"] == "h2c" and port["containerPort"] == int(option(args, "--port"))
    assert option(args, "--model-repository") == "/mnt/models"  # KServe's storage mount
    known = serve_options()
    assert all(a in known for a in args if a.startswith("--"))
    model = service["spec"]["predictor"]["model"]
    assert model["runtime"] == runtime["metadata"]["name"]
    formats = {f["name"] for f in runtime["spec"]["supportedModelFormats"]}
    assert model["modelFormat"]["name"] in formats
    assert model["protocolVersion"] in runtime["spec"]["protocolVersions"]
    assert int(runtime["metadata"]["annotations"]["prometheus.kserve.io/port"]) \
        == int(option(args, "--metrics-port"))


def test_the_metrics_adapter_serves_the_hpa_metric():
    values = yaml.safe_load((K8S / "adapter" / "prometheus-adapter-values.yaml").read_text())
    served = {rule["name"]["as"] for rule in values["rules"]["custom"]}
    metrics = HPA["spec"]["metrics"]
    wanted = {m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"}
    assert wanted <= served
    for rule in values["rules"]["custom"]:
        assert re.search(rule["name"]["matches"], rule["name"]["as"])
        assert rule["name"]["as"] in rule["seriesQuery"]
