"""The event log several server nodes share: Redis Streams (issue 11 item 1).

Per plan (one hash tag, so one Redis Cluster slot, see ``redis_keys``): a
stream whose entry ids are ``<seq>-0`` and hold each event's wire JSON, and a
metadata hash (``seq``, ``stream`` number, ``ended`` status, the stored
snapshot and the ``snapseq`` it folds up to).

Appending is one Lua script (``lua/append.lua``): terminal-status check (409),
gap-free seqs, ``XADD``, retention trim, ``PEXPIRE`` at the end, and a
``PUBLISH`` for live readers, atomically whatever other nodes do (protocol §6).

Snapshots: the script stores events only; the appending node then folds the
stored snapshot plus the events after it with the shared reducer and stores
the result with a compare-and-set script (newer ``snapseq`` wins), once the
stored one lags ``SNAPSHOT_EVERY`` events or the plan ended. Two nodes
appending concurrently can only race to store snapshots of different
heads, and the newer one wins. Retention never trims past ``snapseq``, so
any node can always rebuild the exact snapshot (stored + retained tail),
even if a node died between its append and its snapshot write.

Live delivery: :class:`~planstream.server.redis_reader.NotificationReader`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from typing import Any, Final

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from planstream.backoff import BackoffPolicy
from planstream.plan_state import PlanState
from planstream.schema.events import Head
from planstream.schema.frames import ResyncReason
from planstream.schema.snapshot import PlanSnapshot
from planstream.server.event_batch import EventBatch, stored_event
from planstream.server.event_log import (
    EventLog,
    IdempotencyKey,
    IdempotencyKeyReusedError,
    IdempotentReplay,
    LogUnavailableError,
    NewEvent,
    PlanClosedError,
    PlanFilter,
    PlanPage,
    ResumeAfter,
    ResyncNeeded,
    StoredEvent,
    refuse_events_after_end,
)
from planstream.server.latency import OperationLatency
from planstream.server.redis_calls import redacted_url, redis_calls
from planstream.server.redis_keys import (
    INCARNATION_KEY,
    NOTIFY_CHANNEL,
    PLAN_INDEX_KEY,
    PlanKeys,
    parse_event_id,
)
from planstream.server.redis_plan_list import plan_page
from planstream.server.redis_reader import NotificationReader

__all__ = ["RedisEventLog"]

#: The stored snapshot is folded forward once it lags this many events (and at
#: a plan's end): snapshot() folds at most these from the stream.
SNAPSHOT_EVERY: Final = 64


def _script(name: str) -> str:
    return resources.files("planstream.server").joinpath(f"lua/{name}.lua").read_text()


#: Connections to Redis per server, made as calls need them (redis-py's default
#: number); a call beyond waits for a free one, up to ``_POOL_WAIT`` s.
_POOL_CONNECTIONS: Final = 100
_POOL_WAIT: Final = 10.0


class RedisEventLog(EventLog):
    """Plan streams in Redis (or Redis Cluster), shared by every node.

    Args:
        url: ``redis://[:password@]host:port/db`` or ``rediss://`` for TLS.
        retention: events kept per plan (at least; trimming is approximate).
        plan_ttl: seconds a finished plan is kept (Redis expires it too, so
            nothing depends on the node that finished it staying up).
        cluster: the URL names a node of a Redis Cluster.
        idempotency_keys: idempotency keys kept per plan (protocol §6), the
            oldest forgotten first.
        backoff: the notification reader's reconnect delays.
    """

    def __init__(
        self,
        url: str,
        *,
        retention: int = 10_000,
        plan_ttl: float = 86_400.0,
        cluster: bool = False,
        idempotency_keys: int = 10_000,
        backoff: BackoffPolicy | None = None,
    ) -> None:
        super().__init__()
        if retention < 1 or idempotency_keys < 1:
            raise ValueError("retention and idempotency_keys must be at least 1")
        self.retention = retention
        self.idempotency_keys = idempotency_keys
        self.plan_ttl_ms = max(1, round(plan_ttl * 1000))
        self._where = redacted_url(url)
        self.latency: OperationLatency = OperationLatency()
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_connect_timeout": 2.0,
            "socket_timeout": 5.0,
        }
        # redis-py's reply types depend on decode_responses: typed as Any here,
        # and every reply is converted where it is read.
        self._client: Any
        if cluster:
            self._client = RedisCluster.from_url(url, **options)
        else:
            # A reconnect storm subscribes hundreds of clients at once: redis-py's
            # default pool fails every call past 100 in flight (MaxConnectionsError,
            # an `internal` error that fails the subscription); this one makes
            # them wait for a free connection (reliability/storm.robot).
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=_POOL_CONNECTIONS, timeout=_POOL_WAIT, **options
            )
            self._client = aioredis.Redis.from_pool(pool)
        self._append = self._client.register_script(_script("append"))
        self._store = self._client.register_script(_script("store_snapshot"))
        self._evict = self._client.register_script(_script("evict"))
        self._read_state = self._client.register_script(_script("read_state"))
        # Pub/sub on one node: PUBLISH reaches every node of a cluster.
        self.reader = NotificationReader(
            lambda: aioredis.Redis.from_url(url, **options),
            NOTIFY_CHANNEL,
            self,
            backoff or BackoffPolicy(initial_delay=0.1, max_delay=5.0),
        )
        self._incarnation: str | None = None

    def __repr__(self) -> str:
        return f"RedisEventLog({self._where!r}, retention={self.retention})"

    async def start(self) -> None:
        """Start the node's notification reader."""
        self.reader.start()

    async def close(self) -> None:
        """Stop the reader and close the connections."""
        await self.reader.aclose()
        with contextlib.suppress(RedisError):
            await self._client.aclose()

    async def incarnation(self) -> str:
        """The deployment's incarnation, created once and kept in Redis.

        Every call site of the log passes here, so it also starts the reader:
        an app mounted in a host whose lifespan never runs ours still gets
        live delivery.
        """
        self.reader.start()
        if self._incarnation is None:
            async with redis_calls(self.latency, "incarnation"):
                await self._client.set(INCARNATION_KEY, _new_incarnation(), nx=True)
                value = await self._client.get(INCARNATION_KEY)
            if value is None:  # pragma: no cover - flushed between the two calls
                raise LogUnavailableError("the Redis event log lost its incarnation")
            self._incarnation = str(value)
        return self._incarnation

    async def append(
        self,
        plan_id: str,
        events: Sequence[NewEvent],
        *,
        ts: datetime,
        idempotency: IdempotencyKey | None = None,
    ) -> list[StoredEvent]:
        """Append atomically with one script call (see the module doc).

        The idempotency key is checked and stored by the same script (protocol
        §6), so a retry through any node finds the first publish done or not.
        """
        incarnation = await self.incarnation()
        refuse_events_after_end(plan_id, events)
        batch = EventBatch.build(plan_id, events, ts)
        keys = PlanKeys.of(plan_id)
        args: list[str | int] = [
            self.retention,
            self.plan_ttl_ms,
            batch.ends,
            NOTIFY_CHANNEL,
            plan_id,
            f"{batch.head}{incarnation}.",
            idempotency.key if idempotency else "",
            idempotency.body_digest if idempotency else "",
            self.idempotency_keys,
            *batch.tails(),
        ]
        async with redis_calls(self.latency, "append"):
            reply = await self._append(keys=keys.all, args=args)
        outcome = str(reply[0])
        if outcome == "closed":
            raise PlanClosedError(
                plan_id, f"plan {plan_id!r} has ended with status {reply[1]}; its stream is closed"
            )
        if outcome == "reused":
            raise IdempotencyKeyReusedError(
                plan_id,
                f"this Idempotency-Key was already used on plan {plan_id!r} "
                "with another request body",
            )
        number, start = str(reply[1]), int(reply[2])
        if outcome == "replay":
            prefix = f"{incarnation}.{number}."
            seqs = range(start, start + int(reply[3]))
            raise IdempotentReplay(plan_id, [Head(seq=s, event_id=f"{prefix}{s}") for s in seqs])
        stored, _ = batch.stored(f"{incarnation}.{number}.", start)
        head, new_stream, snapseq = int(reply[3]), int(reply[5]), int(reply[6])
        if new_stream:
            # The index lives in another slot: a second command, not in the script.
            async with redis_calls(self.latency, "index"):
                await self._client.zadd(PLAN_INDEX_KEY, {plan_id: int(number)})
        if stored and (batch.ends or head - snapseq >= SNAPSHOT_EVERY):
            await self._store_snapshot(plan_id)
        return stored

    async def read(self, plan_id: str, after_seq: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` retained events after ``after_seq``: one XRANGE."""
        async with redis_calls(self.latency, "read"):
            entries = await self._client.xrange(
                PlanKeys.of(plan_id).stream, min=f"{after_seq + 1}-0", max="+", count=limit
            )
        return [stored_event(fields["j"]) for _, fields in entries]

    async def locate(self, plan_id: str, last_event_id: str | None) -> ResumeAfter | ResyncNeeded:
        """Resolve a resume point (protocol §3), as the memory log does."""
        incarnation = await self.incarnation()
        keys = PlanKeys.of(plan_id)
        async with redis_calls(self.latency, "locate"):
            head_text, number = await self._client.hmget(keys.meta, ["seq", "stream"])
        first = await self.first_seq(plan_id) if number is not None else None
        if last_event_id is None:
            if number is None or first in (None, 1):
                return ResumeAfter(0)
            return await self._resync(plan_id, ResyncReason.HISTORY_EXPIRED)
        position = parse_event_id(last_event_id)
        reason: ResyncReason | None = None
        if position is None:
            reason = ResyncReason.UNKNOWN_EVENT_ID
        elif position.incarnation != incarnation:
            same_shape = len(position.incarnation) == len(incarnation)
            reason = ResyncReason.STREAM_RESET if same_shape else ResyncReason.UNKNOWN_EVENT_ID
        elif number is None:
            reason = ResyncReason.UNKNOWN_EVENT_ID  # never created, or evicted (reading 19)
        elif position.stream != number:
            reason = ResyncReason.STREAM_RESET
        elif position.seq < 1 or position.seq > int(head_text):
            reason = ResyncReason.UNKNOWN_EVENT_ID
        elif first is None or position.seq < first:
            reason = ResyncReason.HISTORY_EXPIRED
        if reason is not None:
            return await self._resync(plan_id, reason)
        assert position is not None
        return ResumeAfter(position.seq)

    async def head(self, plan_id: str) -> Head | None:
        """The newest event of ``plan_id``."""
        incarnation = await self.incarnation()
        async with redis_calls(self.latency, "head"):
            seq, number = await self._client.hmget(PlanKeys.of(plan_id).meta, ["seq", "stream"])
        if number is None:
            return None
        return Head(seq=int(seq), event_id=f"{incarnation}.{number}.{seq}")

    async def snapshot(self, plan_id: str) -> PlanSnapshot | None:
        """The stored snapshot folded forward with the events after it."""
        folded = await self._fold(plan_id)
        return folded[0].snapshot() if folded is not None else None

    async def plan_page(
        self, limit: int, cursor: str | None, *, readable: PlanFilter | None = None
    ) -> PlanPage:
        """Up to ``limit`` plans in creation order after the one ``cursor`` names
        (:func:`~planstream.server.redis_plan_list.plan_page`)."""
        incarnation = await self.incarnation()
        return await plan_page(
            self._client,
            self.latency,
            incarnation,
            self.snapshot,
            self.plan_scan_limit,
            limit,
            cursor,
            readable,
        )

    async def evict(self, plan_id: str, head_event_id: str) -> bool:
        """Forget ``plan_id`` if its head is still ``head_event_id`` (one script)."""
        position = parse_event_id(head_event_id)
        if position is None or position.incarnation != await self.incarnation():
            return False
        keys = PlanKeys.of(plan_id)
        async with redis_calls(self.latency, "evict"):
            done = await self._evict(keys=keys.all, args=[position.stream, position.seq])
            if done:
                await self._client.zrem(PLAN_INDEX_KEY, plan_id)
        return bool(done)

    async def plan_count(self) -> int:
        """How many plans the index holds."""
        async with redis_calls(self.latency, "plan_count"):
            return int(await self._client.zcard(PLAN_INDEX_KEY))

    async def first_seq(self, plan_id: str) -> int | None:
        """The oldest retained seq of ``plan_id`` (stream entry ids are ``<seq>-0``)."""
        async with redis_calls(self.latency, "first_seq"):
            entries = await self._client.xrange(PlanKeys.of(plan_id).stream, count=1)
        return int(str(entries[0][0]).partition("-")[0]) if entries else None

    async def _fold(self, plan_id: str) -> tuple[PlanState, str, int] | None:
        """(state, stream number, stored snapseq) folded up to the head, None if no plan.

        One script reads the stored snapshot and every event after it at one
        instant (``lua/read_state.lua``): retention never trims past the
        stored snapshot, so the fold is exact, whatever other nodes store.
        """
        keys = PlanKeys.of(plan_id)
        async with redis_calls(self.latency, "read_state"):
            reply = await self._read_state(keys=[keys.meta, keys.stream])
        if not reply:
            return None
        number, snap, snapseq = str(reply[0]), str(reply[1]), int(reply[2])
        state = PlanState(plan_id)
        if snap:
            state = PlanState.from_snapshot(PlanSnapshot.model_validate_json(snap))
        for json in reply[3:]:
            state.apply(stored_event(str(json)).event)
        return state, number, snapseq

    async def _store_snapshot(self, plan_id: str) -> None:
        folded = await self._fold(plan_id)
        if folded is None or folded[0].head is None or folded[0].head.seq <= folded[2]:
            return
        state, number, _ = folded
        keys = PlanKeys.of(plan_id)
        assert state.head is not None
        args: list[str | int] = [
            number,
            state.head.seq,
            state.snapshot().model_dump_json(),
            self.retention,
        ]
        async with redis_calls(self.latency, "store_snapshot"):
            await self._store(keys=[keys.meta, keys.stream], args=args)

    async def _resync(self, plan_id: str, reason: ResyncReason) -> ResyncNeeded:
        snapshot = await self.snapshot(plan_id)
        return ResyncNeeded(reason, snapshot or PlanSnapshot(plan_id=plan_id))


def _new_incarnation() -> str:
    import secrets

    return secrets.token_hex(6)
