"""Raise the open-file soft limit to the hard limit at start-up.

Every gRPC connection holds a descriptor; the common default soft limit of
1,024 lets about a thousand idle sockets stop the server from accepting (a new
client's call then just times out). The hard limit is what the operator
allows; the soft limit is only a default, so the server takes all of it.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def raise_fd_limit() -> tuple[int, int] | None:
    """(before, after) soft limits, or None where the platform has no RLIMIT_NOFILE."""
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            logger.warning("cannot raise the open-file limit from %d to %d: %s", soft, target, exc)
            return soft, soft
    after = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    logger.info("open-file limit: %d (was %d, hard %s)", after, soft,
                "unlimited" if hard == resource.RLIM_INFINITY else hard)
    return soft, after
