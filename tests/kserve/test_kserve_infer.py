"""ModelInfer and ModelStreamInfer on every model kind, with the real tritonclient;
results must equal what the domain API (seqserve.v1) returns for the same input."""

from __future__ import annotations

import queue

import grpc
import numpy as np
import tritonclient.grpc as grpcclient

from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from seqserve.protos.seqserve.v1 import seqserve_pb2_grpc as pb_grpc
from tests.kserve.conftest import CAPTIONER, FORECASTER, TAGGER, TRANSLATOR
from tests.kserve.kserve_helpers import bytes_request, decoded, raw_stub, text_input

SENTENCES = ["twenty one", "three hundred and five", "nine"]


def _domain(address: str) -> tuple[grpc.Channel, pb_grpc.SeqServeStub]:
    channel = grpc.insecure_channel(address)
    return channel, pb_grpc.SeqServeStub(channel)


def test_translate_equals_the_domain_api(triton, kserve_server) -> None:
    result = triton.infer(
        TRANSLATOR, [text_input("TEXT", SENTENCES)],
        parameters={"beam_size": 3, "n_best": 2},
    )
    hypotheses = decoded(result.as_numpy("HYPOTHESES"))
    scores = result.as_numpy("SCORES")
    assert result.as_numpy("HYPOTHESES").shape == (3, 2) and scores.dtype == np.float32
    channel, stub = _domain(kserve_server.address)
    with channel:
        reply = stub.Translate(pb.TranslateRequest(
            model=TRANSLATOR, sentences=SENTENCES,
            options=pb.DecodingOptions(beam_size=3, n_best=2),
        ))
    expected = [[h.text for h in t.hypotheses] for t in reply.translations]
    assert hypotheses == expected
    want_scores = [[h.score for h in t.hypotheses] for t in reply.translations]
    np.testing.assert_allclose(scores, np.asarray(want_scores, np.float32), rtol=1e-6)
    assert result.get_response().model_version == "1"


def test_typed_contents_and_a_flat_shape_give_the_same_result(triton, kserve_server) -> None:
    raw = decoded(triton.infer(TRANSLATOR, [text_input("TEXT", SENTENCES)]).as_numpy("HYPOTHESES"))
    with raw_stub(kserve_server.address) as stub:
        typed = stub.ModelInfer(bytes_request(TRANSLATOR, [s.encode() for s in SENTENCES]))
    result = grpcclient.InferResult(typed)
    assert decoded(result.as_numpy("HYPOTHESES")) == raw
    flat = grpcclient.InferInput("TEXT", [3], "BYTES")
    flat.set_data_from_numpy(np.array([s.encode() for s in SENTENCES], dtype=object))
    assert decoded(triton.infer(TRANSLATOR, [flat]).as_numpy("HYPOTHESES")) == raw


def test_requested_outputs_only(triton) -> None:
    result = triton.infer(
        TRANSLATOR, [text_input("TEXT", ["eight"])],
        outputs=[grpcclient.InferRequestedOutput("SCORES")],
    )
    assert [o.name for o in result.get_response().outputs] == ["SCORES"]


def test_tag_text_and_tokens_equal_the_domain_api(triton, kserve_server) -> None:
    texts = ["Bu bir deneme .", "Ankara güzel bir şehir"]
    by_text = triton.infer(TAGGER, [text_input("TEXT", texts)])
    tokens = [t.split() for t in texts]
    width = max(len(t) for t in tokens)
    padded = np.array([[w.encode() for w in t] + [b""] * (width - len(t)) for t in tokens],
                      dtype=object)
    tokens_input = grpcclient.InferInput("TOKENS", list(padded.shape), "BYTES")
    tokens_input.set_data_from_numpy(padded)
    by_tokens = triton.infer(TAGGER, [tokens_input])
    channel, stub = _domain(kserve_server.address)
    with channel:
        reply = stub.Tag(pb.TagRequest(model=TAGGER, texts=texts))
    expected = [[t.label for t in s.tokens] + [""] * (width - len(s.tokens))
                for s in reply.sentences]
    assert decoded(by_text.as_numpy("LABELS")) == expected
    assert decoded(by_tokens.as_numpy("LABELS")) == expected
    probs = by_text.as_numpy("PROBABILITIES")
    np.testing.assert_allclose(probs[0, :4], [t.probability for t in reply.sentences[0].tokens],
                               rtol=1e-6)


def _forecast_chunks() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [(340 + rng.normal(0, 2, size=(n, 1))).astype(np.float32) for n in (5, 1, 7)]


def _values_input(chunk: np.ndarray) -> grpcclient.InferInput:
    tensor = grpcclient.InferInput("INPUT", list(chunk.shape), "FP32")
    tensor.set_data_from_numpy(chunk)
    return tensor


def test_sequence_equals_the_domain_api_sessions(triton, kserve_server) -> None:
    chunks = _forecast_chunks()
    got = []
    for index, chunk in enumerate(chunks):
        result = triton.infer(
            FORECASTER, [_values_input(chunk)], sequence_id=4242,
            sequence_start=index == 0, sequence_end=index == len(chunks) - 1,
        )
        got.append(result.as_numpy("FORECAST"))
    channel, stub = _domain(kserve_server.address)
    with channel:
        opened = stub.OpenSession(pb.OpenSessionRequest(model=FORECASTER))
        session, token = opened.session_id, opened.session_token
        want = []
        for chunk in chunks:
            reply = stub.PredictStep(pb.PredictStepRequest(
                model=FORECASTER, session_id=session, session_token=token,
                chunk=pb.Chunk(values=pb.FloatValues(values=chunk.astype(np.float64).ravel())),
            ))
            want.append(np.array([list(s.forecast) for s in reply.steps]))
        stub.CloseSession(pb.SessionRef(model=FORECASTER, session_id=session,
                                        session_token=token))
    for mine, theirs in zip(got, want, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    # String sequence ids work too, and sequences do not share state.
    first = triton.infer(FORECASTER, [_values_input(chunks[0])], sequence_id="s-1",
                         sequence_start=True, sequence_end=True)
    np.testing.assert_array_equal(first.as_numpy("FORECAST"), got[0])


def test_stream_with_many_requests_in_flight(triton) -> None:
    responses: queue.Queue = queue.Queue()
    triton.start_stream(callback=lambda result, error: responses.put((result, error)))
    try:
        sentences = [f"{n} thousand" for n in ("one", "two", "three", "four", "five", "six")]
        for index, sentence in enumerate(sentences):
            triton.async_stream_infer(TRANSLATOR, [text_input("TEXT", [sentence])],
                                      request_id=f"t{index}", parameters={"beam_size": 2})
        # Two sequences interleaved on the same stream: each keeps its order.
        chunks = _forecast_chunks()
        for index, chunk in enumerate(chunks):
            for seq in (11, 12):
                triton.async_stream_infer(
                    FORECASTER, [_values_input(chunk)], request_id=f"s{seq}-{index}",
                    sequence_id=seq, sequence_start=index == 0,
                    sequence_end=index == len(chunks) - 1,
                )
        got = {}
        for _ in range(len(sentences) + 2 * len(chunks)):
            result, error = responses.get(timeout=60)
            assert error is None, error
            got[result.get_response().id] = result
    finally:
        triton.stop_stream()
    single = {
        s: decoded(triton.infer(TRANSLATOR, [text_input("TEXT", [s])],
                                parameters={"beam_size": 2}).as_numpy("HYPOTHESES"))
        for s in sentences
    }
    for index, sentence in enumerate(sentences):
        assert decoded(got[f"t{index}"].as_numpy("HYPOTHESES")) == single[sentence]
    for index in range(len(chunks)):
        np.testing.assert_array_equal(got[f"s11-{index}"].as_numpy("FORECAST"),
                                      got[f"s12-{index}"].as_numpy("FORECAST"))


def test_stream_reports_a_bad_request_and_keeps_going(triton) -> None:
    responses: queue.Queue = queue.Queue()
    triton.start_stream(callback=lambda result, error: responses.put((result, error)))
    try:
        triton.async_stream_infer(TRANSLATOR, [text_input("WRONG", ["one"])], request_id="bad")
        triton.async_stream_infer(TRANSLATOR, [text_input("TEXT", ["one"])], request_id="good")
        outcomes = [responses.get(timeout=60) for _ in range(2)]
    finally:
        triton.stop_stream()
    errors = [e for _, e in outcomes if e is not None]
    results = [r for r, e in outcomes if e is None]
    assert len(errors) == 1 and "unexpected inference input 'WRONG'" in errors[0].message()
    assert len(results) == 1 and results[0].get_response().id == "good"


def _png(seed: int) -> bytes:
    import io

    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 255, size=(48, 48, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_caption_images_and_pixels_equal_the_domain_api(triton, kserve_server) -> None:
    images = [_png(1), _png(2)]
    data = np.array([[image] for image in images], dtype=object)
    by_image = grpcclient.InferInput("IMAGE", list(data.shape), "BYTES")
    by_image.set_data_from_numpy(data)
    result = triton.infer(CAPTIONER, [by_image], parameters={"beam_size": 2, "n_best": 2})
    pixels = np.random.default_rng(5).normal(0, 0.5, size=(1, 3, 48, 48)).astype(np.float32)
    by_pixels = grpcclient.InferInput("PIXELS", list(pixels.shape), "FP32")
    by_pixels.set_data_from_numpy(pixels)
    tensor_result = triton.infer(CAPTIONER, [by_pixels])
    channel, stub = _domain(kserve_server.address)
    with channel:
        reply = stub.Caption(pb.CaptionRequest(
            model=CAPTIONER, images=[pb.CaptionImage(encoded=image) for image in images],
            options=pb.DecodingOptions(beam_size=2, n_best=2),
        ))
        tensor_reply = stub.Caption(pb.CaptionRequest(model=CAPTIONER, images=[pb.CaptionImage(
            tensor=pb.ImageTensor(shape=[3, 48, 48], dtype="float32", data=pixels[0].tobytes()),
        )]))
    assert decoded(result.as_numpy("CAPTIONS")) == [
        [h.text for h in c.hypotheses] for c in reply.captions
    ]
    assert decoded(tensor_result.as_numpy("CAPTIONS"))[0][0] == (
        tensor_reply.captions[0].hypotheses[0].text
    )
