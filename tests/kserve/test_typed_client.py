"""The typed domain-API client on every kind, checked against the KServe v2 answers."""

from __future__ import annotations

import numpy as np
import tritonclient.grpc as grpcclient

from seqserve.client import DecodingOptions, SeqServeClient
from tests.kserve.conftest import CAPTIONER, FORECASTER, TAGGER, TRANSLATOR
from tests.kserve.kserve_helpers import decoded, text_input
from tests.kserve.test_kserve_infer import _png


def test_every_kind_through_the_typed_client(triton, kserve_server) -> None:
    with SeqServeClient(kserve_server.address) as client:
        translated = client.translate(["forty"], model=TRANSLATOR)
        tagged = client.tag(["Bu bir deneme ."], model=TAGGER, top_k=2)
        by_tokens = client.tag(sentences=[["Bu", "bir", "deneme", "."]], model=TAGGER)
        captioned = client.caption([_png(3)], model=CAPTIONER,
                                   options=DecodingOptions(beam_size=2, n_best=2))
        predicted = client.predict([[340.0, 341.0], [342.5]], model=FORECASTER)
    assert translated.sentences[0].hypotheses[0].text == decoded(
        triton.infer(TRANSLATOR, [text_input("TEXT", ["forty"])]).as_numpy("HYPOTHESES"))[0][0]
    labels = [t.label for t in tagged.sentences[0]]
    assert labels == [t.label for t in by_tokens.sentences[0]]
    assert len(tagged.sentences[0][0].top) == 2
    kserve = triton.infer(TAGGER, [text_input("TEXT", ["Bu bir deneme ."])])
    assert decoded(kserve.as_numpy("LABELS"))[0] == labels
    assert len(captioned.captions[0].hypotheses) == 2
    assert predicted.session_id and len(predicted.steps) == 3
    chunk = grpcclient.InferInput("INPUT", [2, 1], "FP32")
    chunk.set_data_from_numpy(np.array([[340.0], [341.0]], np.float32))
    first = triton.infer(FORECASTER, [chunk], sequence_id="typed", sequence_start=True,
                         sequence_end=True)
    np.testing.assert_array_equal(first.as_numpy("FORECAST"),
                                  [s.forecast for s in predicted.steps[:2]])


def test_predict_stream_yields_the_session_then_each_chunk_like_predict(kserve_server) -> None:
    chunks = [[340.0, 341.0], [342.5]]
    with SeqServeClient(kserve_server.address) as client:
        events = list(client.predict_stream(iter(chunks), model=FORECASTER))
        whole = client.predict(chunks, model=FORECASTER)
    assert isinstance(events[0], str) and events[0]
    assert [len(steps) for steps in events[1:]] == [2, 1]
    assert [s.forecast for steps in events[1:] for s in steps] == [s.forecast for s in whole.steps]
