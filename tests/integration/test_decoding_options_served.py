"""Decoding options end to end on the served numbers model (English -> French words).

A tiny model may say anything, so every check compares two paths or asserts a
rule the engine guarantees whatever the model says (a forced prefix, a banned
repeat, the same seed), never a particular translation.
"""

from __future__ import annotations

import grpc
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.integration.grpc_helpers import request, stub
from tests.support.server_process import ServerProcess

SOURCE = "three thousand four hundred and fifty-six"
TIMEOUT = 60


def hyps(reply: pb.TranslateResponse, sentence: int = 0) -> list[pb.Hypothesis]:
    return list(reply.translations[sentence].hypotheses)


def tokens(reply: pb.TranslateResponse, sentence: int = 0) -> list[list[int]]:
    return [list(h.tokens) for h in hyps(reply, sentence)]


@pytest.fixture(scope="module")
def client(server: ServerProcess):
    channel, client = stub(server.address)
    with channel:
        yield client


def test_target_prefix_forces_the_first_word(client) -> None:
    for beam in (1, 4):
        reply = client.Translate(request([SOURCE, "twelve"], beam_size=beam,
                                         target_prefix=["cinq", "vingt"]), timeout=TIMEOUT)
        assert hyps(reply, 0)[0].text.startswith("cinq")
        assert hyps(reply, 1)[0].text.startswith("vingt")


def test_topk_1_equals_greedy_and_alternatives_of_one_too(client) -> None:
    greedy = client.Translate(request([SOURCE], beam_size=1), timeout=TIMEOUT)
    topk1 = client.Translate(request([SOURCE], beam_size=1, sampling_topk=1, seed=3),
                             timeout=TIMEOUT)
    # return_alternatives decodes through the per-row (rules) path: same greedy answer.
    alternative = client.Translate(request([SOURCE], beam_size=1, return_alternatives=True),
                                   timeout=TIMEOUT)
    assert tokens(topk1) == tokens(greedy) == tokens(alternative)


def test_alternatives_differ_at_the_first_position_after_the_prefix(client) -> None:
    reply = client.Translate(request([SOURCE], beam_size=1, n_best=3, return_alternatives=True,
                                     target_prefix=["trois"]), timeout=TIMEOUT)
    prefix_len = len(tokens(client.Translate(
        request([SOURCE], beam_size=1, target_prefix=["trois"], max_length=1), timeout=TIMEOUT
    ))[0])
    seen = [t[prefix_len] for t in tokens(reply) if len(t) > prefix_len]
    assert len(seen) == len(set(seen))
    assert all(h.text.startswith("trois") for h in hyps(reply))


@pytest.mark.parametrize("beam", [1, 4])
def test_no_repeat_ngram_size_1_never_repeats_a_token(client, beam: int) -> None:
    reply = client.Translate(request([SOURCE, "seventy seven thousand seven hundred"],
                                     beam_size=beam, n_best=beam, no_repeat_ngram_size=1,
                                     max_length=30), timeout=TIMEOUT)
    for sentence in range(2):
        for t in tokens(reply, sentence):
            assert len(t) == len(set(t)), t


def prefix_pieces(client, text: str) -> list[int]:
    """The model's pieces for `text`: the shortest max_length that accepts it as a prefix."""
    for length in range(1, 12):
        try:
            reply = client.Translate(request([SOURCE], beam_size=1, target_prefix=[text],
                                             max_length=length), timeout=TIMEOUT)
        except grpc.RpcError as error:
            assert "max_length" in error.details()
            continue
        return tokens(reply)[0][:length]
    raise AssertionError("prefix longer than 11 pieces")


def contains(sequence: list[int], part: list[int]) -> bool:
    return any(sequence[i : i + len(part)] == part for i in range(len(sequence) - len(part) + 1))


def test_suppressed_sequence_never_appears(client) -> None:
    plain = client.Translate(request([SOURCE], beam_size=4, n_best=4, max_length=30),
                             timeout=TIMEOUT)
    words = [w for h in hyps(plain) for w in h.text.split()]
    if not words:
        pytest.skip("the tiny model answered nothing: no word to suppress")
    word = max(set(words), key=words.count)
    pieces = prefix_pieces(client, word)
    assert any(contains(t, pieces) for t in tokens(plain))
    reply = client.Translate(request([SOURCE], beam_size=4, n_best=4, max_length=30,
                                     suppress_sequences=[word]), timeout=TIMEOUT)
    for t in tokens(reply):
        assert not contains(t, pieces), (t, pieces)


def test_same_seed_same_samples_and_other_seeds_differ(client) -> None:
    def sampled(seed: int) -> list[list[int]]:
        reply = client.Translate(request([SOURCE], beam_size=1, n_best=3, sampling_topk=0,
                                         sampling_temperature=3.0, seed=seed, max_length=20),
                                 timeout=TIMEOUT)
        return tokens(reply)

    first = sampled(11)
    assert len(first) == 3
    assert sampled(11) == first
    outputs = {tuple(map(tuple, sampled(seed))) for seed in range(1, 6)}
    assert len(outputs) > 1  # at T=3 over the whole vocabulary, 5 seeds cannot all agree


def test_sampling_with_topk_and_topp_is_reproducible_and_within_limits(client) -> None:
    options = {"beam_size": 1, "n_best": 2, "sampling_topk": 5, "sampling_topp": 0.9,
               "seed": 99, "repetition_penalty": 1.3, "max_length": 20}
    a = client.Translate(request([SOURCE, "eight"], **options), timeout=TIMEOUT)
    b = client.Translate(request([SOURCE, "eight"], **options), timeout=TIMEOUT)
    assert tokens(a, 0) == tokens(b, 0) and tokens(a, 1) == tokens(b, 1)


def test_return_attention_gives_one_distribution_per_output_token(client) -> None:
    reply = client.Translate(request([SOURCE], beam_size=3, n_best=2, return_attention=True),
                             timeout=TIMEOUT)
    plain = client.Translate(request([SOURCE], beam_size=3, n_best=2), timeout=TIMEOUT)
    assert tokens(reply) == tokens(plain)
    for h in hyps(reply):
        assert len(h.attention) == len(h.tokens)
        for token in h.attention:
            assert abs(sum(token.weights) - 1.0) < 1e-3
            assert token.weights[token.aligned_position] == max(token.weights)


def test_stream_partials_with_options_end_in_the_unary_answer(client) -> None:
    options = {"beam_size": 1, "n_best": 2, "sampling_topk": 0, "seed": 5,
               "target_prefix": ["deux"], "no_repeat_ngram_size": 2, "max_length": 20}
    unary = client.Translate(request([SOURCE], **options), timeout=TIMEOUT)
    messages = list(client.TranslateStream(request([SOURCE], **options), timeout=TIMEOUT))
    assert messages[-1].HasField("final")
    assert tokens(messages[-1].final) == tokens(unary)
    partials = [m.partial for m in messages[:-1]]
    for partial in partials:
        assert partial.text.startswith("deux")


def test_get_model_reports_the_new_defaults_and_limits(client) -> None:
    details = client.GetModel(pb.GetModelRequest(model="numbers"), timeout=TIMEOUT).translator
    assert details.decoding_defaults.sampling_topk == 1
    assert details.decoding_defaults.sampling_temperature == 1.0
    assert details.decoding_defaults.repetition_penalty == 1.0
    assert details.limits.max_prefix_tokens > 0
    assert details.limits.max_ngram_size > 0


BAD = [
    ("topp over 1", {"sampling_topp": 1.5}, "sampling_topp"),
    ("temperature zero", {"sampling_topk": 0, "sampling_temperature": 0.0},
     "sampling_temperature"),
    ("sampling with a beam", {"sampling_topk": 0, "beam_size": 4}, "beam_size 1"),
    ("topk over the vocabulary", {"beam_size": 1, "sampling_topk": 100000}, "vocab_size"),
    ("ngram over the limit", {"no_repeat_ngram_size": 99}, "max_ngram_size"),
    ("repetition penalty zero", {"repetition_penalty": 0.0}, "repetition_penalty"),
    ("prefix count", {"target_prefix": ["un", "deux", "trois"]}, "target_prefix"),
    ("prefix too long", {"target_prefix": [" ".join(["cent"] * 80)]}, "max_prefix_tokens"),
    ("too many suppressed", {"suppress_sequences": ["un"] * 40}, "max_suppressed_sequences"),
    ("alternatives with a beam", {"return_alternatives": True, "beam_size": 3},
     "return_alternatives"),
    ("samples over the limit", {"sampling_topk": 0, "beam_size": 1, "n_best": 50},
     "max_beam_size"),
]


@pytest.mark.parametrize(("case", "options", "mentions"), BAD, ids=[b[0] for b in BAD])
def test_bad_option_is_invalid_argument_naming_the_limit(
    client, server: ServerProcess, case: str, options: dict, mentions: str
) -> None:
    bad = request([SOURCE, "two"], **options)
    with pytest.raises(grpc.RpcError) as raised:
        client.Translate(bad, timeout=TIMEOUT)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert mentions in raised.value.details()
    with pytest.raises(grpc.RpcError) as streamed:
        list(client.TranslateStream(bad, timeout=TIMEOUT))
    assert streamed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert len(hyps(client.Translate(request(["twelve"]), timeout=TIMEOUT))) == 1
    assert server.alive()
