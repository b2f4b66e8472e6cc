"""Session snapshots and ownership leases in Redis, shared by every replica.

Keys (one model's sessions; `{m}` model name, `{s}` session id):

    seqserve:snap:{m}:{s}   hash  v (version) p (position) s (state bytes) t (token)
                                  o (recent outputs, for replay) w (owner, for isolation)
    seqserve:lease:{m}:{s}  str   "<owner>|<token>", expires after lease_seconds
    seqserve:fencing        int   INCR'd once per acquired lease: the fencing token

A replica writes a session only while its lease value is still the one it was
given: every write is a Lua script that compares the lease first, so a replica
that was paused or cut off past its lease (and lost the session to another)
has its writes refused instead of interleaving with the new owner's. State and
position are one hash written by one HSET: a reader never sees one without
the other. A tick's snapshots (and the lease renewals they imply) are one
EVALSHA: one round trip per tick, never one per session.

Leases of live sessions are renewed by a background thread in one script call
per period; snapshots expire `ttl_seconds` after the last write or renewal.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from seqserve.server.engine.sessions.store import Snapshot
from seqserve.server.errors import FailedPreconditionError, UnavailableError

log = logging.getLogger(__name__)

FENCING_KEY = "seqserve:fencing"

# KEYS: lease, fencing. ARGV: owner, lease_ms.
# -> {1, token} acquired (or already ours), {0, holder, pttl} held by another.
_ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held then
  local bar = string.find(held, '|', 1, true)
  if string.sub(held, 1, bar - 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(string.sub(held, bar + 1))}
  end
  return {0, held, redis.call('PTTL', KEYS[1])}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return {1, token}
"""

# KEYS: lease_1, snap_1, lease_2, snap_2, ...
# ARGV: lease_ms, ttl_ms, then per session: lease value, version, position, state,
# outputs, owner.
# Writes the snapshots whose lease is still ours (renewing it); -> 1-based indexes refused.
_SAVE_MANY = """
local refused = {}
for i = 1, #KEYS / 2 do
  local lease, snap, a = KEYS[2 * i - 1], KEYS[2 * i], 2 + 6 * (i - 1)
  if redis.call('GET', lease) == ARGV[a + 1] then
    redis.call('HSET', snap, 'v', ARGV[a + 2], 'p', ARGV[a + 3], 's', ARGV[a + 4],
               'o', ARGV[a + 5], 'w', ARGV[a + 6],
               't', string.sub(ARGV[a + 1], string.find(ARGV[a + 1], '|', 1, true) + 1))
    redis.call('PEXPIRE', snap, ARGV[2])
    redis.call('PEXPIRE', lease, ARGV[1])
  else
    refused[#refused + 1] = i
  end
end
return refused
"""

# KEYS: lease_1, snap_1, ... ARGV: lease_ms, ttl_ms, lease value per session.
# Extends the leases still ours (and their snapshots' TTL); -> 1-based indexes lost.
_RENEW = """
local lost = {}
for i = 1, #KEYS / 2 do
  if redis.call('GET', KEYS[2 * i - 1]) == ARGV[2 + i] then
    redis.call('PEXPIRE', KEYS[2 * i - 1], ARGV[1])
    redis.call('PEXPIRE', KEYS[2 * i], ARGV[2])
  else
    lost[#lost + 1] = i
  end
end
return lost
"""

# KEYS: lease_1, snap_1, ... ARGV: flag (1 = also delete the snapshot), lease value each.
# Deletes the leases still ours (and with the flag their snapshots); -> count released.
_RELEASE = """
local released = 0
for i = 1, #KEYS / 2 do
  if redis.call('GET', KEYS[2 * i - 1]) == ARGV[1 + i] then
    redis.call('DEL', KEYS[2 * i - 1])
    if ARGV[1] == '1' then redis.call('DEL', KEYS[2 * i]) end
    released = released + 1
  end
end
return released
"""

_OUR_PARAMS = ("lease_seconds", "ttl_seconds")


class SessionOwnedElsewhereError(FailedPreconditionError):
    """Another replica holds the session's lease (or took it from us)."""


def split_url(url: str) -> tuple[str, dict[str, float]]:
    """redis://host:port/db?lease_seconds=2 -> (url without our params, our params)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    ours = {k: float(v) for k, v in query if k in _OUR_PARAMS}
    rest = urlencode([(k, v) for k, v in query if k not in _OUR_PARAMS])
    return urlunsplit(parts._replace(query=rest)), ours


def redacted(url: str) -> str:
    """The URL for messages: no password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc, query=""))


class RedisSessionStore:
    durable = True

    def __init__(
        self, url: str, *, lease_seconds: float = 10.0, ttl_seconds: float = 600.0,
        owner: str | None = None, client: redis.Redis | None = None,
    ) -> None:
        self.url = redacted(url)
        self.lease_ms = max(1, int(lease_seconds * 1000))
        self.ttl_ms = max(self.lease_ms, int(ttl_seconds * 1000))
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # Short timeouts: an unreachable Redis must fail a call within seconds
        # (UNAVAILABLE to the client), never hang a tick or an OpenSession.
        self.redis = client or redis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=1.0, health_check_interval=5,
        )
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._save = self.redis.register_script(_SAVE_MANY)
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)
        self._owned: dict[tuple[str, str], str] = {}
        """(model, session id) -> our lease value "<owner>|<token>"."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.round_trips = 0
        """Redis calls made (tests count them: one per tick, not one per session)."""
        self._renewer = threading.Thread(target=self._renew_loop, name="lease-renewer",
                                         daemon=True)
        self._renewer.start()

    # ---- keys ------------------------------------------------------------------
    @staticmethod
    def snap_key(model: str, session_id: str) -> str:
        return f"seqserve:snap:{model}:{session_id}"

    @staticmethod
    def lease_key(model: str, session_id: str) -> str:
        return f"seqserve:lease:{model}:{session_id}"

    def _call(self, what: str, fn: Callable[[], object]) -> object:
        self.round_trips += 1
        try:
            return fn()
        except redis.RedisError as exc:
            raise UnavailableError(
                f"session store {self.url} is unavailable ({what}: {exc}); retry later"
            ) from exc

    # ---- ownership ---------------------------------------------------------------
    def claim(self, model: str, session_id: str) -> int:
        """Take (or keep) the session's lease; returns the fencing token."""
        reply = self._call("claim", lambda: self._acquire(
            keys=[self.lease_key(model, session_id), FENCING_KEY],
            args=[self.owner, self.lease_ms]))
        assert isinstance(reply, list)
        if int(reply[0]) != 1:
            holder = reply[1].decode() if isinstance(reply[1], bytes) else str(reply[1])
            owner, _, token = holder.partition("|")
            raise SessionOwnedElsewhereError(
                f"session '{session_id}' of model '{model}' is live on another replica "
                f"(owner {owner}, fencing token {token}, lease expires in "
                f"{max(0, int(reply[2])) / 1000:.1f}s); send it to its owner or retry "
                "after the lease expires"
            )
        token = int(reply[1])
        with self._lock:
            self._owned[(model, session_id)] = f"{self.owner}|{token}"
        return token

    def owns(self, model: str, session_id: str) -> bool:
        with self._lock:
            return (model, session_id) in self._owned

    def release(self, model: str, session_ids: Iterable[str]) -> None:
        """Give up these sessions' leases (they left memory; their snapshots stay)."""
        self._release_owned([(model, sid) for sid in session_ids], delete=False)

    def _release_owned(self, keys: list[tuple[str, str]], *, delete: bool) -> int:
        with self._lock:
            values = [(key, self._owned.pop(key)) for key in keys if key in self._owned]
        if not values:
            return 0
        redis_keys: list[str] = []
        for (model, sid), _ in values:
            redis_keys += [self.lease_key(model, sid), self.snap_key(model, sid)]
        reply = self._call("release", lambda: self._release(
            keys=redis_keys, args=["1" if delete else "0", *[v for _, v in values]]))
        return int(reply)  # type: ignore[arg-type]

    # ---- SessionStore ------------------------------------------------------------
    def save_many(self, snapshots: list[Snapshot]) -> list[Snapshot]:
        """Write a tick's snapshots in one script call; returns the ones refused
        because their lease is no longer ours (fenced off)."""
        if not snapshots:
            return []
        keys: list[str] = []
        args: list[object] = [self.lease_ms, self.ttl_ms]
        with self._lock:
            values = [self._owned.get((s.model, s.session_id), "") for s in snapshots]
        for snap, value in zip(snapshots, values, strict=True):
            keys += [self.lease_key(snap.model, snap.session_id),
                     self.snap_key(snap.model, snap.session_id)]
            args += [value, snap.version, snap.position, snap.state, snap.outputs, snap.owner]
        reply = self._call("save", lambda: self._save(keys=keys, args=args))
        refused = [snapshots[int(i) - 1] for i in reply]  # type: ignore[union-attr]
        if refused:
            with self._lock:
                for snap in refused:
                    self._owned.pop((snap.model, snap.session_id), None)
            log.warning("session store refused %d stale snapshot(s) (lease lost): %s",
                        len(refused), ", ".join(s.session_id for s in refused[:5]))
        return refused

    def load(self, model: str, session_id: str) -> Snapshot | None:
        fields = self._call("load", lambda: self.redis.hmget(
            self.snap_key(model, session_id), ["v", "p", "s", "o", "w"]))
        version, position, state, outputs, owner = fields  # type: ignore[misc]
        if version is None or position is None or state is None:
            return None
        return Snapshot(
            model, session_id, int(version), int(position), bytes(state),
            bytes(outputs or b""), bytes(owner or b"").decode("utf-8", "replace"),
        )

    def delete(self, model: str, session_id: str) -> None:
        """CloseSession: the snapshot and the lease go, if the lease is still ours."""
        self._release_owned([(model, session_id)], delete=True)

    def close(self) -> None:
        """Hand-off: release every lease still held (after the drain's snapshots were
        written), so another replica takes the sessions over at once."""
        self._stop.set()
        with self._lock:
            keys = list(self._owned)
        try:
            released = self._release_owned(keys, delete=False)
            if released:
                log.info("released %d session lease(s) to other replicas", released)
        except UnavailableError:
            log.warning("could not release %d session lease(s); they expire in %.1fs",
                        len(keys), self.lease_ms / 1000)
        self._renewer.join(timeout=2)
        self.redis.close()

    # ---- renewal -----------------------------------------------------------------
    def renew(self) -> None:
        """Extend every lease we hold, in one call; forget the ones found taken (their
        sessions' next snapshot is refused, which ends them on this replica)."""
        with self._lock:
            owned = list(self._owned.items())
        if not owned:
            return
        keys: list[str] = []
        for (model, sid), _ in owned:
            keys += [self.lease_key(model, sid), self.snap_key(model, sid)]
        reply = self._call("renew", lambda: self._renew(
            keys=keys, args=[self.lease_ms, self.ttl_ms, *[v for _, v in owned]]))
        gone = [owned[int(i) - 1] for i in reply]  # type: ignore[union-attr]
        if gone:
            with self._lock:
                for key, value in gone:
                    if self._owned.get(key) == value:
                        del self._owned[key]
            log.warning("lost %d session lease(s) (expired or taken over)", len(gone))

    def _renew_loop(self) -> None:
        period = self.lease_ms / 3000
        while not self._stop.wait(period):
            try:
                self.renew()
            except UnavailableError as exc:
                log.warning("%s", exc)
