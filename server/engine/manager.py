"""Loaded models by name: load/unload from the repository, lookup for api/."""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Any

from seqserve.server import metrics
from seqserve.server.engine.captioner import CaptionerModel
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.retiring import Retirer
from seqserve.server.engine.sessions.model import StreamingModel
from seqserve.server.engine.tagger import TaggerModel
from seqserve.server.engine.translator import Seq2SeqModel
from seqserve.server.errors import (
    FailedPreconditionError,
    NotFoundError,
    ResourceExhaustedError,
    SeqServeError,
    UnavailableError,
)
from seqserve.server.repository.config import ConfigError
from seqserve.server.repository.names import plain_model_name
from seqserve.server.repository.repository import ModelRepository
from seqserve.server.runtime.gc_pause import freeze_loaded_objects

log = logging.getLogger(__name__)

# One loader per model kind; later kinds (tagger, streaming, captioner) add theirs.
_LOADERS: dict[str, type] = {"seq2seq": Seq2SeqModel}
_LOADERS["tagger"] = TaggerModel
_LOADERS["captioner"] = CaptionerModel
_LOADERS["streaming"] = StreamingModel


DEFAULT_MAX_MODELS = 64
"""Each loaded model costs tens of MB and threads: loading is bounded."""


def _state(name: str, version: str, state: str, *, present: bool = True) -> None:
    """seqserve_model_version_state: 1 while `name` `version` is in `state`."""
    if present:
        metrics.MODEL_VERSION_STATE.labels(name, version, state).set(1)
        return
    with contextlib.suppress(KeyError):  # never set: nothing to remove
        metrics.MODEL_VERSION_STATE.remove(name, version, state)


class ModelManager:
    def __init__(
        self, repository: Path, *, policy_override: str | None = None,
        max_models: int = DEFAULT_MAX_MODELS,
    ) -> None:
        self.repository = ModelRepository(repository)
        self.policy_override = policy_override
        self.max_models = max_models
        self._models: dict[str, Seq2SeqModel] = {}
        self._lock = threading.Lock()
        # A replaced or unloaded version finishes what it accepted, then stops.
        self.retirer = Retirer()
        self._failed: dict[str, str] = {}
        """Models whose last load failed -> why (FAILED in the model index)."""
        self.loading = False

    def load_all(self) -> None:
        """Load every model of the repository; a broken one is recorded as FAILED
        (with its reason) and the others load and serve regardless."""
        self.loading = True
        try:
            for name in self.repository.model_names():
                try:
                    self.load(name)
                except Exception as exc:
                    log.error("model %s failed to load: %s", name, exc)
        finally:
            self.loading = False

    def failed_models(self) -> dict[str, str]:
        with self._lock:
            return dict(self._failed)

    def ready(self) -> bool:
        """Every model of the repository loaded (Triton's strict readiness)."""
        with self._lock:
            return not self.loading and not self._failed

    def load(self, name: str, version: int | None = None) -> ModelInfo:
        name = plain_model_name(name)  # `./m` and `m/` are `m`; paths are refused
        try:
            info = self._load(name, version)
        except (FailedPreconditionError, UnavailableError) as exc:
            with self._lock:
                self._failed[name] = str(exc)
            _state(name, "", "FAILED")
            raise
        with self._lock:
            self._failed.pop(name, None)
        _state(name, "", "FAILED", present=False)
        _state(name, str(info.version), "READY")
        return info

    def _load(self, name: str, version: int | None) -> ModelInfo:
        try:
            resolved = self.repository.resolve(name, version)
        except ConfigError as exc:
            raise FailedPreconditionError(
                f"model '{name}' cannot load: {self._without_paths(str(exc))}"
            ) from None
        with self._lock:
            if name not in self._models and len(self._models) >= self.max_models:
                raise ResourceExhaustedError(
                    f"cannot load model '{name}': {len(self._models)} models are loaded, "
                    f"the most this server allows (unload one first)"
                )
        loader = _LOADERS.get(resolved.config.kind)
        if loader is None:
            raise UnavailableError(f"model '{name}': kind '{resolved.config.kind}' not supported")
        try:
            model = loader(
                resolved, policy=self.policy_override,
                available_versions=self.repository.versions(name),
            )
        except SeqServeError:
            raise
        except Exception as exc:  # ONNX Runtime, tokenizer, file errors of a broken model
            log.exception("model %s version %d failed to load", name, resolved.version)
            raise FailedPreconditionError(
                f"model '{name}' version {resolved.version} failed to load: "
                f"{self._without_paths(f'{type(exc).__name__}: {exc}')}"
            ) from None
        model.start()
        with self._lock:
            previous = self._models.get(name)
            self._models[name] = model
        if previous is not None:
            self._retire(name, previous)
        freeze_loaded_objects()
        log.info(
            "loaded %s version %d (%s) providers=%s policy=%s", name, resolved.version,
            resolved.config.kind, model.info.providers, model.config.batching.policy,
        )
        return model.info

    def _without_paths(self, text: str) -> str:
        # Messages name files by absolute path: clients see them repository-relative.
        root = str(self.repository.root.resolve())
        return text.replace(root + "/", "").replace(str(self.repository.root) + "/", "")[:500]

    def unload(self, name: str) -> None:
        name = plain_model_name(name)
        with self._lock:
            self._failed.pop(name, None)
            model = self._models.pop(name, None)
        if model is None:
            raise NotFoundError(f"model '{name}' is not loaded")
        self._retire(name, model)

    def _retire(self, name: str, model: Any) -> None:
        version = str(model.info.version)
        with self._lock:
            current = self._models.get(name)
        if current is None or str(current.info.version) != version:
            _state(name, version, "READY", present=False)
        _state(name, version, "RETIRING")
        self.retirer.retire(
            model, f"{name} version {version}",
            on_stopped=lambda: _state(name, version, "RETIRING", present=False),
        )

    def get(self, name: str, version: int | None = None) -> Seq2SeqModel:
        with self._lock:
            model = self._models.get(name)
        if model is None:
            if self.repository.versions(name):
                raise UnavailableError(f"model '{name}' is in the repository but not loaded")
            raise NotFoundError(
                f"model '{name}' not found (loaded: {sorted(self._models)})"
            )
        if version is not None and version != model.info.version:
            raise NotFoundError(
                f"model '{name}' version {version} is not loaded "
                f"(serving version {model.info.version}; on disk {model.info.available_versions})"
            )
        return model

    def list_models(self) -> list[ModelInfo]:
        with self._lock:
            return [m.info for _, m in sorted(self._models.items())]

    def close(self) -> None:
        with self._lock:
            models = list(self._models.values())
            self._models.clear()
        for model in models:
            model.stop()
        self.retirer.close()
