"""The server's drain on SIGTERM: nothing in flight is cut without a status, no
session is lost, and the exit takes as long as the work in flight, not the grace.

    1. health NOT_SERVING (every service name), the server still serves;
    2. the pre-stop delay, so load balancers notice and stop routing here;
    3. new RPCs refused (grpc.aio's stop); in-flight ones get `grace` seconds;
    4. streaming sessions: new chunks refused, queued and running ones finish,
       then every live session is snapshotted, kept or not (one transaction
       per model; the store's close later releases what it holds);
    5. long-lived streams end with UNAVAILABLE telling the client to resume
       (stream_drain.py); unary calls and TranslateStream finish normally;
    6. the graceful stop resolves once the last RPC ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)


async def _sleep_unless(event: asyncio.Event | None, seconds: float) -> None:
    if event is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def drain(
    server: Any, grace: float, *, pre_stop: float = 0.0, cut_short: asyncio.Event | None = None
) -> asyncio.Future[None]:
    """Steps 1-5 on a GrpcServer (health, server, streams, models); returns step 6's future."""
    started = time.monotonic()
    await server.health.drain()
    if pre_stop > 0:
        logger.info("draining: NOT_SERVING for %.1f s before refusing new calls", pre_stop)
        await _sleep_unless(cut_short, pre_stop)
    for registry in server.streams:
        registry.begin()
    graceful = asyncio.ensure_future(server.server.stop(grace))
    drain_sessions = getattr(server.models, "drain_sessions", None)
    if drain_sessions is not None:
        try:
            # Half the grace at most for queued chunks, so the streams still end in time.
            saved = await asyncio.to_thread(drain_sessions, max(grace / 2, 0.1))
            logger.info("draining: %d session snapshots written", saved)
        except Exception:
            logger.exception("draining: could not snapshot the sessions")
    streams = sum(len(registry) for registry in server.streams)
    for registry in server.streams:
        registry.end_all()
    logger.info(
        "draining: %d streams told to resume elsewhere, %.2f s after the signal",
        streams, time.monotonic() - started,
    )
    return graceful
