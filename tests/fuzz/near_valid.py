"""Requests that are almost right: a real model, the right input names, and then
one or more values off (sizes at and past the limits, shapes that do not match
the data, NaN, datatypes of another kind). These reach the kinds' own checks
and the engine, where random messages rarely get."""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import strategies as st

from seqserve.protos.inference import grpc_service_pb2 as kpb
from seqserve.protos.seqserve.v1 import seqserve_pb2 as pb
from tests.fuzz.messages import FLOATS, FLOATS32, IMAGE_BYTES, SMALL_PNG, TEXT

WORDS = ["one", "two", "twelve", "twenty", "hundred", "thousand", "and", "Bu", "kitap", ".",
         "çok", "güzel", "zzz", "", " "]
SENTENCE = st.one_of(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join),
                     st.lists(st.sampled_from(WORDS), min_size=38, max_size=42).map(" ".join),
                     TEXT)
SMALL = st.one_of(st.integers(0, 8), st.sampled_from([0, 1, 6, 7, 255, 256, 257, 2**31]))
COUNT = st.one_of(st.integers(0, 5), st.sampled_from([16, 32, 33, 40, 64]))


def _options() -> st.SearchStrategy[pb.DecodingOptions]:
    return st.one_of(st.just(pb.DecodingOptions()), st.builds(
        pb.DecodingOptions, beam_size=SMALL, n_best=SMALL, length_penalty=FLOATS32,
        max_length=SMALL, min_length=SMALL, return_scores=st.booleans(),
    ))


def translate() -> st.SearchStrategy[pb.TranslateRequest]:
    return st.builds(
        pb.TranslateRequest, model=st.sampled_from(["numbers", "numbers-b"]),
        version=st.sampled_from([0, 1, 2]),
        # Mostly a few sentences (a full batch at max_length is seconds of decoding
        # on 2 cores); sometimes exactly at and one past max_sentences.
        sentences=COUNT.flatmap(lambda n: st.lists(SENTENCE, min_size=n, max_size=n)),
        options=_options(),
    )


def tag() -> st.SearchStrategy[pb.TagRequest]:
    tokens = st.lists(st.sampled_from(WORDS), max_size=45).map(lambda t: pb.TagTokens(tokens=t))
    return st.builds(
        pb.TagRequest, model=st.just("pos"), texts=st.lists(SENTENCE, max_size=20),
        sentences=st.lists(tokens, max_size=20), top_k=SMALL,
    )


def _image_tensor() -> st.SearchStrategy[pb.ImageTensor]:
    shape = st.one_of(st.just([3, 48, 48]), st.lists(st.integers(0, 64), max_size=4))
    return st.tuples(shape, st.sampled_from(["float32", "FP32", "uint8", ""]),
                     st.one_of(st.just(None), st.integers(-8, 8))).map(_tensor)


def _tensor(parts: tuple[list[int], str, int | None]) -> pb.ImageTensor:
    shape, dtype, delta = parts
    size = 1
    for dim in shape:
        size *= dim
    count = max(0, min(size, 3 * 64 * 64) + (delta or 0))
    return pb.ImageTensor(shape=shape, dtype=dtype, data=struct.pack(f"<{count}f",
                                                                     *([0.5] * count)))


def caption() -> st.SearchStrategy[pb.CaptionRequest]:
    image = st.one_of(IMAGE_BYTES.map(lambda b: pb.CaptionImage(encoded=b)),
                      st.just(pb.CaptionImage(encoded=SMALL_PNG)),
                      _image_tensor().map(lambda t: pb.CaptionImage(tensor=t)))
    return st.builds(pb.CaptionRequest, model=st.just("scenes"),
                     images=st.lists(image, max_size=6), options=_options())


def chunks() -> st.SearchStrategy[pb.PredictRequest]:
    values = st.lists(FLOATS, max_size=40).map(
        lambda v: pb.Chunk(values=pb.FloatValues(values=v)))
    ids = st.lists(st.integers(-(2**63), 2**63 - 1), max_size=8).map(
        lambda v: pb.Chunk(tokens=pb.TokenIds(ids=v)))
    text = SENTENCE.map(lambda t: pb.Chunk(text=t))
    return st.builds(pb.PredictRequest, chunk=st.one_of(values, ids, text), top_k=SMALL)


_KIND_INPUTS = {
    "numbers": [("TEXT", "BYTES", 2)], "pos": [("TEXT", "BYTES", 2), ("TOKENS", "BYTES", 2)],
    "co2": [("INPUT", "FP32", 2)], "scenes": [("IMAGE", "BYTES", 2), ("PIXELS", "FP32", 4)],
}
_PACK = {"FP16": "e", "FP32": "f", "FP64": "d", "INT64": "q", "INT32": "i", "UINT8": "B",
         "BOOL": "?"}


def _kserve_tensor(draw: Any, model: str) -> tuple[Any, bytes | None]:
    name, datatype, rank = draw(st.sampled_from(_KIND_INPUTS[model]))
    datatype = draw(st.one_of(st.just(datatype), st.sampled_from([*_PACK, "BYTES"])))
    shape = draw(st.one_of(
        st.integers(1, 4).map(lambda n: [n, 1] if rank == 2 else [n, 3, 48, 48]),
        st.lists(st.integers(1, 4), min_size=rank, max_size=rank),
        st.lists(st.integers(-1, 40), max_size=rank + 1),
    ))
    size = 1
    for dim in shape:
        size *= max(dim, 0)
    size = min(size, 4096)
    count = max(0, size + draw(st.sampled_from([0, 0, 0, -1, 1, 7])))
    tensor = kpb.ModelInferRequest.InferInputTensor(name=name, datatype=datatype, shape=shape)
    raw = None
    if datatype == "BYTES":
        items = draw(st.lists(st.one_of(SENTENCE.map(str.encode), IMAGE_BYTES,
                                        st.binary(max_size=8)), min_size=count, max_size=count))
        tensor.contents.bytes_contents.extend(items)
    elif draw(st.booleans()):
        code = _PACK[datatype]
        values = draw(st.lists(FLOATS32 if code in "fde" else st.integers(0, 1) if code in "?B"
                               else st.integers(-(2**31), 2**31 - 1),
                               min_size=count, max_size=count))
        try:
            raw = struct.pack(f"<{count}{code}", *values)
        except (struct.error, OverflowError):
            raw = b"\x00" * (count * struct.calcsize(code))
        raw += draw(st.sampled_from([b"", b"", b"\x00", b"\x00\x00\x00"]))
    else:
        values = draw(st.lists(FLOATS32, min_size=count, max_size=count))
        if datatype == "FP32":
            tensor.contents.fp32_contents.extend(values)
        elif datatype == "FP64":
            tensor.contents.fp64_contents.extend(values)
        elif datatype in ("INT64",):
            tensor.contents.int64_contents.extend(int(v) if v == v and abs(v) < 2**62 else 0
                                                  for v in values)
    return tensor, raw


def _valid_infer(draw: Any, model: str) -> kpb.ModelInferRequest:
    """A request the model should answer, but for values (NaN, long text) inside it."""
    request = kpb.ModelInferRequest(model_name=model)
    if model == "co2":
        values = draw(st.lists(FLOATS32, min_size=1, max_size=40))
        tensor = request.inputs.add(name="INPUT", datatype="FP32", shape=[len(values), 1])
        tensor.contents.fp32_contents.extend(values)
        return request
    items = [SMALL_PNG] if model == "scenes" else draw(
        st.lists(SENTENCE.map(str.encode), min_size=1, max_size=4))
    tensor = request.inputs.add(name="IMAGE" if model == "scenes" else "TEXT", datatype="BYTES",
                                shape=[len(items), 1])
    tensor.contents.bytes_contents.extend(items)
    return request


@st.composite
def model_infer(draw: Any) -> kpb.ModelInferRequest:
    model = draw(st.sampled_from(list(_KIND_INPUTS)))
    if draw(st.integers(0, 2)) == 0:
        return _valid_infer(draw, model)
    request = kpb.ModelInferRequest(model_name=model,
                                    model_version=draw(st.sampled_from(["", "1", "2"])))
    raws = []
    for _ in range(draw(st.sampled_from([1, 1, 0, 2]))):
        tensor, raw = _kserve_tensor(draw, model)
        request.inputs.append(tensor)
        if raw is not None:
            raws.append(raw)
    if raws and len(raws) == len(request.inputs):
        request.raw_input_contents.extend(raws)  # raw is all-or-nothing in the protocol
    for key in draw(st.lists(st.sampled_from(["beam_size", "n_best", "top_k", "sequence_id",
                                              "sequence_start", "sequence_end"]), max_size=3)):
        value = draw(st.one_of(st.integers(1, 3), st.integers(-1, 300), st.booleans(), TEXT))
        if isinstance(value, bool):
            request.parameters[key].bool_param = value
        elif isinstance(value, int):
            request.parameters[key].int64_param = value
        else:
            request.parameters[key].string_param = value
    return request


NEAR_VALID = {
    "Translate": translate, "TranslateStream": translate, "Tag": tag, "Caption": caption,
    "ModelInfer": model_infer,
}
