"""The bearer-token file: one token per line, stored as a SHA-256 digest.

    # name role digest
    ci-runner infer sha256:5f2b...
    operator admin sha256:9a41...

Tokens are 32 random bytes (256 bits) made by `seqserve tokens add`, so an
unsalted SHA-256 is already infeasible to invert and lets the server find a
token with one dictionary lookup per call (a slow password hash such as
scrypt would cost milliseconds on every RPC and only helps low-entropy
secrets). The plaintext token is printed once and never stored.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROLES = ("infer", "admin")
TOKEN_PREFIX = "ssv_"
_SCHEME = "sha256:"


@dataclass(frozen=True)
class TokenEntry:
    name: str
    role: str


def digest(token: str) -> str:
    return _SCHEME + hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_tokens(text: str, source: str = "tokens file") -> dict[str, TokenEntry]:
    """digest -> entry; ValueError naming the line for anything malformed."""
    entries: dict[str, TokenEntry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 3:
            raise ValueError(f"{source}:{number}: expected 'NAME ROLE sha256:HEX'")
        name, role, hashed = fields
        if role not in ROLES:
            raise ValueError(f"{source}:{number}: role must be one of {ROLES}, got {role!r}")
        hex_part = hashed.removeprefix(_SCHEME)
        if not hashed.startswith(_SCHEME) or len(hex_part) != 64:
            raise ValueError(f"{source}:{number}: the token must be stored as sha256:<64 hex>")
        entries[hashed] = TokenEntry(name, role)
    return entries


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def add_token(path: Path, *, role: str, name: str | None = None) -> tuple[str, TokenEntry]:
    """Append a fresh token's digest to `path` (created 0600); returns the plaintext once."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    existing = parse_tokens(path.read_text(encoding="utf-8"), str(path)) if path.exists() else {}
    names = {entry.name for entry in existing.values()}
    name = name or f"token-{len(existing) + 1}"
    if name in names or not name.isprintable() or " " in name or "#" in name:
        raise ValueError(f"token name {name!r} is taken or not a single word")
    token = new_token()
    entry = TokenEntry(name, role)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(f"{name} {role} {digest(token)}\n")
    return token, entry
