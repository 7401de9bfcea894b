"""One notification reader per server node (issue 11 item 1: live delivery).

The append script PUBLISHes ``<head> <first> <new> <plan_id>`` on one channel
for every plan; each node holds ONE pub/sub connection to it, whatever the
number of plans and subscribers, and turns each message into the log's
``_notify(LogChange(...))``: the node's fanout wakes the sessions following
that plan, which then read by ``seq`` (a range read), so the hand-over from
replay to live needs nothing more.

Pub/sub is at-most-once, but it only loses messages while the connection is
down. So the reader catches up every time it (re)subscribes: for each plan
this node follows (the log's ``interest()``), it reads the head and the oldest
retained seq and notifies them; the sessions then read what they missed. No
periodic polling: the catch-up is driven by the reconnect. Reconnects wait
with the project's :class:`~planstream.backoff.BackoffPolicy`.

The reader's task is owned by this object: :meth:`start` creates it,
:meth:`aclose` cancels and awaits it (as ``PlanExpiry`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from planstream.backoff import BackoffPolicy
from planstream.server.background import BackgroundTask
from planstream.server.event_log import LogChange, LogUnavailableError
from planstream.server.redis_keys import parse_notification

if TYPE_CHECKING:
    from planstream.server.redis_log import RedisEventLog

# Internal to the Redis event log (redis_log.py).
__all__: list[str] = []

logger = logging.getLogger("planstream.server")


class NotificationReader:
    """Reads the append notifications of every plan for one node.

    Args:
        connect: makes the Redis client the pub/sub connection comes from.
        channel: the notification channel.
        log: the log whose ``_notify`` it calls and whose plans it catches up.
        backoff: reconnect delays.
    """

    def __init__(
        self,
        connect: Callable[[], aioredis.Redis],
        channel: str,
        log: RedisEventLog,
        backoff: BackoffPolicy,
    ) -> None:
        self._connect = connect
        self._channel = channel
        self._log = log
        self._backoff = backoff
        self._runner = BackgroundTask(self._run, "planstream-redis-reader")
        #: Set while subscribed (tests and the benchmark wait for it).
        self.subscribed = asyncio.Event()
        self.reconnects = 0

    def __repr__(self) -> str:
        return f"NotificationReader(subscribed={self.subscribed.is_set()})"

    def start(self) -> None:
        """Start reading (idempotent; never again once closed)."""
        self._runner.start()

    async def aclose(self) -> None:
        """Stop reading (idempotent)."""
        await self._runner.aclose()

    async def _run(self) -> None:
        schedule = self._backoff.schedule()
        down = False
        while True:
            client = self._connect()
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    await self._catch_up()
                    self.subscribed.set()
                    schedule.reset()
                    if down:
                        logger.warning("Redis reachable again: live delivery resumed")
                        down = False
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._deliver(str(message["data"]))
            except (RedisError, LogUnavailableError, OSError) as exc:
                self.subscribed.clear()
                if not down:
                    logger.warning(
                        "Redis notifications lost (%s); reconnecting with backoff",
                        type(exc).__name__,
                    )
                    down = True
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()
            self.reconnects += 1
            delay = schedule.next_delay()
            await asyncio.sleep(delay if delay is not None else self._backoff.max_delay)

    def _deliver(self, message: str) -> None:
        parsed = parse_notification(message)
        if parsed is None:  # not ours: someone else published on the channel
            return
        plan_id, head, first, new = parsed
        self._log._notify(LogChange(plan_id, head, first, new))

    async def _catch_up(self) -> None:
        """Tell this node's followers the heads they may have missed."""
        for plan_id in tuple(self._log.interest()):
            head = await self._log.head(plan_id)
            if head is None:
                continue
            first = await self._log.first_seq(plan_id)
            self._log._notify(LogChange(plan_id, head.seq, first or head.seq))
