"""ModelManager states without gRPC: a model is LOADING (the server not ready) while
it loads, READY after; a failed load is recorded with its reason; the retired
version stops only once its scheduler is idle."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from seqserve.server.engine import retiring
from seqserve.server.engine.manager import ModelManager
from seqserve.server.errors import FailedPreconditionError


def test_loading_then_ready_then_failed(numbers_repository: Path, tmp_path: Path,
                                        monkeypatch) -> None:
    (tmp_path / "numbers").symlink_to(numbers_repository / "numbers", target_is_directory=True)
    manager = ModelManager(tmp_path)
    release, entered = threading.Event(), threading.Event()
    build = manager._build

    def slow_build(*args):
        entered.set()
        assert release.wait(60)
        return build(*args)

    monkeypatch.setattr(manager, "_build", slow_build)
    loader = threading.Thread(target=manager.load_all)
    loader.start()
    try:
        assert entered.wait(60)
        assert manager.loading_models() == {"numbers"} and not manager.ready()
    finally:
        release.set()
        loader.join(60)
    assert manager.loading_models() == set() and manager.ready()
    assert [i.name for i in manager.list_models()] == ["numbers"]
    (tmp_path / "numbers").unlink()
    (tmp_path / "numbers" / "1").mkdir(parents=True)
    (tmp_path / "numbers" / "1" / "config.yaml").write_text("kind: [\n")
    with pytest.raises(FailedPreconditionError, match=r"config\.yaml"):
        manager.load("numbers")
    assert "numbers" in manager.failed_models() and not manager.ready()
    assert [i.name for i in manager.list_models()] == ["numbers"]  # the old one serves
    manager.close()


def test_a_retired_model_stops_once_idle(monkeypatch) -> None:
    monkeypatch.setattr(retiring, "SETTLE_SECONDS", 0.0)

    class Busy:
        def __init__(self) -> None:
            self.work, self.stopped = 3, threading.Event()

        def idle(self) -> bool:
            self.work -= 1
            return self.work <= 0

    class Model:
        def __init__(self) -> None:
            self.scheduler = Busy()
            self.stopped_while_busy = False

        def stop(self) -> None:
            self.stopped_while_busy = self.scheduler.work > 0
            self.scheduler.stopped.set()

    model = Model()
    retiring.Retirer(drain_timeout=30).retire(model, "m v1").join(30)
    assert model.scheduler.stopped.is_set() and not model.stopped_while_busy
