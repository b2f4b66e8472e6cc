"""Soak: mixed load against the real server for a long time, watching its memory
(a script, not a test).

Every kind at once: Translate (unary and streamed), KServe ModelInfer, Tag,
Caption, Predict streams and unary sessions that open, step and close (so the
session table and store churn), plus a reload of one translator every few
minutes (the model lifecycle under traffic). Prints the server's RSS every
minute and fails (exit 1) if RSS after the warm-up grows by more than
`--max-growth` (default 5%), or if any request failed.

    flock /tmp/seqserve-bench.lock python tests/benchmarks/soak.py \\
        --model-repository /work/test-cache/kserve-repo --minutes 30

The repository must hold a translator, a tagger, a captioner and a float
streaming model (names below; the KServe test fixture repository has them).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import io
import itertools
import random
import sys
import time
from pathlib import Path

import grpc
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from seqserve.protos.inference import grpc_service_pb2 as kpb
from seqserve.protos.inference import grpc_service_pb2_grpc as kpb_grpc
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.support.server_process import running_server

WORDS = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty",
    "forty", "hundred",
]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))


def png(rng: random.Random) -> bytes:
    pixels = np.asarray(rng.sample(range(256), 3), np.uint8) * np.ones((48, 48, 3), np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


class Load:
    def __init__(self, address: str, args: argparse.Namespace) -> None:
        self.address, self.args = address, args
        self.ok: collections.Counter[str] = collections.Counter()
        self.failed: collections.Counter[str] = collections.Counter()
        self.examples: list[str] = []
        self.stop = asyncio.Event()

    def fail(self, kind: str, exc: BaseException) -> None:
        self.failed[kind] += 1
        if len(self.examples) < 10:
            detail = exc.details() if isinstance(exc, grpc.RpcError) else repr(exc)
            self.examples.append(f"{kind}: {detail}")

    async def loop(self, kind: str, call, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            try:
                await call(rng)
                self.ok[kind] += 1
            except grpc.RpcError as exc:
                self.fail(kind, exc)
                await asyncio.sleep(0.1)

    async def run(self) -> None:
        a = self.args
        async with grpc.aio.insecure_channel(self.address) as channel:
            api, kserve = pb_grpc.SeqServeStub(channel), kpb_grpc.GRPCInferenceServiceStub(channel)

            async def translate(rng):
                await api.Translate(pb.TranslateRequest(
                    model=a.translator, sentences=[sentence(rng) for _ in range(rng.randint(1, 4))],
                    options=pb.DecodingOptions(beam_size=rng.choice([1, 2, 4]))), timeout=60)

            async def translate_stream(rng):
                async for _ in api.TranslateStream(pb.TranslateRequest(
                        model=a.reloaded, sentences=[sentence(rng)]), timeout=60):
                    pass

            async def kserve_infer(rng):
                text = sentence(rng).encode()
                tensor = kpb.ModelInferRequest.InferInputTensor(
                    name="TEXT", datatype="BYTES", shape=[1, 1],
                    contents=kpb.InferTensorContents(bytes_contents=[text]))
                await kserve.ModelInfer(kpb.ModelInferRequest(
                    model_name=a.reloaded, inputs=[tensor]), timeout=60)

            async def tag(rng):
                await api.Tag(pb.TagRequest(model=a.tagger, texts=[
                    sentence(rng) for _ in range(rng.randint(1, 8))]), timeout=60)

            async def caption(rng):
                await api.Caption(pb.CaptionRequest(model=a.captioner, images=[
                    pb.CaptionImage(encoded=png(rng))]), timeout=60)

            async def predict_stream(rng):
                def messages():
                    yield pb.PredictRequest(open=pb.OpenSessionRequest(model=a.streaming))
                    for _ in range(rng.randint(1, 20)):
                        values = [rng.gauss(0, 1) for _ in range(rng.randint(1, 16))]
                        yield pb.PredictRequest(chunk=pb.Chunk(values=pb.FloatValues(
                            values=values)))
                async for _ in api.Predict(messages(), timeout=60):
                    pass

            async def unary_session(rng):
                info = await api.OpenSession(pb.OpenSessionRequest(model=a.streaming),
                                             timeout=60)
                for _ in range(rng.randint(1, 5)):
                    await api.PredictStep(pb.PredictStepRequest(
                        model=a.streaming, session_id=info.session_id,
                        session_token=info.session_token,
                        chunk=pb.Chunk(values=pb.FloatValues(values=[rng.gauss(0, 1)]))),
                        timeout=60)
                if rng.random() >= a.abandon:  # abandoned ones wait for the idle timeout
                    await api.CloseSession(pb.SessionRef(
                        model=a.streaming, session_id=info.session_id,
                        session_token=info.session_token), timeout=60)

            async def reload(rng):
                await asyncio.sleep(a.reload_every)
                await kserve.RepositoryModelLoad(
                    kpb.RepositoryModelLoadRequest(model_name=a.reloaded), timeout=300)

            kinds = {
                "translate": translate, "translate_stream": translate_stream,
                "kserve_infer": kserve_infer, "tag": tag, "caption": caption,
                "predict_stream": predict_stream, "unary_session": unary_session,
            }
            seeds = itertools.count(1)
            tasks = [asyncio.ensure_future(self.loop(kind, call, next(seeds)))
                     for kind, call in kinds.items() for _ in range(a.clients_per_kind)]
            tasks.append(asyncio.ensure_future(self.loop("reload", reload, 0)))
            await self.stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def soak(args: argparse.Namespace) -> int:
    with running_server(args.model_repository) as server:
        load = Load(server.address, args)
        runner = asyncio.ensure_future(load.run())
        started = time.monotonic()
        samples: list[tuple[float, int]] = []
        print(f"soak {args.minutes} min, warm-up {args.warmup_minutes} min, RSS every "
              f"{args.sample_seconds:.0f} s; server pid {server.process.pid}", flush=True)
        while (elapsed := time.monotonic() - started) < args.minutes * 60:
            await asyncio.sleep(min(args.sample_seconds, args.minutes * 60 - elapsed))
            rss = rss_bytes(server.process.pid)
            samples.append((time.monotonic() - started, rss))
            done = sum(load.ok.values())
            print(f"t={samples[-1][0] / 60:5.1f} min  RSS {rss / 2**20:7.1f} MiB  "
                  f"ok {done}  failed {sum(load.failed.values())}", flush=True)
        load.stop.set()
        await runner
        alive = server.alive()
    warm = [rss for t, rss in samples if t >= args.warmup_minutes * 60]
    print("requests ok by kind:", dict(load.ok))
    print("failed by kind:", dict(load.failed))
    for example in load.examples:
        print("  e.g.", example)
    if len(warm) < 2:
        print("too short to judge growth (need 2 samples after the warm-up)")
        return 0 if alive and not load.failed else 1
    growth = (warm[-1] - warm[0]) / warm[0]
    print(f"RSS after warm-up: {warm[0] / 2**20:.1f} -> {warm[-1] / 2**20:.1f} MiB "
          f"({growth * 100:+.2f}%, limit {args.max_growth * 100:.0f}%); peak "
          f"{max(warm) / 2**20:.1f} MiB")
    passed = alive and growth <= args.max_growth and not load.failed
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-repository", type=Path,
                        default=Path("/work/test-cache/kserve-repo"))
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup-minutes", type=float, default=None,
                        help="default: a sixth of the run, at least 1 minute")
    parser.add_argument("--sample-seconds", type=float, default=60.0)
    parser.add_argument("--max-growth", type=float, default=0.05)
    parser.add_argument("--clients-per-kind", type=int, default=2)
    parser.add_argument("--abandon", type=float, default=0.0,
                        help="fraction of unary sessions left to the idle timeout")
    parser.add_argument("--reload-every", type=float, default=120.0, help="seconds")
    parser.add_argument("--translator", default="numbers")
    parser.add_argument("--reloaded", default="numbers-b", help="translator reloaded under load")
    parser.add_argument("--tagger", default="pos")
    parser.add_argument("--captioner", default="scenes")
    parser.add_argument("--streaming", default="co2")
    args = parser.parse_args()
    if args.warmup_minutes is None:
        args.warmup_minutes = max(1.0, args.minutes / 6)
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
