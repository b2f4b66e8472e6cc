"""A request decoded alone equals the same request decoded while 31 others come and go."""

from __future__ import annotations

import random
import threading
import time

from tests.integration.grpc_helpers import request, stub
from tests.support.server_process import ServerProcess

TARGET = "three thousand four hundred and fifty-six"


def nbest(reply) -> list[tuple[list[int], float]]:
    return [(list(h.tokens), h.score) for h in reply.translations[0].hypotheses]


def test_nbest_alone_equals_nbest_with_31_others_joining_and_leaving(
    server: ServerProcess,
) -> None:
    rng = random.Random(7)
    channel, client = stub(server.address)
    with channel:
        alone = nbest(client.Translate(request([TARGET], beam_size=4, n_best=4)))
        others = [
            " ".join(rng.choice(["one", "two", "seven", "twenty", "hundred", "thousand",
                                 "eighty", "and", "nine"]) for _ in range(rng.randint(1, 7)))
            for _ in range(31)
        ]
        errors: list[BaseException] = []

        def other(sentence: str, delay: float, max_length: int) -> None:
            time.sleep(delay)  # join at a random decode step
            try:
                client.Translate(request([sentence], beam_size=rng.choice([1, 2, 4, 6]),
                                         max_length=max_length), timeout=60)
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=other, args=(s, rng.uniform(0, 0.05), rng.randint(3, 40)))
            for s in others
        ]
        for t in threads:
            t.start()
        together = nbest(client.Translate(request([TARGET], beam_size=4, n_best=4)))
        for t in threads:
            t.join(90)
    assert not errors
    assert [tokens for tokens, _ in together] == [tokens for tokens, _ in alone]
    for (_, a), (_, b) in zip(alone, together, strict=True):
        assert abs(a - b) <= 1e-5


def test_seeded_samples_alone_equal_samples_among_31_other_requests(
    server: ServerProcess,
) -> None:
    """Each sentence draws from its own generator: batch-mates (sampling or
    not, joining at random steps) never change a seeded request's samples."""
    rng = random.Random(11)
    sampled = {"sampling_topk": 0, "sampling_temperature": 2.0, "seed": 1234, "n_best": 3,
               "beam_size": 1, "repetition_penalty": 1.2, "target_prefix": ["trois"]}
    channel, client = stub(server.address)
    with channel:
        alone = nbest(client.Translate(request([TARGET], **sampled), timeout=60))
        errors: list[BaseException] = []

        def other(index: int, delay: float) -> None:
            time.sleep(delay)
            options = ({"sampling_topk": rng.choice([0, 3]), "seed": index, "n_best": 2,
                        "beam_size": 1} if index % 2 else {"beam_size": rng.choice([1, 4])})
            try:
                client.Translate(request([f"{index} thousand and {index}"], **options,
                                         max_length=rng.randint(3, 30)), timeout=60)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=other, args=(i, rng.uniform(0, 0.05)))
                   for i in range(1, 32)]
        for t in threads:
            t.start()
        together = nbest(client.Translate(request([TARGET], **sampled), timeout=60))
        for t in threads:
            t.join(90)
    assert not errors
    assert [tokens for tokens, _ in together] == [tokens for tokens, _ in alone]
    for (_, a), (_, b) in zip(alone, together, strict=True):
        assert abs(a - b) <= 1e-5
