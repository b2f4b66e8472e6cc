"""Text-valued decoding options (target prefix, suppressed sequences) -> token ids.

The options object carries texts; only the model knows its tokenizer, so each
model calls `with_tokens` once per request, before the job is queued. Every
rule here is an INVALID_ARGUMENT that names its limit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from seqserve.server.engine.options import ResolvedOptions
from seqserve.server.errors import InvalidArgumentError

Encode = Callable[[str], list[int]]


def with_tokens(
    options: ResolvedOptions,
    sentences: int,
    encode: Encode,
    *,
    max_prefix_tokens: int,
    vocab_size: int,
    eos_id: int,
    has_attention: bool,
) -> ResolvedOptions:
    """Tokenize the prefix and suppressed texts and check what needs the vocabulary."""
    if options.sampling_topk > vocab_size:
        raise InvalidArgumentError(
            f"sampling_topk must be in [0, vocab_size={vocab_size}], got {options.sampling_topk}"
        )
    if options.return_attention and not has_attention:
        raise InvalidArgumentError(
            "return_attention: this model's decoder graph has no attention output"
        )
    prefixes = options.prefix_texts
    if len(prefixes) not in (0, 1, sentences):
        raise InvalidArgumentError(
            f"target_prefix has {len(prefixes)} entries: send none, one for every "
            f"sentence, or one per sentence ({sentences})"
        )
    prefix_tokens = []
    for index, text in enumerate(prefixes):
        ids = tuple(encode(text)) if text.strip() else ()
        if len(ids) > max_prefix_tokens:
            raise InvalidArgumentError(
                f"target_prefix[{index}] has {len(ids)} tokens, over "
                f"max_prefix_tokens={max_prefix_tokens}"
            )
        if len(ids) > options.max_length:
            raise InvalidArgumentError(
                f"target_prefix[{index}] has {len(ids)} tokens, over "
                f"max_length={options.max_length}"
            )
        prefix_tokens.append(ids)
    suppress = []
    for index, text in enumerate(options.suppress_texts):
        ids = tuple(encode(text))
        if not ids or eos_id in ids:
            raise InvalidArgumentError(f"suppress_sequences[{index}] tokenizes to nothing")
        suppress.append(ids)
    if not any(prefix_tokens):
        prefix_tokens = []
    return dataclasses.replace(
        options, prefix_tokens=tuple(prefix_tokens), suppress_tokens=tuple(suppress)
    )


def attention_lists(attention: list[np.ndarray] | None) -> list[list[float]] | None:
    """Engine attention rows -> plain lists for the result objects."""
    if attention is None:
        return None
    return [row.astype(float).tolist() for row in attention]
