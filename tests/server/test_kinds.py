"""The kind registry (server/kinds/): every spec's dotted pieces resolve and agree with
each other, the registry imports nothing heavy, the wrong-kind error is one class with
one code, old kind names load as aliases, and a server policy a kind has no meaning for
refuses the load."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import yaml

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api.errors import status_for
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.manager import ModelManager, check_policy
from seqserve.server.errors import FailedPreconditionError, WrongKindError
from seqserve.server.kinds import KINDS, SEQ2SEQ, TAGGER, canonical, registry, resolve
from seqserve.server.repository.config import load_config

SPECS = list(KINDS.values())
IDS = list(KINDS)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_piece_of_a_spec_resolves_and_names_its_kind(spec) -> None:
    schema = resolve(spec.config_schema)
    assert schema.model_fields["kind"].default == spec.name
    adapter = resolve(spec.kserve_adapter)()
    assert adapter.platform == spec.platform == f"seqserve_{spec.name}"
    field, builder = spec.details
    assert field in [f.name for f in pb.ModelMetadata.DESCRIPTOR.oneofs_by_name["details"].fields]
    assert callable(resolve(builder))
    assert pb.ModelKind.Value(f"MODEL_KIND_{spec.name.upper()}")  # metadata: the same name
    for entry in (spec.train, spec.export):
        assert entry is None or callable(resolve(entry))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_the_engine_class_has_every_method_of_the_handle(spec) -> None:
    engine = resolve(spec.engine)
    # Methods only: `info` is set per instance (every engine's __init__).
    members = [name for name in vars(spec.handle) if not name.startswith("_")]
    assert members
    missing = [name for name in members if not hasattr(engine, name)]
    assert not missing, f"{engine.__name__} lacks {missing} of {spec.handle.__name__}"


def test_the_registry_imports_nothing_heavy() -> None:
    code = (
        "import sys; import seqserve.server.kinds, seqserve.server.repository.schemas;"
        "heavy = [m for m in ('torch', 'onnxruntime', 'grpc', 'google.protobuf')"
        " if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_wrong_kind_is_one_invalid_argument_error() -> None:
    info = ModelInfo(name="pos", version=1, kind="tagger", config=None)
    expected = r"'pos' is a tagger model, not a seq2seq model \(needed by Translate"
    with pytest.raises(WrongKindError, match=expected) as raised:
        SEQ2SEQ.check(info)
    assert status_for(raised.value) == grpc.StatusCode.INVALID_ARGUMENT
    TAGGER.check(info)  # the right kind passes


def test_cli_subcommands_come_from_the_registry() -> None:
    from seqserve.export import kind_cli as export_kinds
    from seqserve.models import kind_cli as train_kinds

    assert train_kinds.KINDS == export_kinds.KINDS == ("tagger", "captioner")


def test_an_alias_loads_as_the_kind(monkeypatch, kserve_repository: Path, tmp_path: Path) -> None:
    version = tmp_path / "1"
    shutil.copytree(kserve_repository / "pos" / "1", version)
    raw = yaml.safe_load((version / "config.yaml").read_text())
    raw["kind"] = "pos-tagger"
    (version / "config.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setitem(registry._NAMES, "pos-tagger", "tagger")
    assert canonical("pos-tagger") == "tagger"
    assert load_config(version).kind == "tagger"


def test_server_policies_each_kind_takes() -> None:
    for kind in ("seq2seq", "captioner"):
        for policy in ("continuous", "static", "sequential", None):
            check_policy("m", kind, policy)
    for kind in ("tagger", "streaming"):
        check_policy("m", kind, "continuous")
        check_policy("m", kind, "sequential")
        with pytest.raises(FailedPreconditionError, match=f"{kind} model.*'static'"):
            check_policy("m", kind, "static")


def test_a_static_policy_refuses_the_tagger_and_the_streaming_model(
    kserve_repository: Path, tmp_path: Path
) -> None:
    for name in ("pos", "co2"):
        (tmp_path / name).symlink_to(kserve_repository / name, target_is_directory=True)
    manager = ModelManager(tmp_path, policy_override="static")
    try:
        manager.load_all()
        failed = manager.failed_models()
        assert set(failed) == {"pos", "co2"}
        assert "policy 'static'" in failed["pos"] and "'sequential'" in failed["pos"]
        assert not manager.list_models()
    finally:
        manager.close()
