"""Hypothesis over every RPC of seqserve.v1 and KServe v2 against the real server.

About 2,000 requests in the suite; `make fuzz` multiplies them (SEQSERVE_FUZZ_SCALE)
for the long run and prints the status histogram. Derandomized here so CI is
repeatable; the long run draws fresh examples.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.calls import BAD_CODES, RPCS, Caller, Rpc, requests_for

SCALE = float(os.environ.get("SEQSERVE_FUZZ_SCALE", "1"))
# RPCs with most paths behind their validation get more examples.
DEEP = {"Translate", "TranslateStream", "Tag", "Caption", "Predict", "PredictStep",
        "PredictMany", "ModelInfer", "ModelStreamInfer"}


def _examples(rpc: Rpc) -> int:
    return max(1, int((140 if rpc.method in DEEP else 55) * SCALE))


@pytest.mark.parametrize("rpc", RPCS, ids=[f"{r.service.split('.')[0]}-{r.method}" for r in RPCS])
def test_fuzzed_requests_never_fail_internally(rpc: Rpc, fuzz_caller: Caller) -> None:
    @settings(max_examples=_examples(rpc), deadline=None, database=None,
              derandomize=SCALE <= 1, suppress_health_check=list(HealthCheck))
    @given(request=requests_for(rpc))
    def check(request: object) -> None:
        code, details = fuzz_caller.call(rpc, request)
        assert code not in BAD_CODES, f"{rpc.method} -> {code.name}: {details[:500]}"

    check()
