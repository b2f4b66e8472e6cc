"""`seqserve serve --session-store SPEC`: one store for every streaming model,
overriding each config.yaml's `sessions.store`.

    memory                       in-process (the default of config.yaml)
    sqlite:/path/sessions.sqlite one SQLite file
    redis://host:port/db         Redis shared by replicas; optional query
                                 ?lease_seconds=10&ttl_seconds=600
"""

from __future__ import annotations

from typing import Any

from seqserve.server.engine.sessions.redis_store import split_url
from seqserve.server.repository.streaming_config import StreamingConfig


def parse_store_spec(spec: str) -> dict[str, Any]:
    """The SessionStoreConfig fields SPEC sets; ValueError with the accepted forms."""
    if spec == "memory":
        return {"store": "memory"}
    if spec.startswith("sqlite:") and len(spec) > len("sqlite:"):
        return {"store": "sqlite", "sqlite_path": spec[len("sqlite:"):]}
    if spec.startswith(("redis://", "rediss://", "unix://")):
        url, ours = split_url(spec)
        return {"store": "redis", "redis_url": url, **ours}
    raise ValueError(
        f"--session-store {spec!r}: expected memory, sqlite:PATH or redis://HOST:PORT/DB"
    )


def with_store(config: StreamingConfig, fields: dict[str, Any]) -> StreamingConfig:
    sessions = config.sessions.model_validate({**config.sessions.model_dump(), **fields})
    return config.model_copy(update={"sessions": sessions})
