"""Which graph forms a Seq2Seq module is exported in, decided in one place.

SEQSERVE_EXPORT_STEP picks the decoder-step form for modules whose decode_step
is models/seq2seq.Seq2Seq's own (fused_step.supports_fused_step); every other
module always gets the generic wrappers:

- "request" (default): per-request attention over keyed memory
  (request_attention_step.py); its encoder graph serves memory' = [memory | keys],
  so the encoder, the step and both parity checks must agree, and they all ask
  `keyed_memory` here. The legacy exporter cannot keep its padded width symbolic,
  so a legacy step of this form is the generic gather step over memory'.
- "fused": MatMul + gates LSTM (fused_step.py), plain memory.
- "generic": the module's own encode / decode_step behind a memory gather.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from seqserve.export.contract import Seq2SeqModule
from seqserve.export.fused_step import FusedDecoderStepGraph, supports_fused_step
from seqserve.export.request_attention_step import (
    KeyedEncoderGraph,
    KeyedGenericStepGraph,
    RequestAttentionStepGraph,
    with_keys,
)
from seqserve.export.wrappers import DecoderStepGraph, EncoderGraph

STEP_FORM_ENV = "SEQSERVE_EXPORT_STEP"
STEP_FORMS = ("request", "fused", "generic")
DEFAULT_STEP_FORM = "request"


def step_form(module: Seq2SeqModule) -> str:
    form = os.environ.get(STEP_FORM_ENV, DEFAULT_STEP_FORM)
    if form not in STEP_FORMS:
        raise ValueError(f"{STEP_FORM_ENV}={form!r}: expected one of {', '.join(STEP_FORMS)}")
    return form if supports_fused_step(module) else "generic"


def keyed_memory(module: Seq2SeqModule) -> bool:
    """True when the served memory carries the attention keys (memory' = [memory | keys])."""
    return step_form(module) == "request"


def encoder_graph(module: Seq2SeqModule) -> nn.Module:
    return KeyedEncoderGraph(module) if keyed_memory(module) else EncoderGraph(module)


def decoder_step_graph(module: Seq2SeqModule, *, k_as_item: bool) -> nn.Module:
    """`k_as_item` is True for the dynamo exporter (see wrappers.DecoderStepGraph)."""
    form = step_form(module)
    if form == "request":
        if k_as_item:
            return RequestAttentionStepGraph(module)  # type: ignore[arg-type]
        return KeyedGenericStepGraph(module, k_as_item=False)  # type: ignore[arg-type]
    if form == "fused":
        return FusedDecoderStepGraph(module, k_as_item=k_as_item)  # type: ignore[arg-type]
    return DecoderStepGraph(module, k_as_item=k_as_item)


def served_memory(module: Seq2SeqModule, memory: torch.Tensor) -> torch.Tensor:
    """The module's memory [R, S, M] as the served graphs carry it (torch tensor)."""
    if keyed_memory(module):
        return with_keys(module.attention.proj, memory)  # type: ignore[attr-defined]
    return memory
