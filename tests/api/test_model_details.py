"""ModelMetadata.details per model kind (tagger, captioner, streaming, translator) and the
Batching knobs: the builders as pure functions, then GetModel/ListModels on the real
server holding one model of every kind.

The served models reuse the training fixtures of their own test packages (small runs)
and are exported here with limits unlike the defaults, so a field read from the wrong
place shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from seqserve.server.api import convert
from seqserve.server.engine.handle import ModelInfo
from seqserve.server.repository.captioner_config import (
    CaptionerConfig,
    CaptionerLimits,
    ImagePreprocessing,
)
from seqserve.server.repository.config import DecodingDefaults, RuntimeConfig
from seqserve.server.repository.repository import ModelRepository
from seqserve.server.repository.streaming_config import StreamingConfig
from seqserve.server.repository.tagger_config import (
    DynamicBatching,
    TaggerConfig,
    TaggerLimits,
    TaggerVocabConfig,
)
from seqserve.server.runtime.graph import OrtGraph
from tests.support.server_process import ServerProcess, running_server

# ---------------------------------------------------------------- builders


def _info(kind: str, config: Any, **extra: Any) -> ModelInfo:
    return ModelInfo(name=config.name, version=3, kind=kind, config=config,
                     providers=["CPUExecutionProvider"], available_versions=[3], **extra)


def _tagger_config(policy: str = "dynamic") -> TaggerConfig:
    return TaggerConfig(
        name="pos", language="tr",
        vocab=TaggerVocabConfig(lowercase=False, max_chars=12),
        limits=TaggerLimits(max_sentences=7, max_tokens=50, max_top_k=2),
        batching=DynamicBatching(policy=policy, max_batch_size=16, max_queue_delay_ms=1.5,
                                 max_queue=99),
    )


def _streaming_config(kind: str, **overrides: object) -> StreamingConfig:
    states = [{"input": "h", "output": "h_out", "shape": [1, 8], "batch_axis": 1}]
    if kind == "float":
        raw = {"input": {"type": "float", "features": 2, "mean": [0.0, 1.0], "std": [1.0, 2.0]},
               "graph": {"outputs": ["forecast"], "states": states},
               "present": {"forecast": "forecast"}}
    else:
        raw = {"input": {"type": "tokens", "vocab_size": 80, "vocabulary": "vocab.jsonl"},
               "graph": {"outputs": ["top_probs", "top_ids", "surprise_bits"], "states": states},
               "present": {"top_probs": "top_probs", "top_ids": "top_ids",
                           "surprise": "surprise_bits", "top_k": 5}}
    return StreamingConfig.model_validate({"name": f"s-{kind}", **raw, **overrides})


def test_tagger_details_from_config_and_labels():
    msg = convert.model_metadata(_info("tagger", _tagger_config(), labels=["NOUN", "VERB", "X"]))
    assert msg.kind == pb.MODEL_KIND_TAGGER and msg.WhichOneof("details") == "tagger"
    assert msg.tagger == pb.TaggerDetails(
        language="tr", labels=["NOUN", "VERB", "X"],
        limits=pb.TaggerLimits(max_sentences=7, max_tokens=50, max_top_k=2),
        lowercase=False, max_chars=12,
    )
    assert msg.batching == pb.Batching(
        policy=pb.BATCHING_POLICY_DYNAMIC, max_queue=99, max_batch_size=16,
        max_queue_delay_ms=1.5,
    )


def test_tagger_sequential_policy_keeps_its_knobs():
    msg = convert.model_metadata(_info("tagger", _tagger_config("sequential")))
    assert msg.batching.policy == pb.BATCHING_POLICY_SEQUENTIAL
    assert msg.batching.max_batch_size == 16


def test_translator_batching_has_no_dynamic_knobs():
    from tests.api.api_fakes import make_info

    batching = convert.model_metadata(make_info()).batching
    assert batching.policy == pb.BATCHING_POLICY_CONTINUOUS and batching.max_rows > 0
    assert (batching.max_batch_size, batching.max_queue_delay_ms) == (0, 0.0)


def test_captioner_details_from_config():
    config = CaptionerConfig(
        name="scenes",
        preprocessing=ImagePreprocessing(height=32, width=40, mean=(0.4, 0.5, 0.6),
                                         std=(0.2, 0.25, 0.5)),
        limits=CaptionerLimits(max_images=3, max_image_bytes=1000, max_pixels=5000,
                               max_beam_size=6, max_output_length=30),
        decoding=DecodingDefaults(beam_size=3, n_best=2, length_penalty=0.5, max_length=20,
                                  min_length=1),
    )
    msg = convert.model_metadata(_info("captioner", config, vocab_size=57))
    assert msg.kind == pb.MODEL_KIND_CAPTIONER and msg.WhichOneof("details") == "captioner"
    assert msg.captioner == pb.CaptionerDetails(
        image=pb.ImageSpec(channels=3, height=32, width=40, tensor_dtype="float32",
                           encodings=["PNG", "JPEG"], mean=[0.4, 0.5, 0.6],
                           std=[0.2, 0.25, 0.5]),
        limits=pb.CaptionerLimits(max_images=3, max_image_bytes=1000, max_pixels=5000,
                                  max_beam_size=6, max_output_length=30,
                                  max_prefix_tokens=16, max_ngram_size=8,
                                  max_suppressed_sequences=32),
        decoding_defaults=pb.DecodingDefaults(beam_size=3, n_best=2, length_penalty=0.5,
                                              max_length=20, min_length=1, sampling_topk=1,
                                              sampling_topp=1.0, sampling_temperature=1.0,
                                              repetition_penalty=1.0),
        vocab_size=57,
    )
    assert msg.batching.policy == pb.BATCHING_POLICY_CONTINUOUS
    assert msg.batching.max_rows == config.batching.max_rows


def test_streaming_float_details():
    config = _streaming_config(
        "float",
        limits={"max_sessions": 10, "max_chunk_steps": 20, "idle_timeout_seconds": 7.5,
                "max_pending_chunks": 4},
        sessions={"store": "sqlite", "snapshot": "every_n_steps", "every_n_steps": 12},
        batching={"policy": "sequential", "max_rows": 33, "max_queue": 44},
    )
    msg = convert.model_metadata(_info("streaming", config, forecast_horizon=4))
    assert msg.kind == pb.MODEL_KIND_STREAMING and msg.WhichOneof("details") == "streaming"
    assert msg.streaming == pb.StreamingDetails(
        input_type=pb.STREAMING_INPUT_TYPE_FLOAT, features=2, step_outputs=["forecast"],
        forecast_horizon=4,
        limits=pb.SessionLimits(max_sessions=10, max_chunk_steps=20, idle_timeout_seconds=7.5,
                                max_pending_chunks=4),
        persistence=pb.SessionPersistence(store=pb.SESSION_STORE_SQLITE,
                                          snapshot=pb.SNAPSHOT_POLICY_EVERY_N_STEPS,
                                          every_n_steps=12),
    )
    assert msg.batching == pb.Batching(policy=pb.BATCHING_POLICY_SEQUENTIAL, max_rows=33,
                                       max_queue=44)


def test_streaming_token_details():
    config = _streaming_config("tokens", sessions={"snapshot": "on_evict"})
    # A horizon on a model that does not forecast is not reported.
    details = convert.model_metadata(_info("streaming", config, forecast_horizon=9)).streaming
    assert details.input_type == pb.STREAMING_INPUT_TYPE_TOKENS
    assert (details.features, details.vocab_size, details.top_k) == (0, 80, 5)
    assert list(details.step_outputs) == ["candidates", "surprise_bits"]
    assert details.forecast_horizon == 0
    assert details.persistence == pb.SessionPersistence(
        store=pb.SESSION_STORE_MEMORY, snapshot=pb.SNAPSHOT_POLICY_ON_EVICT)
    assert details.limits.max_sessions == config.limits.max_sessions


def test_unknown_kind_leaves_details_unset():
    msg = convert.model_metadata(_info("mystery", _tagger_config()))
    assert msg.kind == pb.MODEL_KIND_UNSPECIFIED and msg.WhichOneof("details") is None


# ---------------------------------------------------------------- served

KINDS = {"numbers": "translator", "pos": "tagger", "scenes": "captioner", "co2": "streaming",
         "charlm": "streaming"}
TAGGER_LIMITS = {"max_sentences": 12, "max_tokens": 33, "max_top_k": 2}
CAPTION_LIMITS = {"max_images": 3, "max_image_bytes": 150_000, "max_pixels": 300 * 300,
                  "max_beam_size": 5, "max_output_length": 28}
SESSION_LIMITS = {"max_chunk_steps": 24, "max_sessions": 48, "idle_timeout_seconds": 45.0,
                  "max_pending_chunks": 6}


@pytest.fixture(scope="module")
def details_repository(
    numbers_repository: Path, tagger_run: Path, captioner_run: Path,
    co2_run: Path, charlm_run: Path, tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    from seqserve.export.captioner_export import export_captioner
    from seqserve.export.streaming import export_streaming_run
    from seqserve.export.tagger_export import export_tagger

    root = tmp_path_factory.mktemp("details-repo")
    (root / "numbers").symlink_to(numbers_repository / "numbers", target_is_directory=True)
    export_tagger(tagger_run, root, "pos", 1, config_overrides={
        "language": "tr", "limits": TAGGER_LIMITS,
        "batching": {"max_batch_size": 24, "max_queue_delay_ms": 3.5},
    })
    export_captioner(captioner_run, root, "scenes", 1, quality_scenes=4, config_overrides={
        "limits": CAPTION_LIMITS, "decoding": {"beam_size": 3, "max_length": 20},
    })
    export_streaming_run(co2_run, root, "co2", 1, config_overrides={
        "limits": SESSION_LIMITS,
        "sessions": {"store": "sqlite", "snapshot": "every_n_steps", "every_n_steps": 16},
    })
    export_streaming_run(charlm_run, root, "charlm", 1, config_overrides={
        "limits": SESSION_LIMITS, "sessions": {"snapshot": "on_evict"},
    })
    return root


@pytest.fixture(scope="module")
def details_server(details_repository: Path) -> Iterator[ServerProcess]:
    with running_server(details_repository) as process:
        yield process


@pytest.fixture(scope="module")
def client(details_server: ServerProcess) -> Iterator[pb_grpc.SeqServeStub]:
    with grpc.insecure_channel(details_server.address) as channel:
        yield pb_grpc.SeqServeStub(channel)


def _config(repository: Path, name: str) -> Any:
    """The config.yaml the server loaded, validated by its kind's schema."""
    return ModelRepository(repository).resolve(name).config


def _get(client: pb_grpc.SeqServeStub, name: str) -> pb.ModelMetadata:
    return client.GetModel(pb.GetModelRequest(model=name), timeout=10)


def test_get_model_tagger(client, details_repository):
    config = _config(details_repository, "pos")
    meta = _get(client, "pos")
    assert meta.kind == pb.MODEL_KIND_TAGGER and meta.WhichOneof("details") == "tagger"
    details = meta.tagger
    assert details.language == config.language == "tr"
    assert details.limits == pb.TaggerLimits(**TAGGER_LIMITS)
    assert details.limits.max_tokens == config.limits.max_tokens
    assert (details.lowercase, details.max_chars) == (config.vocab.lowercase,
                                                      config.vocab.max_chars)
    assert meta.batching.policy == pb.BATCHING_POLICY_DYNAMIC
    assert (meta.batching.max_batch_size, meta.batching.max_queue_delay_ms) == (24, 3.5)
    assert meta.batching.max_queue == config.batching.max_queue


def test_get_model_tagger_labels_are_the_vocab_labels(client, details_repository):
    vocab = details_repository / "pos" / "1" / _config(details_repository, "pos").vocab.file
    labels = json.loads(vocab.read_text(encoding="utf-8"))["labels"]
    served = list(_get(client, "pos").tagger.labels)
    assert served == labels and "NOUN" in served and "PUNCT" in served


def test_get_model_captioner(client, details_repository):
    config = _config(details_repository, "scenes")
    meta = _get(client, "scenes")
    assert meta.kind == pb.MODEL_KIND_CAPTIONER and meta.WhichOneof("details") == "captioner"
    details, pre = meta.captioner, config.preprocessing
    assert (details.image.channels, details.image.height, details.image.width) == (
        pre.channels, pre.height, pre.width)
    assert details.image.tensor_dtype == "float32"
    assert list(details.image.encodings) == ["PNG", "JPEG"]
    assert list(details.image.mean) == pytest.approx(pre.mean)
    assert list(details.image.std) == pytest.approx(pre.std)
    assert details.limits == pb.CaptionerLimits(
        **CAPTION_LIMITS, max_prefix_tokens=16, max_ngram_size=8, max_suppressed_sequences=32
    )
    defaults = details.decoding_defaults
    assert (defaults.beam_size, defaults.max_length) == (3, 20)
    assert defaults.n_best == config.decoding.n_best
    words = json.loads((details_repository / "scenes" / "1" / config.vocab.file).read_text())
    assert details.vocab_size == len(words) > 4


def test_get_model_streaming_forecaster(client, details_repository, co2_run):
    config = _config(details_repository, "co2")
    meta = _get(client, "co2")
    assert meta.kind == pb.MODEL_KIND_STREAMING and meta.WhichOneof("details") == "streaming"
    details = meta.streaming
    assert details.input_type == pb.STREAMING_INPUT_TYPE_FLOAT
    assert details.features == config.input.features
    assert (details.vocab_size, details.top_k) == (0, 0)
    assert list(details.step_outputs) == ["forecast"]
    assert details.limits == pb.SessionLimits(**SESSION_LIMITS)
    assert details.persistence == pb.SessionPersistence(
        store=pb.SESSION_STORE_SQLITE, snapshot=pb.SNAPSHOT_POLICY_EVERY_N_STEPS,
        every_n_steps=16)
    assert meta.batching.policy == pb.BATCHING_POLICY_CONTINUOUS
    assert meta.batching.max_rows == config.batching.max_rows


def test_forecast_horizon_is_the_graphs_last_axis(details_repository, co2_run):
    horizon = json.loads((co2_run / "run.json").read_text())["arch"]["horizon"]
    version = ModelRepository(details_repository).resolve("co2")
    graph = OrtGraph(version.path / version.config.graph.file,
                     RuntimeConfig(providers=["CPUExecutionProvider"]))
    assert graph.last_dim("forecast") == horizon > 0
    assert graph.last_dim("") == graph.last_dim("no-such-output") == 0


def test_get_model_streaming_forecast_horizon(client, co2_run):
    horizon = json.loads((co2_run / "run.json").read_text())["arch"]["horizon"]
    assert _get(client, "co2").streaming.forecast_horizon == horizon


def test_get_model_streaming_token_model(client, details_repository):
    config = _config(details_repository, "charlm")
    details = _get(client, "charlm").streaming
    assert details.input_type == pb.STREAMING_INPUT_TYPE_TOKENS
    assert details.features == 0
    assert details.vocab_size == config.input.vocab_size > 0
    assert details.top_k == config.present.top_k > 0
    assert list(details.step_outputs) == ["candidates", "surprise_bits"]
    assert details.forecast_horizon == 0
    assert details.persistence == pb.SessionPersistence(
        store=pb.SESSION_STORE_MEMORY, snapshot=pb.SNAPSHOT_POLICY_ON_EVICT)


def test_list_models_reports_details_for_every_kind(client):
    listed = client.ListModels(pb.ListModelsRequest(), timeout=10).models
    assert {m.name: m.WhichOneof("details") for m in listed} == KINDS
    for meta in listed:
        assert meta == _get(client, meta.name), meta.name
