"""Sessions belong to whoever opened them.

With credentials (caller.py), a session belongs to the caller's identity: no
token is needed, and another identity is refused. Without credentials and with
`--session-tokens required` (the default), the open that creates a session returns an
unguessable session_token (192 random bits); every later call touching the
session (PredictStep, GetSession, CloseSession, PredictMany steps, a reopen
or resume) must carry it, else PERMISSION_DENIED. The server keeps only the
token's SHA-256 (with the session and in its snapshots), so a leaked store
does not leak tokens. `--session-tokens off` (the explicit opt-out, for clients
that predate tokens) leaves anonymous sessions open to anyone who knows the id.
"""

from __future__ import annotations

import hashlib
import secrets

import grpc

from seqserve.server.api.caller import caller_identity

NO_TOKEN = "!"
"""The owner presented by a call without a token: matches no session."""


def owner_of_token(token: str) -> str:
    return "t:" + hashlib.sha256(token.encode()).hexdigest() if token else NO_TOKEN


class SessionAccess:
    def __init__(self, tokens_required: bool = True) -> None:
        self.tokens_required = tokens_required

    def for_open(
        self, context: grpc.aio.ServicerContext | None, token: str
    ) -> tuple[str | None, str]:
        """(owner the engine checks or records, token to return). A new session takes
        the owner; an existing one must already have it."""
        identity = caller_identity(context)
        if identity:
            return "id:" + identity, ""
        if not self.tokens_required:
            return None, ""
        # Hex, not base64url: a token starting with '-' reads as an option on a
        # command line (`--session-token -x...`), and hex needs no quoting anywhere.
        token = token or secrets.token_hex(24)
        return owner_of_token(token), token

    def for_call(self, context: grpc.aio.ServicerContext | None, token: str) -> str | None:
        identity = caller_identity(context)
        if identity:
            return "id:" + identity
        return owner_of_token(token) if self.tokens_required else None
