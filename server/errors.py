"""The one exception hierarchy below api/; api/ maps each class to a gRPC status.

Raise the most specific class with a message a client can act on (name the
limit, the field, the value). Anything else escaping to api/ is a real bug and
becomes INTERNAL.
"""

from __future__ import annotations


class SeqServeError(Exception):
    """Base of every error a client is meant to see."""


class NotFoundError(SeqServeError):
    """Unknown model, version or session (gRPC NOT_FOUND)."""


class InvalidArgumentError(SeqServeError):
    """The request itself is wrong (gRPC INVALID_ARGUMENT)."""


class WrongKindError(InvalidArgumentError):
    """The named model is of another kind than the RPC serves (INVALID_ARGUMENT: the
    client must name another model; retrying the same request never helps)."""


class FailedPreconditionError(SeqServeError):
    """The request is valid but the target's state forbids it (FAILED_PRECONDITION)."""


class ResourceExhaustedError(SeqServeError):
    """A bounded queue or table is full (gRPC RESOURCE_EXHAUSTED); retry later."""


class UnavailableError(SeqServeError):
    """Model not loaded, loading, or the server is draining (gRPC UNAVAILABLE)."""


class DeadlineExceededError(SeqServeError):
    """The request's deadline passed before it finished (DEADLINE_EXCEEDED)."""


class CancelledError(SeqServeError):
    """The client went away; its work was removed (gRPC CANCELLED)."""


class UnauthenticatedError(SeqServeError):
    """No or bad credentials (gRPC UNAUTHENTICATED)."""


class PermissionDeniedError(SeqServeError):
    """Credentials valid but not allowed (gRPC PERMISSION_DENIED)."""


class OutOfRangeError(SeqServeError):
    """A position past what the server holds, e.g. outputs no longer kept (OUT_OF_RANGE)."""


class DrainingError(UnavailableError):
    """The server is shutting down: the client retries elsewhere or after the restart."""


DRAINING_MESSAGE = (
    "the server is shutting down and saved this session: reopen it (the same session_id, "
    "resume_from = the position of the last response you received) on another replica or "
    "after the restart"
)
