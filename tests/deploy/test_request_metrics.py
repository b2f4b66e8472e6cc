"""The request series of a real server after traffic of every kind (tests/deploy/traffic.py):
every RPC ending counted by model, RPC and status code, for seqserve.v1 and KServe."""

from __future__ import annotations

import inspect

import pytest

from seqserve.protos.inference import grpc_service_pb2 as kpb
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api.kserve.servicer import KServeServicer
from seqserve.server.api.servicer import SeqServeServicer
from tests.deploy.scrape import scrape, value
from tests.deploy.traffic import FORECASTER, TAGGER, TRANSLATOR

REQUESTS = "seqserve_requests_total"


@pytest.fixture(scope="module")
def series(deploy_server):
    return scrape(deploy_server.metrics_url)


@pytest.mark.parametrize(("model", "method", "code"), [
    (TRANSLATOR, "Translate", "OK"),
    (TRANSLATOR, "Translate", "INVALID_ARGUMENT"),
    ("", "Translate", "NOT_FOUND"),  # unknown names never become label values
    (TRANSLATOR, "TranslateStream", "OK"),
    (TAGGER, "Tag", "OK"),
    (FORECASTER, "Predict", "OK"),
    (FORECASTER, "OpenSession", "OK"),
    (FORECASTER, "CloseSession", "OK"),
    (FORECASTER, "PredictMany", "OK"),  # the stream's first model, no longer ""
    (TRANSLATOR, "ModelInfer", "OK"),
    ("", "ModelInfer", "NOT_FOUND"),
])
def test_every_rpc_ending_is_counted(series, model, method, code):
    assert value(series, REQUESTS, model=model, method=method, code=code) >= 1
    assert value(series, "seqserve_request_latency_seconds_count", model=model,
                 method=method) >= 1


def test_no_series_names_an_unknown_model(series):
    assert value(series, REQUESTS, model="no-such") == 0
    assert value(series, "seqserve_predict_many_steps_total", model="no-such") == 0


def test_predict_many_steps_count_each_step_by_model_and_code(series):
    assert value(series, "seqserve_predict_many_steps_total", model=FORECASTER, code="OK") >= 1
    assert value(series, "seqserve_predict_many_steps_total", model="", code="NOT_FOUND") >= 1


@pytest.mark.parametrize("model", [TRANSLATOR, TAGGER, FORECASTER])
def test_queue_and_compute_durations_per_model(series, model):
    assert value(series, "seqserve_queue_duration_seconds_count", model=model) >= 1
    assert value(series, "seqserve_compute_duration_seconds_count", model=model) >= 1


def test_time_to_first_partial_and_inter_step(series):
    assert value(series, "seqserve_time_to_first_partial_seconds_count", model=TRANSLATOR) >= 1
    # 3 Predict chunks + 1 PredictMany step of co2.
    assert value(series, "seqserve_session_inter_step_seconds_count", model=FORECASTER) >= 4


def test_gauges_return_to_zero_when_idle(series):
    """All traffic has ended: nothing queued, decoding or open (no stale gauge)."""
    for name in ("seqserve_queue_depth", "seqserve_live_sentences", "seqserve_live_sessions"):
        assert value(series, name) == 0, name
    for model in (TRANSLATOR, TAGGER, FORECASTER):
        assert value(series, "seqserve_queue_capacity", model=model) > 0, model
        assert ("seqserve_rejected_requests_total",
                frozenset({("model", model), ("reason", "queue_full")})) in series, model
    assert value(series, "seqserve_session_capacity", model=FORECASTER) > 0


@pytest.mark.parametrize(("servicer", "service"), [
    (SeqServeServicer, pb.DESCRIPTOR.services_by_name["SeqServe"]),
    (KServeServicer, kpb.DESCRIPTOR.services_by_name["GRPCInferenceService"]),
])
def test_every_rpc_goes_through_the_one_metrics_wrapper(servicer, service):
    """grpc_method is the one place that counts RPC endings: no RPC may bypass it."""
    for method in service.methods:
        handler = getattr(servicer, method.name)
        assert inspect.unwrap(handler) is not handler, f"{method.name} is not @grpc_method"
