"""The one registry of model kinds. Adding a kind: its module beside this one
(a KindSpec naming its config schema, engine, handle, KServe adapter, details
builder and CLI entries) plus one line in _SPECS."""

from __future__ import annotations

from typing import Any

from seqserve.server.errors import NotFoundError
from seqserve.server.kinds.captioner import CAPTIONER
from seqserve.server.kinds.seq2seq import SEQ2SEQ
from seqserve.server.kinds.spec import KindSpec
from seqserve.server.kinds.streaming import STREAMING
from seqserve.server.kinds.tagger import TAGGER

_SPECS: tuple[KindSpec[Any], ...] = (SEQ2SEQ, TAGGER, CAPTIONER, STREAMING)

KINDS: dict[str, KindSpec[Any]] = {spec.name: spec for spec in _SPECS}
"""Kind name -> its spec, in registry order."""

_NAMES: dict[str, str] = {
    **{alias: spec.name for spec in _SPECS for alias in spec.aliases},
    **{spec.name: spec.name for spec in _SPECS},
}

DEFAULT_KIND = SEQ2SEQ.name
"""The kind of a config.yaml without a `kind` key."""


def canonical(name: str) -> str | None:
    """A kind name or one of its aliases -> the kind's one name (None: unknown)."""
    return _NAMES.get(name)


def spec_of(name: str) -> KindSpec[Any]:
    """The spec of a kind (or alias); NotFoundError names the known kinds."""
    canonical_name = canonical(name)
    if canonical_name is None:
        raise NotFoundError(f"unknown model kind {name!r} (known: {sorted(KINDS)})")
    return KINDS[canonical_name]


def subcommands(entry: str) -> dict[str, str]:
    """Kinds with their own `seqserve train|export <kind>` form -> its dotted main."""
    return {
        spec.name: getattr(spec, entry) for spec in _SPECS if getattr(spec, entry) is not None
    }
