"""Loaded models by name: load/unload from the repository, lookup for api/."""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

from seqserve.server.engine.captioner import CaptionerModel
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.sessions.model import StreamingModel
from seqserve.server.engine.tagger import TaggerModel
from seqserve.server.engine.translator import Seq2SeqModel
from seqserve.server.errors import NotFoundError, UnavailableError
from seqserve.server.repository.repository import ModelRepository
from seqserve.server.runtime.gc_pause import freeze_loaded_objects

log = logging.getLogger(__name__)

# One loader per model kind; later kinds (tagger, streaming, captioner) add theirs.
_LOADERS: dict[str, type] = {"seq2seq": Seq2SeqModel}
_LOADERS["tagger"] = TaggerModel
_LOADERS["captioner"] = CaptionerModel
_LOADERS["streaming"] = StreamingModel


class ModelManager:
    def __init__(
        self, repository: Path, *, policy_override: str | None = None,
        session_store: str | None = None,
    ) -> None:
        self.repository = ModelRepository(repository)
        self.policy_override = policy_override
        self.session_store: dict | None = None
        """SessionStoreConfig fields for every streaming model (`--session-store`)."""
        if session_store:
            from seqserve.server.engine.sessions.store_choice import parse_store_spec

            self.session_store = parse_store_spec(session_store)
        self._models: dict[str, Seq2SeqModel] = {}
        self._lock = threading.Lock()

    def load_all(self) -> None:
        for name in self.repository.model_names():
            self.load(name)

    def load(self, name: str, version: int | None = None) -> ModelInfo:
        resolved = self.repository.resolve(name, version)
        loader = _LOADERS.get(resolved.config.kind)
        if loader is None:
            raise UnavailableError(f"model '{name}': kind '{resolved.config.kind}' not supported")
        if self.session_store and resolved.config.kind == "streaming":
            from seqserve.server.engine.sessions.store_choice import with_store

            resolved = dataclasses.replace(
                resolved, config=with_store(resolved.config, self.session_store))
        model = loader(
            resolved, policy=self.policy_override,
            available_versions=self.repository.versions(name),
        )
        model.start()
        with self._lock:
            previous = self._models.get(name)
            self._models[name] = model
        if previous is not None:
            previous.stop()
        freeze_loaded_objects()
        log.info(
            "loaded %s version %d (%s) providers=%s policy=%s", name, resolved.version,
            resolved.config.kind, model.info.providers, model.config.batching.policy,
        )
        return model.info

    def unload(self, name: str) -> None:
        with self._lock:
            model = self._models.pop(name, None)
        if model is None:
            raise NotFoundError(f"model '{name}' is not loaded")
        model.stop()

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
