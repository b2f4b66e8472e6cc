"""Model kinds: one spec per kind (spec.py), one module per kind, one registry."""

from seqserve.server.kinds.captioner import CAPTIONER, CaptionerHandle
from seqserve.server.kinds.registry import DEFAULT_KIND, KINDS, canonical, spec_of, subcommands
from seqserve.server.kinds.seq2seq import SEQ2SEQ, Seq2SeqHandle
from seqserve.server.kinds.spec import KindSpec, resolve
from seqserve.server.kinds.streaming import STREAMING, StreamingHandle
from seqserve.server.kinds.tagger import TAGGER, TaggerHandle

__all__ = [
    "CAPTIONER", "DEFAULT_KIND", "KINDS", "SEQ2SEQ", "STREAMING", "TAGGER",
    "CaptionerHandle", "KindSpec", "Seq2SeqHandle", "StreamingHandle", "TaggerHandle",
    "canonical", "resolve", "spec_of", "subcommands",
]
