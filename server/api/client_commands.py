"""Deprecated: moved to seqserve.client.commands; this path works for one more release."""

from __future__ import annotations

import warnings

from seqserve.client.commands import COMMANDS, run

__all__ = ["COMMANDS", "run"]

warnings.warn(
    f"{__name__} is deprecated (the client has its own package): "
    "import seqserve.client.commands instead",
    DeprecationWarning,
    stacklevel=2,
)
