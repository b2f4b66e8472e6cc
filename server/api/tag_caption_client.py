"""Deprecated: moved to seqserve.client.tag_caption_client; this path works for one more release."""

from __future__ import annotations

import warnings

from seqserve.client.tag_caption_client import main

__all__ = ["main"]

warnings.warn(
    f"{__name__} is deprecated (the client has its own package): "
    "import seqserve.client.tag_caption_client instead",
    DeprecationWarning,
    stacklevel=2,
)

if __name__ == "__main__":
    raise SystemExit(main())
