"""deploy/k8s at schema level (no cluster here): kinds, apiVersions, required fields,
selectors that match, ports equal to the server's flag defaults, probes on real ports,
shutdown timing that covers the server's drain, and HPA metrics the server exports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.metric_names import exposed_names
from tests.deploy.server_flags import serve_default, serve_options

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
API_VERSIONS = {
    "ConfigMap": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "ServingRuntime": "serving.kserve.io/v1alpha1",
    "InferenceService": "serving.kserve.io/v1beta1",
}
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
DOCS = [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
        if doc]
BY_KIND = {doc["kind"]: doc for doc in DOCS}


def dig(doc: dict[str, Any], dotted: str) -> Any:
    value: Any = doc
    for key in dotted.split("."):
        assert isinstance(value, dict) and key in value, f"{doc['kind']}: {dotted} missing"
        value = value[key]
    return value


DEPLOYMENT = BY_KIND["Deployment"]
POD = DEPLOYMENT["spec"]["template"]["spec"]
(CONTAINER,) = POD["containers"]
SETTINGS = BY_KIND["ConfigMap"]["data"]
PORTS = {p["name"]: p["containerPort"] for p in CONTAINER["ports"]}


def expanded_args(args: list[str]) -> list[str]:
    """The container args after Kubernetes expands $(VAR) from the ConfigMap."""
    return [re.sub(r"\$\((\w+)\)", lambda m: SETTINGS[m.group(1)], str(a)) for a in args]


def option(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_every_kind_is_present_once_with_its_api_version():
    kinds = [doc["kind"] for doc in DOCS]
    assert sorted(kinds) == sorted(API_VERSIONS)
    for doc in DOCS:
        assert doc["apiVersion"] == API_VERSIONS[doc["kind"]]
        assert doc["metadata"]["name"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d["kind"])
def test_required_fields(doc):
    for path in REQUIRED[doc["kind"]]:
        assert dig(doc, path) not in (None, "", [], {})


def test_selectors_match_the_pod_labels():
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert BY_KIND["Service"]["spec"]["selector"].items() <= labels.items()
    assert BY_KIND["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() \
        <= labels.items()
    target = BY_KIND["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", DEPLOYMENT["metadata"]["name"])


def test_container_ports_are_the_server_defaults_and_the_configmap_values():
    assert {"grpc": serve_default("--port"), "metrics": serve_default("--metrics-port")} == PORTS
    args = expanded_args(CONTAINER["args"])
    assert int(option(args, "--port")) == PORTS["grpc"]
    assert int(option(args, "--metrics-port")) == PORTS["metrics"]
    assert option(args, "--host") == "0.0.0.0"
    template = DEPLOYMENT["spec"]["template"]["metadata"]["annotations"]
    assert int(template["prometheus.io/port"]) == PORTS["metrics"]


def test_args_use_real_serve_flags_with_valid_values():
    args = expanded_args(CONTAINER["args"])
    assert args[0] == "serve"
    known = serve_options()
    for flag in (a for a in args if a.startswith("--")):
        assert flag in known, flag
    for flag in ("--policy", "--log-level"):
        assert option(args, flag) in known[flag].choices
    assert (CONTAINER["envFrom"][0]["configMapRef"]["name"]
            == BY_KIND["ConfigMap"]["metadata"]["name"])
    mounts = {m["mountPath"] for m in CONTAINER["volumeMounts"]}
    assert option(args, "--model-repository") in mounts


def test_native_grpc_probes_on_the_grpc_port():
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert CONTAINER[probe]["grpc"]["port"] == PORTS["grpc"], probe


def test_service_targets_named_container_ports():
    ports = BY_KIND["Service"]["spec"]["ports"]
    assert {p["targetPort"] for p in ports} == set(PORTS)
    assert {p["name"]: p["port"] for p in ports} == PORTS


def test_termination_grace_covers_prestop_and_the_drain():
    sleep = int(CONTAINER["lifecycle"]["preStop"]["exec"]["command"][-1])
    grace = float(option(expanded_args(CONTAINER["args"]), "--grace"))
    assert grace == serve_default("--grace")
    # preStop runs inside the termination grace period; the server then needs `grace`
    # for in-flight RPCs plus a few seconds to close the models.
    assert POD["terminationGracePeriodSeconds"] >= sleep + grace + 5


def test_resources_set():
    assert CONTAINER["resources"]["requests"]["cpu"]
    assert CONTAINER["resources"]["limits"]["memory"]


def test_hpa_scales_on_cpu_and_a_metric_the_server_exports(deploy_server):
    metrics = BY_KIND["HorizontalPodAutoscaler"]["spec"]["metrics"]
    assert {m["type"] for m in metrics} == {"Resource", "Pods"}
    names = {m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"}
    assert names == {"seqserve_queue_depth"}
    assert names <= exposed_names(deploy_server.metrics_url)


def test_kserve_runtime_serves_v2_grpc_on_the_server_port():
    runtime, service = BY_KIND["ServingRuntime"], BY_KIND["InferenceService"]
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
    metrics = BY_KIND["HorizontalPodAutoscaler"]["spec"]["metrics"]
    wanted = {m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"}
    assert wanted <= served
    for rule in values["rules"]["custom"]:
        assert re.search(rule["name"]["matches"], rule["name"]["as"])
        assert rule["name"]["as"] in rule["seriesQuery"]
