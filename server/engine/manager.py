"""Loaded models by name: load/unload from the repository, lookup for api/."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from pathlib import Path
from typing import Any, TypeVar, overload

from seqserve.server import metrics
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.engine.retiring import Retirer
from seqserve.server.engine.sessions.model import StreamingModel
from seqserve.server.engine.sessions.upgrade import hand_over
from seqserve.server.errors import (
    FailedPreconditionError,
    NotFoundError,
    ResourceExhaustedError,
    SeqServeError,
    UnavailableError,
)
from seqserve.server.kinds import KINDS, KindSpec, resolve
from seqserve.server.repository.config import ConfigError
from seqserve.server.repository.names import plain_model_name
from seqserve.server.repository.repository import ModelRepository
from seqserve.server.repository.version_policy import load_policy
from seqserve.server.runtime.gc_pause import freeze_loaded_objects

log = logging.getLogger(__name__)

H = TypeVar("H")


def loader_of(kind: str) -> type | None:
    """The engine class of a kind, from the kind registry (imported on first load)."""
    spec = KINDS.get(kind)
    return None if spec is None else resolve(spec.engine)


def check_policy(name: str, kind: str, policy: str | None) -> None:
    """A server-wide `--policy` a kind has no meaning for refuses the load, with the
    policies it does take (never silently ignored)."""
    spec = KINDS.get(kind)
    if policy is None or spec is None or policy in spec.server_policies:
        return
    raise FailedPreconditionError(
        f"model '{name}' is a {kind} model, which cannot run with the server's batching "
        f"policy '{policy}' (--policy); {kind} models take "
        + ", ".join(f"'{p}' ({meaning})" if p != meaning else f"'{p}'"
                    for p, meaning in spec.server_policies.items())
    )


DEFAULT_MAX_MODELS = 64
"""Each loaded model costs tens of MB and threads: loading is bounded."""


def _state(name: str, version: str, state: str, *, present: bool = True) -> None:
    """seqserve_model_version_state: 1 while `name` `version` is in `state`."""
    if present:
        metrics.MODEL_VERSION_STATE.labels(name, version, state).set(1)
        return
    with contextlib.suppress(KeyError):  # never set: nothing to remove
        metrics.MODEL_VERSION_STATE.remove(name, version, state)


def _hand_over_sessions(previous: dict[int, Any], built: dict[int, Any]) -> None:
    """Streaming models: each new version may resume the sessions of the versions it
    replaces when their state layouts match (sessions/upgrade.py)."""
    for new in built.values():
        if not isinstance(new, StreamingModel):
            continue
        for old in previous.values():
            if isinstance(old, StreamingModel):
                hand_over(old, new)


class ModelManager:
    def __init__(
        self, repository: Path, *, policy_override: str | None = None,
        max_models: int = DEFAULT_MAX_MODELS,
        session_store: str | None = None,
    ) -> None:
        self.repository = ModelRepository(repository)
        self.policy_override = policy_override
        self.max_models = max_models
        self.session_store: dict | None = None
        """SessionStoreConfig fields for every streaming model (`--session-store`)."""
        if session_store:
            from seqserve.server.engine.sessions.store_choice import parse_store_spec

            self.session_store = parse_store_spec(session_store)
        # name -> version -> the loaded model (several versions by version policy).
        self._models: dict[str, dict[int, Any]] = {}
        self._lock = threading.Lock()
        # A replaced or unloaded version finishes what it accepted, then stops.
        self.retirer = Retirer()
        self._failed: dict[str, str] = {}
        """Models whose last load failed -> why (FAILED in the model index)."""
        self.loading = False
        self._loading_names: set[str] = set()

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

    def loading_models(self) -> set[str]:
        """Names being loaded now (LOADING in the model index until a version serves)."""
        with self._lock:
            return set(self._loading_names)

    def load(self, name: str, version: int | None = None) -> ModelInfo:
        name = plain_model_name(name)  # `./m` and `m/` are `m`; paths are refused
        with self._lock:
            self._loading_names.add(name)
        try:
            info = self._load(name, version)
        except (FailedPreconditionError, UnavailableError) as exc:
            with self._lock:
                self._failed[name] = str(exc)
            _state(name, "", "FAILED")
            raise
        finally:
            with self._lock:
                self._loading_names.discard(name)
        with self._lock:
            self._failed.pop(name, None)
        _state(name, "", "FAILED", present=False)
        return info

    def _load(self, name: str, version: int | None) -> ModelInfo:
        """Load the wanted versions beside what serves now, swap them in at once,
        and retire the replaced ones (they finish their work first)."""
        try:
            policy = load_policy(self.repository.root / name)
            available = self.repository.versions(name)
            wanted = [version] if version is not None else policy.choose(available)
            if not wanted and available:
                raise FailedPreconditionError(
                    f"model '{name}': version policy {policy.describe()} selects none of "
                    f"the versions on disk {available}"
                )
            resolved = [self.repository.resolve(name, v) for v in wanted or [None]]
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
        built: dict[int, Any] = {}
        try:
            for one in resolved:
                built[one.version] = self._build(one, available)
        except BaseException:
            for model in built.values():
                model.stop()
            raise
        with self._lock:
            previous = dict(self._models.get(name, {}))
        _hand_over_sessions(previous, built)
        with self._lock:
            self._models[name] = built
        for old in previous.values():
            self._retire(name, old)
        for v in built:
            _state(name, str(v), "READY")
        freeze_loaded_objects()
        return built[max(built)].info

    def _build(self, resolved: Any, available: list[int]) -> Any:
        name = resolved.name
        loader = loader_of(resolved.config.kind)
        if loader is None:
            raise UnavailableError(f"model '{name}': kind '{resolved.config.kind}' not supported")
        check_policy(name, resolved.config.kind, self.policy_override)
        if self.session_store and resolved.config.kind == "streaming":
            from seqserve.server.engine.sessions.store_choice import with_store

            resolved = dataclasses.replace(
                resolved, config=with_store(resolved.config, self.session_store))
        try:
            model = loader(resolved, policy=self.policy_override, available_versions=available)
        except SeqServeError:
            raise
        except Exception as exc:  # ONNX Runtime, tokenizer, file errors of a broken model
            log.exception("model %s version %d failed to load", name, resolved.version)
            raise FailedPreconditionError(
                f"model '{name}' version {resolved.version} failed to load: "
                f"{self._without_paths(f'{type(exc).__name__}: {exc}')}"
            ) from None
        model.start()
        log.info(
            "loaded %s version %d (%s) providers=%s policy=%s", name, resolved.version,
            resolved.config.kind, model.info.providers, model.config.batching.policy,
        )
        return model

    def _without_paths(self, text: str) -> str:
        # Messages name files by absolute path: clients see them repository-relative.
        root = str(self.repository.root.resolve())
        return text.replace(root + "/", "").replace(str(self.repository.root) + "/", "")[:500]

    def unload(self, name: str) -> None:
        name = plain_model_name(name)
        with self._lock:
            self._failed.pop(name, None)
            versions = self._models.pop(name, None)
        if versions is None:
            raise NotFoundError(f"model '{name}' is not loaded")
        for model in versions.values():
            self._retire(name, model)

    def _retire(self, name: str, model: Any) -> None:
        version = str(model.info.version)
        with self._lock:
            current = self._models.get(name, {}).get(model.info.version)
        if current is None:  # not reloaded in place: the version no longer serves
            _state(name, version, "READY", present=False)
        _state(name, version, "RETIRING")
        self.retirer.retire(
            model, f"{name} version {version}",
            on_stopped=lambda: _state(name, version, "RETIRING", present=False),
        )

    @overload
    def get(self, name: str, version: int | None = None, kind: None = None) -> Any: ...

    @overload
    def get(self, name: str, version: int | None, kind: KindSpec[H]) -> H: ...

    @overload
    def get(self, name: str, version: int | None = None, *, kind: KindSpec[H]) -> H: ...

    def get(self, name: str, version: int | None = None, kind: KindSpec[Any] | None = None) -> Any:
        """The model at `version` (pinned), or its highest loaded version; with `kind`,
        the kind's one wrong-kind error (INVALID_ARGUMENT) for a model of another kind."""
        model = self._get(name, version)
        if kind is not None:
            kind.check(model.info)
        return model

    def _get(self, name: str, version: int | None) -> Any:
        with self._lock:
            versions = dict(self._models.get(name, {}))
        if not versions:
            if self.repository.versions(name):
                raise UnavailableError(f"model '{name}' is in the repository but not loaded")
            raise NotFoundError(
                f"model '{name}' not found (loaded: {sorted(self._models)})"
            )
        if version is None:
            return versions[max(versions)]
        model = versions.get(version)
        if model is None:
            any_model = next(iter(versions.values()))
            raise NotFoundError(
                f"model '{name}' version {version} is not loaded (serving versions "
                f"{sorted(versions)}; on disk {any_model.info.available_versions})"
            )
        return model

    def list_models(self) -> list[ModelInfo]:
        """Every loaded version of every model, by name then version."""
        with self._lock:
            return [
                versions[v].info
                for _, versions in sorted(self._models.items()) for v in sorted(versions)
            ]

    def drain_sessions(self, timeout: float) -> int:
        """Server shutdown: every streaming model finishes its queued chunks and snapshots
        every live session (kept or not); returns the snapshots written."""
        with self._lock:
            models = [m for versions in self._models.values() for m in versions.values()
                      if hasattr(m, "drain_sessions")]
        return sum(model.drain_sessions(timeout) for model in models)

    def close(self) -> None:
        with self._lock:
            models = [m for versions in self._models.values() for m in versions.values()]
            self._models.clear()
        for model in models:
            model.stop()
        self.retirer.close()
