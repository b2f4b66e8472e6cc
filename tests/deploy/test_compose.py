"""deploy/compose.yaml cannot be started here (no container engine): check its shape.
Redis + N seqserve replicas + HAProxy, Prometheus scraping every replica on the metrics
port the image serves, Grafana provisioned, and every mounted file present."""

from __future__ import annotations

import yaml

from tests.deploy.compose_file import DEPLOY, IMAGE_DOCKERFILE, REPLICAS, SERVICES, image_cmd


def test_shape_is_redis_replicas_and_balancer():
    assert len(REPLICAS) >= 2
    assert {"redis", "haproxy", "prometheus", "grafana"} <= set(SERVICES)
    assert set(REPLICAS) <= set(SERVICES["haproxy"]["depends_on"])
    for name in REPLICAS:
        replica = SERVICES[name]
        assert replica["build"]["dockerfile"] == IMAGE_DOCKERFILE
        assert (DEPLOY / replica["build"]["context"] / replica["build"]["dockerfile"]).exists()
        assert "redis" in replica["depends_on"]
        assert any(v.endswith(":/models:ro") for v in replica["volumes"])


def test_prometheus_scrapes_every_replica_on_the_metrics_port():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "seqserve"]
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    cmd = image_cmd()
    port = cmd[cmd.index("--metrics-port") + 1]
    assert targets == {f"{name}:{port}" for name in REPLICAS}
    assert all(port in SERVICES[name]["expose"] for name in REPLICAS)


def test_mounted_files_exist():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                continue  # a named volume or an ${ENV} path chosen at run time
            assert (DEPLOY / source).exists(), f"{name}: {source} does not exist"


def test_grafana_is_provisioned_with_the_prometheus_service():
    source = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (datasource,) = source["datasources"]
    assert datasource["uid"] == "prometheus"  # the uid the dashboard's panels name
    assert datasource["url"] == "http://prometheus:9090"
    provider = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "seqserve.yml").read_text()
    )
    mounts = dict(v.split(":")[:2] for v in SERVICES["grafana"]["volumes"])
    assert mounts["./grafana/dashboards"] == provider["providers"][0]["options"]["path"]
