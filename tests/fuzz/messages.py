"""Hypothesis strategies for any protobuf request of both services, from its descriptor.

Every field gets random and boundary values of its type; fields whose name
says what they hold (model, datatype, input name, session id, images) draw
from the values the server knows as well as from garbage, so the fuzzer
reaches past the first validation layer into the kinds' own checks.
"""

from __future__ import annotations

import io
import math
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import strategies as st

MODELS = ["numbers", "numbers-b", "pos", "co2", "scenes"]
INPUT_NAMES = ["TEXT", "TOKENS", "IMAGE", "PIXELS", "INPUT", "VALUES"]
DATATYPES = ["BYTES", "FP16", "FP32", "FP64", "INT64", "INT32", "INT8", "UINT8", "BOOL",
             "BF16", "UINT64"]
PARAMETER_NAMES = ["beam_size", "n_best", "length_penalty", "max_length", "min_length",
                   "return_scores", "top_k", "session_id", "sequence_id", "sequence_start",
                   "sequence_end", "keep"]

# Unicode text that protobuf can carry (no lone surrogates), biased to edge cases.
TEXT = st.one_of(
    st.just(""), st.text(max_size=12),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["twelve", "Bu kitap güzel .", " ", "\x00", "\u202e", "a" * 300]),
    st.integers(1, 4).map(lambda k: "x" * (10 ** k)),
)
IDENTIFIER = st.one_of(st.sampled_from(MODELS), TEXT)

INT64_EDGES = [0, 1, -1, 2, 3, 6, 7, 64, 255, 256, 4096, 2**31 - 1, 2**31, -(2**31),
               2**63 - 1, -(2**63)]
UINT64_EDGES = [0, 1, 2, 3, 6, 7, 64, 255, 256, 4096, 2**31, 2**32 - 1, 2**63, 2**64 - 1]


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


SMALL_PNG = _png(8, 8)
IMAGE_BYTES = st.one_of(
    st.binary(max_size=64), st.just(SMALL_PNG), st.just(SMALL_PNG[:20]),
    st.just(SMALL_PNG[:-12]), st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
    st.just(b"\xff\xd8\xff\xe0" + b"\x00" * 30),
)


def _ints(bits: int, signed: bool) -> st.SearchStrategy[int]:
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    edges = [v for v in (INT64_EDGES if signed else UINT64_EDGES) if low <= v <= high]
    return st.one_of(st.sampled_from(edges), st.integers(low, high), st.integers(-3, 10)
                     .filter(lambda v: low <= v <= high))


FLOATS = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, math.nan, math.inf, -math.inf,
                                    1e308, -1e308, 1e-45, 3.4e38]),
                   st.floats(allow_nan=True, allow_infinity=True), st.floats(-10, 10))
FLOATS32 = st.one_of(st.sampled_from([0.0, 1.0, -1.0, math.nan, math.inf, -math.inf, 3.4e38,
                                      1e-45]), st.floats(width=32), st.floats(-10, 10, width=32))


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    name = field.name
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        if name in ("model", "model_name", "name") and field.containing_type.name not in (
                "InferInputTensor", "InferRequestedOutputTensor"):
            return IDENTIFIER
        if name == "name":
            return st.one_of(st.sampled_from(INPUT_NAMES), TEXT)
        if name == "datatype":
            return st.one_of(st.sampled_from(DATATYPES), TEXT)
        if name == "version":
            return st.one_of(st.sampled_from(["", "1", "2", "0", "-1", "99999999999999999999",
                                              "x"]), TEXT)
        if name == "session_id":
            return st.one_of(st.just(""), st.sampled_from(["s1", "a" * 128, "a" * 129, "bad id",
                                                           "x" * 100_000]), TEXT)
        if name == "string_param":
            return st.one_of(st.sampled_from(["", "true", "start", "s1"]), TEXT)
        return TEXT
    if kind == FieldDescriptor.TYPE_BYTES:
        if name in ("encoded",) or name.endswith("contents"):
            return IMAGE_BYTES
        return st.binary(max_size=64)
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return FLOATS
    if kind == FieldDescriptor.TYPE_FLOAT:
        return FLOATS32
    if kind == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values])
    signed = kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64,
                      FieldDescriptor.TYPE_SFIXED64, FieldDescriptor.TYPE_INT32,
                      FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32)
    bits = 64 if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64,
                          FieldDescriptor.TYPE_SFIXED64, FieldDescriptor.TYPE_UINT64,
                          FieldDescriptor.TYPE_FIXED64) else 32
    return _ints(bits, signed)


def _repeated_size(field: FieldDescriptor) -> int:
    return 6 if field.type == FieldDescriptor.TYPE_MESSAGE else 8


def _field(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.GetOptions().map_entry:
            key = field.message_type.fields_by_name["key"]
            value = field.message_type.fields_by_name["value"]
            keys = st.one_of(st.sampled_from(PARAMETER_NAMES), TEXT) if key.type == \
                FieldDescriptor.TYPE_STRING else _scalar(key)
            return st.dictionaries(keys, _field(value, depth + 1), max_size=4)
        element = message_dicts(field.message_type, depth + 1)
    else:
        element = _scalar(field)
    if field.is_repeated:
        if field.name == "shape":
            small = st.integers(-2, 5) if field.type == FieldDescriptor.TYPE_INT64 else \
                st.integers(0, 5)
            return st.one_of(st.lists(element, max_size=4), st.lists(small, max_size=4))
        return st.lists(element, max_size=_repeated_size(field))
    return element


def message_dicts(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts of field values for `descriptor`; at most one member of each oneof."""
    if depth > 4:
        return st.just({})
    plain = [f for f in descriptor.fields if f.containing_oneof is None]
    parts: dict[str, st.SearchStrategy[Any]] = {
        f.name: _field(f, depth) for f in plain
    }
    oneofs = [
        st.one_of(st.just({}), *[_field(f, depth).map(lambda v, n=f.name: {n: v})
                                 for f in oneof.fields])
        for oneof in descriptor.oneofs
    ]
    optional = st.fixed_dictionaries({}, optional=parts)
    return st.tuples(optional, *oneofs).map(
        lambda parts_: {k: v for part in parts_ for k, v in part.items()}
    )


def build(message_class: type, values: dict[str, Any]) -> Any:
    message = message_class()
    _fill(message, values)
    return message


def _fill(message: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                value_field = field.message_type.fields_by_name["value"]
                for key, item in value.items():
                    if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                        _fill(target[key], item)
                    else:
                        target[key] = item
            elif field.is_repeated:
                for item in value:
                    _fill(target.add(), item)
            else:
                target.SetInParent()
                _fill(target, value)
        elif field.is_repeated:
            target.extend(value)
        else:
            setattr(message, name, value)


def messages(message_class: type) -> st.SearchStrategy[Any]:
    return message_dicts(message_class.DESCRIPTOR).map(lambda v: build(message_class, v))
