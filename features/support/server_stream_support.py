"""Helpers of the WebSocket stream features (server_stream_* / server_ws_* steps).

A :class:`StreamTap` wraps one :class:`~support.wsclient.RawClient` and reads
its frames one *item* at a time: a ``batch`` is flattened into its events, in
order, so a step can ask for "the next frame that is not a heartbeat" or "the
events of plan p up to seq n" without caring how the server grouped them.
It also records the raw UTF-8 size of every frame (frame-size limits) and
every batch's event count.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from datetime import UTC, datetime
from typing import Any

from websockets.exceptions import ConnectionClosed

from planstream.schema.events import Head
from planstream.server import MemoryEventLog, StoredEvent
from planstream.server.event_log import ResumeAfter, ResyncNeeded
from support.servers import on_cleanup, run
from support.wsclient import RawClient

#: Fields every event frame carries (protocol §3).
EVENT_FIELDS = {"type", "plan_id", "event_id", "seq", "ts", "kind", "data"}


class StreamTap:
    """Reads one raw client's frames, flattening batches into single events."""

    def __init__(self, client: RawClient, *, keep_frames: bool = True) -> None:
        self.client = client
        self.keep_frames = keep_frames
        self.pending: deque[dict[str, Any]] = deque()
        self.frames: list[dict[str, Any]] = []  # every frame, as received (if kept)
        self.frame_sizes: list[tuple[str, int, int]] = []  # (type, UTF-8 bytes, events)
        self.close_code: int | None = None
        self.closed = False

    @property
    def connection(self) -> Any:
        return self.client.connection

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        if isinstance(frame, dict):
            frame = json.dumps(frame)
        await self.client.connection.send(frame)

    async def request(self, frame: dict[str, Any]) -> str:
        """Send ``frame`` with a fresh request id; returns the id."""
        request_id = self.client.request_id()
        await self.send({**frame, "id": request_id})
        return request_id

    async def subscribe(self, plan_id: str, last_event_id: str | None) -> str:
        return await self.request(
            {"type": "subscribe", "plan_id": plan_id, "last_event_id": last_event_id}
        )

    async def _fill(self, timeout: float) -> None:
        raw = await asyncio.wait_for(self.client.connection.recv(), timeout)
        text = raw if isinstance(raw, str) else raw.decode()
        frame: dict[str, Any] = json.loads(text)
        events = len(frame["events"]) if frame.get("type") == "batch" else 0
        self.frame_sizes.append((frame.get("type", "?"), len(text.encode()), events))
        if self.keep_frames:
            self.frames.append(frame)
        if frame.get("type") == "batch":
            self.pending.extend(frame["events"])
        else:
            self.pending.append(frame)

    async def next_item(self, timeout: float = 10.0, *, heartbeats: bool = False) -> dict[str, Any]:
        """The next frame (an event of a batch counts as one); heartbeats skipped unless asked."""
        async with asyncio.timeout(timeout):
            while True:
                if not self.pending:
                    await self._fill(timeout)
                item = self.pending.popleft()
                if heartbeats or item.get("type") != "heartbeat":
                    return item

    async def next_of_type(self, frame_type: str, timeout: float = 10.0) -> dict[str, Any]:
        """Skip items until one of ``frame_type`` arrives; returns it."""
        async with asyncio.timeout(timeout):
            while True:
                item = await self.next_item(timeout, heartbeats=True)
                if item.get("type") == frame_type:
                    return item

    async def plan_events(
        self, plan_id: str, last_seq: int, timeout: float = 30.0, *, others: list[Any] | None = None
    ) -> list[dict[str, Any]]:
        """Events of ``plan_id`` until one with ``seq >= last_seq``; other items go to ``others``.

        Events of ``plan_id`` in the same batch after ``last_seq`` stay pending.
        A non-event frame (other than a heartbeat) in between fails the read
        unless ``others`` collects it.
        """
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(timeout):
            while not events or events[-1]["seq"] < last_seq:
                item = await self.next_item(timeout)
                if item.get("type") == "event" and item.get("plan_id") == plan_id:
                    events.append(item)
                elif others is not None:
                    others.append(item)
                else:
                    raise AssertionError(f"unexpected frame while reading {plan_id}: {item}")
        return events

    async def read_until_closed(self, timeout: float = 10.0) -> int | None:
        """Read everything until the server closes; returns the close code it sent."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self._fill(timeout)
        except ConnectionClosed as closed:
            self.closed = True
            self.close_code = closed.rcvd.code if closed.rcvd else None
            return self.close_code

    def drained_events(self, plan_id: str) -> list[dict[str, Any]]:
        """Events of ``plan_id`` still pending (e.g. read before a close)."""
        return [
            item
            for item in self.pending
            if item.get("type") == "event" and item.get("plan_id") == plan_id
        ]

    async def close(self) -> None:
        await self.client.close()


def taps(context: Any) -> dict[str, StreamTap]:
    """The scenario's raw clients by name."""
    if not hasattr(context, "stream_taps"):
        context.stream_taps = {}
    result: dict[str, StreamTap] = context.stream_taps
    return result


def stream_url(context: Any) -> str:
    """The WebSocket URL the scenario's raw clients connect to."""
    url = getattr(context, "stream_url", None)
    if url:
        return str(url)
    if getattr(context, "server_process", None) is not None:
        return str(context.server_process.url)
    return str(context.server.url)


async def open_tap(
    context: Any, name: str, *, url: str | None = None, keep_frames: bool = True, **kwargs: Any
) -> StreamTap:
    """Connect raw client ``name``; it is closed after the scenario."""
    client = await RawClient.open(url or stream_url(context), **kwargs)
    tap = StreamTap(client, keep_frames=keep_frames)
    taps(context)[name] = tap

    async def close() -> None:
        # A client that stopped reading (e.g. after a failed step) may never see
        # the server's close reply: abort it rather than hang the cleanup.
        try:
            await asyncio.wait_for(client.close(), 2)
        except TimeoutError:
            client.connection.transport.abort()

    on_cleanup(context, close)
    return tap


def published_id(context: Any, plan_id: str, seq: int) -> str:
    """The event id of ``seq`` as published in this scenario."""
    for published_seq, event_id in context.published[plan_id]:
        if published_seq == seq:
            return event_id
    raise AssertionError(f"seq {seq} of {plan_id} was not published in this scenario")


def assert_exact_events(
    context: Any, events: list[dict[str, Any]], plan_id: str, first: int, last: int
) -> None:
    """``events`` are exactly seq ``first..last`` of ``plan_id``, once each, in order."""
    seqs = [event["seq"] for event in events]
    expected = list(range(first, last + 1))
    if seqs != expected:
        duplicates = sorted({s for s in seqs if seqs.count(s) > 1})
        missing = sorted(set(expected) - set(seqs))
        raise AssertionError(
            f"{plan_id}: expected seq {first}..{last}, got {len(seqs)} events "
            f"(first {seqs[:5]}, last {seqs[-5:]}, duplicates {duplicates[:10]}, "
            f"missing {missing[:10]})"
        )
    ids = dict(context.published.get(plan_id, []))
    for event in events:
        assert set(event) >= EVENT_FIELDS, event
        assert event["type"] == "event", event
        assert event["plan_id"] == plan_id, event
        if event["seq"] in ids:
            assert event["event_id"] == ids[event["seq"]], (event, ids[event["seq"]])


def log_data(number: int) -> dict[str, Any]:
    """The data of the ``number``-th log event (the same as server_common_steps publishes)."""
    return {"level": "info", "message": f"line {number}", "step_id": None, "stream": "stdout"}


def publish_logs(context: Any, plan_id: str, count: int) -> list[tuple[int, str]]:
    """Publish ``count`` log events through the reference server; recorded in ``context.published``."""

    async def publish() -> list[tuple[int, str]]:
        appended = []
        for number in range(count):
            stored = await context.server.publish(plan_id, "log", log_data(number))
            appended.append((stored.seq, stored.event.event_id))
        return appended

    appended: list[tuple[int, str]] = run(context, publish(), timeout=120)
    context.published.setdefault(plan_id, []).extend(appended)
    return appended


class SuspendingLog(MemoryEventLog):
    """A memory log that answers like a networked one (e.g. Redis Streams).

    Each read-side call computes its answer, then yields to the event loop
    before returning it (the reply's trip back), so appends interleave with
    a subscriber's locate/head/read exactly where a real async log lets them.
    """

    async def locate(self, plan_id: str, last_event_id: str | None) -> ResumeAfter | ResyncNeeded:
        answer = await super().locate(plan_id, last_event_id)
        await asyncio.sleep(0)
        return answer

    async def head(self, plan_id: str) -> Head | None:
        answer = await super().head(plan_id)
        await asyncio.sleep(0)
        return answer

    async def read(self, plan_id: str, after_seq: int, limit: int) -> list[StoredEvent]:
        answer = await super().read(plan_id, after_seq, limit)
        await asyncio.sleep(0)
        return answer


def named_tap(context: Any, name: str) -> StreamTap:
    return taps(context)[name]


def tap_requests(tap: StreamTap) -> dict[str, Any]:
    if not hasattr(tap, "requests"):
        tap.requests = {}  # type: ignore[attr-defined]
    result: dict[str, Any] = tap.requests  # type: ignore[attr-defined]
    return result


def parse_utc(ts: str) -> datetime:
    parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    offset = parsed.utcoffset()
    assert offset is not None, ts
    assert offset.total_seconds() == 0, ts
    return parsed.astimezone(UTC)


def next_frame(context: Any, name: str) -> dict[str, Any]:
    item: dict[str, Any] = run(context, named_tap(context, name).next_item())
    return item
