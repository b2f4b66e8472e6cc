"""protobuf <-> engine conversions and the request-shape rules, as pure functions."""

from __future__ import annotations

import dataclasses
import math

import pytest

from seqserve.client import convert as client_convert
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.server.api import convert
from seqserve.server.engine.options import DecodingOptions
from seqserve.server.engine.results import Hypothesis, PartialUpdate, SentenceResult
from seqserve.server.errors import InvalidArgumentError
from seqserve.server.repository.config import BatchingConfig, Limits
from tests.api.api_fakes import make_info

# ---------------------------------------------------------------- options


def test_unset_options_mean_model_defaults():
    options = convert.decoding_options_from_proto(pb.DecodingOptions())
    assert options == DecodingOptions()  # every field None, return_scores True


def test_explicit_zero_is_not_unset():
    # proto3 `optional` is what lets "min_length = 0" differ from "use the default".
    options = convert.decoding_options_from_proto(pb.DecodingOptions(min_length=0, beam_size=0))
    assert options.min_length == 0 and options.beam_size == 0


@pytest.mark.parametrize(
    "options",
    [
        DecodingOptions(),
        DecodingOptions(beam_size=5, n_best=3, length_penalty=0.6, max_length=40, min_length=2),
        DecodingOptions(beam_size=1, return_scores=False),
        DecodingOptions(length_penalty=0.0, min_length=0),
    ],
)
def test_options_round_trip(options):
    msg = client_convert.decoding_options_to_proto(options)
    wire = pb.DecodingOptions.FromString(msg.SerializeToString())
    assert convert.decoding_options_from_proto(wire) == options


def test_only_set_options_go_on_the_wire():
    msg = client_convert.decoding_options_to_proto(DecodingOptions(n_best=2))
    assert msg.HasField("n_best") and not msg.HasField("beam_size")


# ---------------------------------------------------------------- results


RESULT = SentenceResult(
    hypotheses=[
        Hypothesis("le chat", [12, 40], score=-0.5, log_prob=-1.0),
        Hypothesis("un chat", [13, 40], score=-0.75, log_prob=-1.5),
    ],
    decode_steps=3,
)


def test_sentence_result_round_trip():
    msg = convert.sentence_to_proto(RESULT, return_scores=True)
    wire = pb.SentenceTranslation.FromString(msg.SerializeToString())
    assert client_convert.sentence_from_proto(wire) == RESULT


def test_scores_left_out_when_not_requested():
    msg = convert.sentence_to_proto(RESULT, return_scores=False)
    assert not msg.hypotheses[0].HasField("score")
    back = client_convert.sentence_from_proto(msg)
    assert back.hypotheses[0].text == "le chat" and back.hypotheses[0].tokens == [12, 40]
    assert math.isnan(back.hypotheses[0].score) and math.isnan(back.hypotheses[0].log_prob)


def test_translate_response_carries_model_and_version():
    info = make_info("en-fr", 3)
    msg = convert.translate_response(info, [RESULT, RESULT], return_scores=True)
    assert (msg.model, msg.version, len(msg.translations)) == ("en-fr", 3, 2)
    final = convert.final_to_proto(info, [RESULT], return_scores=True)
    assert final.WhichOneof("event") == "final" and final.final.model == "en-fr"


def test_partial_round_trip():
    update = PartialUpdate(sentence_index=2, text="le", tokens=[12], step=1)
    msg = convert.partial_to_proto(update)
    assert msg.WhichOneof("event") == "partial"
    assert client_convert.partial_from_proto(msg.partial) == update


# ---------------------------------------------------------------- model metadata


def test_model_metadata_from_model_info():
    info = make_info("en-fr", 2, max_sentences=5)
    msg = convert.model_metadata(info)
    assert (msg.name, msg.version, msg.description) == ("en-fr", 2, "a test translator")
    assert msg.kind == pb.MODEL_KIND_SEQ2SEQ and msg.state == pb.MODEL_STATE_READY
    assert list(msg.available_versions) == [1, 2]
    assert list(msg.execution_providers) == ["CPUExecutionProvider"]
    assert msg.WhichOneof("details") == "translator"
    details = msg.translator
    assert (details.source_language, details.target_language) == ("en", "fr")
    assert details.limits == pb.TranslatorLimits(
        max_sentences=5, max_source_tokens=200, max_beam_size=4, max_output_length=256,
        max_prefix_tokens=64, max_ngram_size=8, max_suppressed_sequences=32,
    )
    defaults = info.config.decoding
    assert details.decoding_defaults == pb.DecodingDefaults(
        beam_size=defaults.beam_size,
        n_best=defaults.n_best,
        length_penalty=defaults.length_penalty,
        max_length=defaults.max_length,
        min_length=defaults.min_length,
        sampling_topk=1, sampling_topp=1.0, sampling_temperature=1.0, repetition_penalty=1.0,
    )
    assert msg.batching.max_queue == BatchingConfig().max_queue


@pytest.mark.parametrize(
    ("policy", "value"),
    [
        ("continuous", pb.BATCHING_POLICY_CONTINUOUS),
        ("static", pb.BATCHING_POLICY_STATIC),
        ("sequential", pb.BATCHING_POLICY_SEQUENTIAL),
    ],
)
def test_batching_policy_enum(policy, value):
    info = make_info()
    config = info.config.model_copy(
        update={"batching": info.config.batching.model_copy(update={"policy": policy})}
    )
    msg = convert.model_metadata(dataclasses.replace(info, config=config))
    assert msg.batching.policy == value


def test_unknown_engine_strings_become_unspecified():
    info = make_info(state="WARMING_UP")
    assert convert.model_metadata(info).state == pb.MODEL_STATE_UNSPECIFIED


# ---------------------------------------------------------------- validation


def test_model_ref_rules():
    assert convert.validate_model_ref("en-fr", 0) is None
    assert convert.validate_model_ref("en-fr", 3) == 3
    with pytest.raises(InvalidArgumentError, match="model is required"):
        convert.validate_model_ref("", 0)
    with pytest.raises(InvalidArgumentError, match="version must be >= 0"):
        convert.validate_model_ref("en-fr", -2)


def test_empty_request_is_rejected():
    with pytest.raises(InvalidArgumentError, match="sentences is empty"):
        convert.validate_sentences([])


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_blank_sentence_is_rejected_by_index(blank):
    with pytest.raises(InvalidArgumentError, match=r"sentences\[2\]"):
        convert.validate_sentences(["a", "b", blank])


def test_sentence_limit_names_the_limit():
    limits = Limits(max_sentences=2)
    convert.check_sentence_limit(2, limits)
    with pytest.raises(InvalidArgumentError, match="max_sentences=2"):
        convert.check_sentence_limit(3, limits)
