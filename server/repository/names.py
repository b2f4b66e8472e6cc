"""Model names as clients give them -> the one plain directory name they mean.

A name is a single directory inside the repository: never a path. `./en-fr`
and `en-fr/` are aliases of `en-fr` (one model, loaded once); `..`, absolute
names, inner separators, NUL and names over the file system's 255 bytes are
refused before the file system ever sees them.
"""

from __future__ import annotations

from seqserve.server.errors import InvalidArgumentError

MAX_NAME_BYTES = 255


def plain_model_name(name: str) -> str:
    """The normalised name, or InvalidArgumentError saying what is wrong with it."""
    shown = name if len(name) <= 64 else f"{name[:48]}... ({len(name)} characters)"
    if not name:
        raise InvalidArgumentError("model name is required")
    if "\\" in name or "\x00" in name or name.startswith("/"):
        raise InvalidArgumentError(
            f"model name '{shown}' must be a plain name inside the repository "
            f"(no absolute path, backslash or NUL)"
        )
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if len(parts) != 1 or parts[0] == "..":
        raise InvalidArgumentError(
            f"model name '{shown}' must be a plain name inside the repository "
            f"(no '..' and no '/' between names)"
        )
    plain = parts[0]
    if len(plain.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidArgumentError(
            f"model name '{shown}' is longer than {MAX_NAME_BYTES} bytes"
        )
    return plain


def is_plain(name: str) -> bool:
    try:
        return plain_model_name(name) == name
    except InvalidArgumentError:
        return False
