"""deploy/docker cannot be built here (no container engine): keep the Dockerfiles honest.
Every path they COPY exists and is not docker-ignored, every command and module they
name exists, ports and volume agree with the server's flags, and no torch gets in."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

from tests.deploy.dockerfile import Instruction, parse, stages
from tests.deploy.server_flags import serve_options

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted((ROOT / "deploy" / "docker").glob("Dockerfile.*"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def final(path: Path) -> list[Instruction]:
    return stages(parse(path))[-1]


def one(instructions: list[Instruction], keyword: str) -> Instruction:
    (found,) = [i for i in instructions if i.keyword == keyword]
    return found


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_both_images_exist():
    assert [p.name for p in DOCKERFILES] == ["Dockerfile.cpu", "Dockerfile.cuda"]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_multi_stage_and_non_root(path):
    groups = stages(parse(path))
    assert len(groups) >= 2
    user = one(groups[-1], "USER").args
    assert user not in ("root", "0")
    # the runtime stage copies the build stage's venv, nothing from the context
    names = {g[0].args.split(" AS ")[-1] for g in groups}
    for copy in (i for i in groups[-1] if i.keyword == "COPY"):
        assert copy.flags().get("from") in names


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_copied_paths_exist_and_are_not_docker_ignored(path):
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    copies = [i for i in parse(path) if i.keyword == "COPY" and "from" not in i.flags()]
    assert copies
    for copy in copies:
        sources = [w for w in copy.words() if not w.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"{path.name}: COPY {source}: no such path"
            assert source.split("/")[0] not in ignored, f"{source} is in .dockerignore"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_entrypoint_is_the_console_script_and_cmd_uses_real_flags(path):
    stage = final(path)
    (script,) = one(stage, "ENTRYPOINT").words()
    target = PYPROJECT["project"]["scripts"][script]
    module, function = target.split(":")
    assert callable(getattr(importlib.import_module(module), function))
    cmd = one(stage, "CMD").words()
    assert cmd[0] == "serve"
    flags = [w for w in cmd if w.startswith("--")]
    assert set(flags) <= set(serve_options()), set(flags) - set(serve_options())
    # ports exposed = ports served; the volume is the model repository
    exposed = {int(p) for p in one(stage, "EXPOSE").words()}
    assert exposed == {int(option(cmd, "--port")), int(option(cmd, "--metrics-port"))}
    assert option(cmd, "--model-repository") in one(stage, "VOLUME").words()
    assert option(cmd, "--host") == "0.0.0.0"  # reachable from outside the container


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_healthcheck_runs_the_health_probe_on_the_grpc_port(path):
    stage = final(path)
    words = one(stage, "HEALTHCHECK").words()
    assert words[:2] == ["python", "-m"]
    probe = importlib.import_module(words[2])
    assert callable(probe.main)
    port = option(one(stage, "CMD").words(), "--port")
    assert option(words, "--target") == f"127.0.0.1:{port}"
    with pytest.raises(SystemExit) as caught:  # its parser knows the flags used
        probe.main(["--help"])
    assert caught.value.code == 0


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_serving_install_only(path):
    installs = [i.args for i in parse(path) if i.keyword == "RUN" and "pip install" in i.args]
    assert installs
    for line in installs:
        assert "torch" not in line.split("find_spec")[0]
        assert "[train" not in line and "[dev" not in line
        assert re.search(r"pip install \.(\s|$)", line)  # the package itself, no extras


def test_cuda_image_adds_the_cuda_extras_at_the_package_pin():
    (pin,) = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith("onnxruntime")]
    name, version = pin.split("==")
    text = (ROOT / "deploy" / "docker" / "Dockerfile.cuda").read_text()
    assert f'"{name}[cuda,cudnn]=={version}"' in text
    assert "[cuda" not in (ROOT / "deploy" / "docker" / "Dockerfile.cpu").read_text()


def test_torch_only_in_the_train_extra():
    project = PYPROJECT["project"]
    assert not [d for d in project["dependencies"] if d.startswith("torch")]
    holders = [extra for extra, deps in project["optional-dependencies"].items()
               if any(d.startswith("torch") for d in deps)]
    assert holders == ["train"]
    imports = [p for p in (ROOT / "server").rglob("*.py")
               if re.search(r"^\s*(import|from) torch\b", p.read_text(), re.M)]
    assert imports == []
