"""The server process: load the models, serve gRPC, drain on SIGTERM/SIGINT.

    gRPC bound (NOT_SERVING) -> /metrics up (/ready 503) -> models loaded -> SERVING
    -> "seqserve listening on HOST:PORT" on stdout (tests and scripts wait for it)
    signal -> health NOT_SERVING -> pre-stop delay (load balancers notice)
    -> refuse new RPCs, in-flight ones get `grace` -> streaming sessions finish their
    queued chunks and are snapshotted, kept or not -> long streams (Predict,
    PredictMany, ModelStreamInfer) end with UNAVAILABLE saying how to resume
    -> the rest finish -> manager.close()  (details in server/api/drain.py)

A second signal while draining cuts the grace period short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grpc

from seqserve.server.api.drain import drain
from seqserve.server.api.health import HEALTH_SERVICE_NAME, HealthReporter
from seqserve.server.api.kserve.servicer import DESCRIPTOR_POOL as KSERVE_POOL
from seqserve.server.api.kserve.servicer import SERVICE_NAME as KSERVE_SERVICE_NAME
from seqserve.server.api.kserve.servicer import add_kserve_servicer
from seqserve.server.api.metrics_http import MetricsServer, start_metrics_http
from seqserve.server.api.model_lookup import ModelLookup
from seqserve.server.api.reflection import enable_reflection
from seqserve.server.api.request_decoding import RequestDecodingInterceptor
from seqserve.server.api.security_server import bind, build_interceptors
from seqserve.server.api.security_settings import SecuritySettings
from seqserve.server.api.server_options import grpc_server_options
from seqserve.server.api.servicer import SERVICE_NAME, add_seqserve_servicer
from seqserve.server.fd_limit import raise_fd_limit

logger = logging.getLogger(__name__)

# Requests are text today, but captioner images will arrive through the same
# server: 16 MiB in bounds what one client can make the server buffer, while
# responses (n-best lists, later tensors over KServe v2) get more room.


class ServingManager(ModelLookup, Protocol):
    """The engine's ModelManager as the process uses it."""

    def load_all(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ServeSettings:
    model_repository: Path
    host: str = "127.0.0.1"
    port: int = 50051
    """0 picks a free port; the printed listening line carries the real one."""
    metrics_port: int = 9090
    """Port of Prometheus /metrics on `host`; 0 picks a free one, -1 disables it."""
    policy: str | None = None
    """Batching policy for every model (continuous|static|sequential); None = per config."""
    grace_seconds: float = 10.0
    """How long in-flight RPCs may run after a shutdown signal."""
    max_models: int = 64
    """The most models loaded at once (RepositoryModelLoad beyond it: RESOURCE_EXHAUSTED)."""
    security: SecuritySettings = field(default_factory=SecuritySettings)
    """TLS, tokens, per-client limits and resource bounds (server/api/security_settings.py)."""
    session_tokens: bool = True
    """Anonymous callers must present the session_token an open returned to touch a
    session (api/session_access.py); with credentials sessions belong to them anyway."""
    pre_stop_seconds: float = 0.0
    """After a shutdown signal, health says NOT_SERVING for this long while the server
    still serves, so load balancers stop routing to it before it refuses work."""
    session_store: str | None = None
    """Store for every streaming model (memory, sqlite:PATH, redis://...); None = per config."""


def format_address(host: str, port: int) -> str:
    """host:port, with IPv6 literals bracketed as gRPC targets need."""
    if ":" in host and not host.startswith("["):
        return f"[{host}]:{port}"
    return f"{host}:{port}"


class GrpcServer:
    """The grpc.aio server with every servicer; create it on the loop that runs it."""

    def __init__(
        self, models: ModelLookup, host: str, port: int,
        security: SecuritySettings | None = None,
    ) -> None:
        self.security = security or SecuritySettings()
        self.server = grpc.aio.server(
            options=grpc_server_options(self.security.limits),
            # Decoding first (outermost): every interceptor and servicer below
            # sees parsed messages, and an undecodable one is INVALID_ARGUMENT.
            interceptors=[
                RequestDecodingInterceptor(("seqserve.", "inference.")),
                *build_interceptors(self.security, models),
            ],
        )
        seqserve_servicer = add_seqserve_servicer(self.server, models)
        # KServe v2 / Triton clients reach the same models on the same port.
        kserve_servicer = add_kserve_servicer(self.server, models)
        self.streams = [seqserve_servicer.streams, kserve_servicer.streams]
        self.session_access = seqserve_servicer.session_access
        self.models = models
        self.health = HealthReporter([SERVICE_NAME, KSERVE_SERVICE_NAME])
        self.health.add_to_server(self.server)
        enable_reflection(
            self.server, [SERVICE_NAME, KSERVE_SERVICE_NAME, HEALTH_SERVICE_NAME],
            pools=[KSERVE_POOL],
        )
        self.host = host
        self.port = self._bind(format_address(host, port))

    def _bind(self, address: str) -> int:
        try:
            bound = bind(self.server, address, self.security)
        except RuntimeError as exc:  # grpc raises RuntimeError on a failed bind
            raise OSError(f"cannot listen on {address}: {exc}") from exc
        if bound == 0:
            raise OSError(f"cannot listen on {address}")
        return bound

    @property
    def address(self) -> str:
        return format_address(self.host, self.port)

    async def start(self, *, serving: bool = True) -> None:
        await self.health.set_serving(False)
        await self.server.start()
        if serving:
            await self.health.set_serving(True)

    async def stop(
        self, grace: float, *, cut_short: asyncio.Event | None = None, pre_stop: float = 0.0
    ) -> None:
        """Drain (server/api/drain.py), giving in-flight RPCs `grace` seconds.

        When `cut_short` is set meanwhile, in-flight RPCs are cancelled at once.
        """
        graceful = await drain(self, grace, pre_stop=pre_stop, cut_short=cut_short)
        if cut_short is None:
            await graceful
            return
        interrupt = asyncio.ensure_future(cut_short.wait())
        await asyncio.wait({graceful, interrupt}, return_when=asyncio.FIRST_COMPLETED)
        interrupt.cancel()
        if not graceful.done():
            logger.warning("second signal: cancelling in-flight RPCs")
            await self.server.stop(0)
        await graceful


class _Signals:
    """First SIGTERM/SIGINT requests a graceful stop; a second one cuts it short."""

    NAMES = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop = stop
        self.force = asyncio.Event()
        self._installed: list[signal.Signals] = []

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self.NAMES:
            try:
                loop.add_signal_handler(sig, self._received, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                # Not the main thread (embedded/tests) or no signal support:
                # the caller's stop event is then the only way to stop.
                continue
            self._installed.append(sig)

    def remove(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
        self._installed.clear()

    def _received(self, sig: signal.Signals) -> None:
        if self.stop.is_set():
            self.force.set()
            return
        logger.info("received %s: draining", sig.name)
        self.stop.set()


def _default_manager(settings: ServeSettings) -> ServingManager:
    # Imported here: the engine pulls in ONNX Runtime, which `seqserve --help`
    # and the client subcommands do not need.
    from seqserve.server.engine.manager import ModelManager

    return ModelManager(
        settings.model_repository, policy_override=settings.policy,
        max_models=settings.max_models, session_store=settings.session_store,
    )


def _log_models(models: ModelLookup) -> None:
    infos = models.list_models()
    if not infos:
        logger.warning("no models loaded")
    for info in infos:
        logger.info(
            "model %s v%d (%s) %s, providers: %s",
            info.name,
            info.version,
            info.kind,
            info.state,
            ", ".join(info.providers) or "none",
        )


async def serve(
    settings: ServeSettings,
    *,
    manager_factory: Callable[[ServeSettings], ServingManager] = _default_manager,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the server until a signal (or `stop`, for embedding and tests) ends it."""
    stop = stop or asyncio.Event()
    signals = _Signals(stop)
    # Teardown runs in reverse order of setup: gRPC stop (in-flight RPCs still
    # use the engine during the grace period), metrics (up through the drain, so
    # it is scraped and /ready says 503 to balancers), manager, signals.
    async with contextlib.AsyncExitStack() as teardown:
        signals.install()
        teardown.callback(signals.remove)
        raise_fd_limit()  # each connection holds a descriptor; logged with the figures
        manager = manager_factory(settings)
        teardown.callback(manager.close)
        grpc_server = GrpcServer(manager, settings.host, settings.port, settings.security)
        grpc_server.session_access.tokens_required = settings.session_tokens
        # The port is bound (health NOT_SERVING, ServerReady false) while models
        # load on a worker thread; SERVING once they are. A broken model is
        # FAILED in the model index and the others serve.
        await grpc_server.start(serving=False)
        metrics_servers: list[MetricsServer] = []
        teardown.callback(lambda: [server.close() for server in metrics_servers])
        teardown.push_async_callback(
            grpc_server.stop, settings.grace_seconds, cut_short=signals.force,
            pre_stop=settings.pre_stop_seconds,
        )
        # /metrics (and /ready, 503 until the models are loaded) from the start:
        # a balancer sees a loading replica as not ready rather than unreachable.
        if settings.metrics_port >= 0:
            metrics_host = settings.security.metrics_host or settings.host
            metrics = start_metrics_http(
                metrics_host, settings.metrics_port, tls=settings.security.metrics_tls,
                ready=lambda: grpc_server.health.serving,
            )
            metrics_servers.append(metrics)
            metrics_address = format_address(metrics_host, metrics.port)
            logger.info("metrics on http://%s/metrics", metrics_address)
            print(f"seqserve metrics on {metrics_address}", flush=True)
        logger.info("gRPC bound on %s: loading models", grpc_server.address)
        await asyncio.to_thread(manager.load_all)
        await grpc_server.health.set_serving(True)
        _log_models(manager)
        logger.info("gRPC listening on %s", grpc_server.address)
        print(f"seqserve listening on {grpc_server.address}", flush=True)
        await stop.wait()
    logger.info("server stopped")


def run(settings: ServeSettings) -> int:
    """Blocking entry point for the CLI; returns the process exit code."""
    asyncio.run(serve(settings))
    return 0
