"""PredictMany: many sessions' steps over one stream, against the real server.

Each step of a request gets its own outcome: good steps answer exactly as the
unary PredictStep would, bad ones carry the status PredictStep would have
returned, and neither the other steps nor the stream are affected.
"""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from seqserve.client.session_mux import SessionMux, StepRefused
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.api.session_many import MAX_STEPS_PER_REQUEST
from tests.integration.grpc_helpers import stub
from tests.sessions.conftest import MAX_CHUNK
from tests.support.polling import wait_until
from tests.support.session_tokens import TokenStub


@pytest.fixture()
def client(streaming_server):
    channel, s = stub(streaming_server.address)
    yield s
    channel.close()


def _open(client, model: str) -> str:
    return client.OpenSession(pb.OpenSessionRequest(model=model)).session_id


def _values(*values: float) -> pb.Chunk:
    return pb.Chunk(values=pb.FloatValues(values=list(values)))


def _step(model: str, sid: str, chunk: pb.Chunk, top_k: int = 0) -> pb.PredictStepRequest:
    return pb.PredictStepRequest(model=model, session_id=sid, chunk=chunk, top_k=top_k)


def _exchange(client, requests: list[pb.PredictManyRequest]) -> dict[int, pb.PredictManyResponse]:
    return {r.request_id: r for r in client.PredictMany(iter(requests), timeout=30)}


def _forecasts(response: pb.PredictResponse) -> np.ndarray:
    return np.array([list(s.forecast) for s in response.steps])


def test_bad_steps_fail_alone_and_good_ones_match_predict_step(client):
    co2, twin, lm = _open(client, "co2"), _open(client, "co2"), _open(client, "charlm")
    steps = [
        _step("co2", co2, _values(315.0, 316.0)),
        _step("co2", co2, _values(float("nan"))),                       # NaN
        _step("charlm", lm, pb.Chunk(text="Format"), top_k=2),
        _step("co2", "never-opened", _values(315.0)),                    # unknown session
        _step("no-such-model", co2, _values(315.0)),                     # unknown model
        _step("co2", "", _values(315.0)),                                # no session id
        _step("charlm", lm, pb.Chunk(tokens=pb.TokenIds(ids=[10_000]))),  # out of vocabulary
        _step("charlm", lm, pb.Chunk(text="x"), top_k=99),               # top_k too large
        _step("co2", co2, _values(*[315.0] * (MAX_CHUNK + 1))),          # chunk too long
        _step("co2", co2, pb.Chunk()),                                   # empty chunk
        _step("co2", co2, _values(317.0)),
    ]
    (response,) = _exchange(client, [pb.PredictManyRequest(request_id=7, steps=steps)]).values()
    assert response.request_id == 7 and len(response.results) == len(steps)
    kinds = [r.WhichOneof("outcome") for r in response.results]
    assert kinds == ["response", "error", "response", "error", "error", "error", "error",
                     "error", "error", "error", "response"]
    codes = {i: grpc.StatusCode(next(c for c in grpc.StatusCode
                                     if c.value[0] == r.error.code))
             for i, r in enumerate(response.results) if r.HasField("error")}
    invalid, missing = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    assert codes == {1: invalid, 3: missing, 4: missing, 5: invalid, 6: invalid, 7: invalid,
                     8: invalid, 9: invalid}
    assert "NaN" in response.results[1].error.message
    assert "never-opened" in response.results[3].error.message
    assert "no-such-model" in response.results[4].error.message
    assert "max_chunk_steps" in response.results[8].error.message

    # The good steps ran in order on their session, skipping the refused ones...
    first, last = response.results[0].response, response.results[10].response
    assert (first.first_step, first.position, last.first_step, last.position) == (0, 2, 2, 3)
    lm_reply = response.results[2].response
    assert lm_reply.session_id == lm and len(lm_reply.steps) == 6
    assert all(len(s.candidates) == 2 for s in lm_reply.steps)
    # ... and equal what the unary call returns for the same steps.
    a = client.PredictStep(_step("co2", twin, _values(315.0, 316.0)))
    b = client.PredictStep(_step("co2", twin, _values(317.0)))
    np.testing.assert_allclose(_forecasts(first), _forecasts(a), atol=1e-9)
    np.testing.assert_allclose(_forecasts(last), _forecasts(b), atol=1e-9)


def test_an_oversized_request_is_refused_step_by_step_and_the_stream_goes_on(client):
    sid = _open(client, "co2")
    too_many = [_step("co2", sid, _values(315.0))] * (MAX_STEPS_PER_REQUEST + 1)
    responses = _exchange(client, [
        pb.PredictManyRequest(request_id=1, steps=too_many),
        pb.PredictManyRequest(request_id=2, steps=[_step("co2", sid, _values(315.0))]),
    ])
    refused = responses[1].results
    assert len(refused) == len(too_many)
    assert all(r.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] for r in refused)
    assert "at most" in refused[0].error.message
    served = responses[2].results[0].response
    assert (served.first_step, served.position) == (0, 1)  # none of the refused ones ran


def test_session_mux_batches_many_sessions_and_matches_separate_streams(streaming_server):
    sessions, rounds = 40, 5
    rng = np.random.default_rng(3)
    series = 315.0 + rng.normal(0, 2, (sessions, rounds))

    async def go() -> tuple[list[list[pb.PredictResponse]], int, str]:
        async with grpc.aio.insecure_channel(streaming_server.address) as channel:
            async with SessionMux(channel, window=0.005) as mux:
                ids = [(await mux.open("co2")).session_id for _ in range(sessions)]
                replies: list[list[pb.PredictResponse]] = [[] for _ in range(sessions)]
                for t in range(rounds):
                    got = await asyncio.gather(*[
                        mux.predict("co2", sid, _values(float(series[i, t])))
                        for i, sid in enumerate(ids)
                    ])
                    for i, reply in enumerate(got):
                        replies[i].append(reply)
                with pytest.raises(StepRefused) as refused:
                    await mux.predict("co2", "closed-or-never-opened", _values(1.0))
                for sid in ids:
                    await mux.close_session("co2", sid)
            return replies, mux.requests_sent, refused.value.code.name

    replies, requests_sent, refused_code = asyncio.run(go())
    assert refused_code == "NOT_FOUND"
    # 200 steps went out in far fewer messages: the steps of one round share one.
    assert requests_sent <= rounds * 2 + 1
    channel, client = stub(streaming_server.address)
    try:
        for i in range(0, sessions, 8):  # a sample of sessions, each as a unary run
            twin = _open(client, "co2")
            for t in range(rounds):
                alone = client.PredictStep(_step("co2", twin, _values(float(series[i, t]))))
                assert replies[i][t].position == t + 1
                np.testing.assert_allclose(_forecasts(replies[i][t]), _forecasts(alone),
                                           atol=1e-9)
    finally:
        channel.close()


def test_vanishing_predict_many_clients_leave_sessions_consistent(client, streaming_server):
    """200 PredictMany streams cancelled with steps in flight: nothing stays queued,
    each session's accepted steps ran in order, and the sessions and server serve on."""
    sessions = [_open(client, "co2") for _ in range(10)]
    channel = grpc.insecure_channel(streaming_server.address)
    stub_ = TokenStub(pb_grpc.SeqServeStub(channel))  # sends the sessions' tokens
    for round_ in range(200):
        request = pb.PredictManyRequest(
            request_id=round_, steps=[_step("co2", sid, _values(315.0, 316.0)) for sid in sessions]
        )
        call = stub_.PredictMany(iter([request]))
        if round_ % 2:  # half read the answer first, half vanish with it in flight
            next(call)
        call.cancel()
    channel.close()

    def settled() -> bool:
        infos = [client.GetSession(pb.SessionRef(model="co2", session_id=sid))
                 for sid in sessions]
        return all(i.pending_chunks == 0 for i in infos)

    assert wait_until(settled, timeout=20)
    positions = {client.GetSession(pb.SessionRef(model="co2", session_id=sid)).position
                 for sid in sessions}
    # A request's steps are queued together or not at all (one model, one lock),
    # so every session saw the same requests; the 100 read ones ran for sure.
    assert len(positions) == 1
    (position,) = positions
    assert position % 2 == 0 and 200 <= position <= 400
    reply = client.PredictStep(_step("co2", sessions[0], _values(317.0)))
    assert (reply.first_step, reply.position) == (position, position + 1)
