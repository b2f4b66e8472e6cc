"""Admission at the balancer: the shipped HAProxy config lets a replica run at most
`maxconn` decode RPCs at once and refuses, itself, what finds no slot within its
queue timeout, with gRPC RESOURCE_EXHAUSTED. The replica never sees those calls,
and the other backends (health, model admin) are not queued behind them."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

import grpc

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.haproxy_process import TEMPLATE, running_haproxy
from tests.support.polling import wait_until
from tests.support.server_process import running_server

SLOTS = 2
CALLS = 12


def _served_translates(metrics_url: str) -> int:
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith("seqserve_requests_total{") and 'method="Translate"' in line)


async def _burst(address: str) -> tuple[list[tuple[str, float, str]], float]:
    # Forced long decodes, so the first SLOTS calls hold their slots for a while.
    slow = pb.DecodingOptions(beam_size=4, min_length=200, max_length=200)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.SeqServeStub(channel)
        await stub.ListModels(pb.ListModelsRequest(), timeout=30)  # connected

        async def one(i: int) -> tuple[str, float, str]:
            started = time.monotonic()
            try:
                await stub.Translate(pb.TranslateRequest(
                    model="numbers", sentences=[f"{i + 3} hundred"], options=slow), timeout=60)
                return "OK", time.monotonic() - started, ""
            except grpc.aio.AioRpcError as exc:
                return exc.code().name, time.monotonic() - started, exc.details() or ""

        calls = [asyncio.ensure_future(one(i)) for i in range(CALLS)]
        await asyncio.sleep(0.05)
        started = time.monotonic()  # admin RPCs are not queued behind the decode slots
        await stub.ListModels(pb.ListModelsRequest(), timeout=30)
        admin_seconds = time.monotonic() - started
        return list(await asyncio.gather(*calls)), admin_seconds


def test_the_balancer_refuses_beyond_its_slots_and_the_replica_never_sees_it(
    numbers_repository: Path,
) -> None:
    shipped = "default-server maxconn 128"
    assert shipped in TEMPLATE.read_text(), "the decode backend's maxconn line moved"
    with running_server(numbers_repository) as server:
        port = int(server.address.rsplit(":", 1)[1])
        config = TEMPLATE.read_text().replace(shipped, f"default-server maxconn {SLOTS}")
        with running_haproxy([(port, server.metrics_port)], config) as proxy:
            assert wait_until(
                lambda: "L7OK" in proxy.server_states("decode").get("replica1", ""), 30
            ), proxy.server_states("decode")
            before = _served_translates(server.metrics_url)
            results, admin_seconds = asyncio.run(_burst(proxy.address))
            served = _served_translates(server.metrics_url) - before
    codes = [code for code, _, _ in results]
    answered = codes.count("OK")
    refused = [(seconds, details) for code, seconds, details in results
               if code == "RESOURCE_EXHAUSTED"]
    assert answered + len(refused) == CALLS, codes
    assert answered >= SLOTS and len(refused) >= CALLS - 2 * SLOTS, codes
    for seconds, details in refused:
        assert "no replica took the call" in details and "retry" in details, details
        assert seconds < 1.0, f"a refusal took {seconds:.3f} s: it waited for a slot"
    assert served == answered, "the replica handled calls the balancer refused"
    assert admin_seconds < 5.0
