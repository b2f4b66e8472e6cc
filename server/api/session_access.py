"""Sessions belong to whoever opened them.

With credentials (caller.py), a session belongs to the caller's identity: no
token is needed, and another identity is refused. Without credentials and with
`--session-tokens required` (the default), the open that creates a session returns an
unguessable session_token (192 random bits, always issued here: a token the client
sends on an open that creates the session is not taken); every later call touching the
session (PredictStep, GetSession, CloseSession, PredictMany steps, a reopen
or resume) must carry it, else PERMISSION_DENIED. The server keeps only the
token's SHA-256 (with the session and in its snapshots), so a leaked store
does not leak tokens. `--session-tokens off` (the explicit opt-out, for clients
that predate tokens) leaves anonymous sessions open to anyone who knows the id.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import grpc

from seqserve.server.api.caller import caller_identity

NO_TOKEN = "!"
"""The owner presented by a call without a token: matches no session."""


def owner_of_token(token: str) -> str:
    return "t:" + hashlib.sha256(token.encode()).hexdigest() if token else NO_TOKEN


@dataclass(frozen=True)
class OpenAccess:
    owner: str | None
    """Checked against an existing session (None: isolation off)."""
    new_owner: str | None
    """Taken by a session the open creates."""
    sent_token: str
    issued_token: str

    def token_for(self, created: bool) -> str:
        """The session_token to return: the issued one for a new session, else the one
        the client sent (it matched, or the open was refused)."""
        return self.issued_token if created else self.sent_token


class SessionAccess:
    def __init__(self, tokens_required: bool = True) -> None:
        self.tokens_required = tokens_required

    def for_open(self, context: grpc.aio.ServicerContext | None, token: str) -> OpenAccess:
        """Who opens: an existing session must already have `owner`; a session this
        open creates takes `new_owner`, whose token is always freshly issued (a token
        the client sent opens only the session it was issued for)."""
        identity = caller_identity(context)
        if identity:
            return OpenAccess("id:" + identity, "id:" + identity, "", "")
        if not self.tokens_required:
            return OpenAccess(None, None, "", "")
        # Hex, not base64url: a token starting with '-' reads as an option on a
        # command line (`--session-token -x...`), and hex needs no quoting anywhere.
        issued = secrets.token_hex(24)
        return OpenAccess(owner_of_token(token or issued), owner_of_token(issued), token, issued)

    def for_call(self, context: grpc.aio.ServicerContext | None, token: str) -> str | None:
        identity = caller_identity(context)
        if identity:
            return "id:" + identity
        return owner_of_token(token) if self.tokens_required else None
