"""Steps of the replay-to-live hand-over race (server_handover.feature).

A publisher task and many raw clients share the scenario's event loop: each
client waits until the publisher has appended a given number of events, then
subscribes (from the start, from an old event, or from the newest event at
that moment) and reads until the last event of the flood. How often the
publisher yields to the loop is the scenario's pattern.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from dataclasses import dataclass, field
from typing import Any

from behave import then, use_step_matcher, when
from support.server_stream_support import (
    StreamTap,
    assert_exact_events,
    log_data,
    open_tap,
    taps,
)
from support.servers import run

from planstream.server.event_log import NewEvent
from planstream.server.publishing import validate_new_event

use_step_matcher("parse")


def _log(data: dict[str, Any]) -> NewEvent:
    return validate_new_event("log", data, allow_unknown_kinds=False)


@dataclass
class _FloodClient:
    name: str
    resume: str  # "start", "newest", "seq N" or "random"
    threshold: int  # flood events published before it subscribes
    tap: StreamTap | None = None
    after: int = 0  # the seq it resumed after
    events: list[dict[str, Any]] = field(default_factory=list)


class _Publisher:
    """Appends the flood, waking clients as their thresholds are reached."""

    def __init__(self, context: Any, plan_id: str, count: int, pattern: str, seed: int) -> None:
        self.server = context.server
        self.plan_id = plan_id
        self.count = count
        self.published: list[tuple[int, str]] = context.published.setdefault(plan_id, [])
        self.done = 0
        self.waiters: list[tuple[int, asyncio.Event]] = []
        self.rng = random.Random(seed)
        every = re.fullmatch(r"yielding after every (\d+ )?events?", pattern)
        chunk = re.fullmatch(r"appending (\d+) events at a time", pattern)
        if every:
            self.run_length = lambda: int(every.group(1) or 1)
            self.chunk = 1
        elif chunk:
            self.run_length = lambda: 1
            self.chunk = int(chunk.group(1))
        elif pattern == "yielding after random runs":
            self.run_length = lambda: self.rng.randint(1, 40)
            self.chunk = 1
        else:
            raise ValueError(f"unknown publishing pattern {pattern!r}")

    async def reached(self, threshold: int) -> None:
        if self.done >= threshold:
            return
        event = asyncio.Event()
        self.waiters.append((threshold, event))
        await event.wait()

    def _wake(self) -> None:
        for waiter in [w for w in self.waiters if w[0] <= self.done]:
            self.waiters.remove(waiter)
            waiter[1].set()

    async def run(self) -> None:
        state = self.server.state
        until_yield = self.run_length()
        while self.done < self.count:
            size = min(self.chunk, self.count - self.done)
            new = [_log(log_data(self.done + i)) for i in range(size)]
            stored = await state.append(self.plan_id, new)
            self.published.extend((s.seq, s.event.event_id) for s in stored)
            self.done += size
            self._wake()
            until_yield -= 1
            if until_yield <= 0:
                await asyncio.sleep(0)
                until_yield = self.run_length()


async def _client(context: Any, publisher: _Publisher, client: _FloodClient, last: int) -> None:
    assert client.tap is not None
    await publisher.reached(client.threshold)
    published = publisher.published
    resume = client.resume
    if resume == "random":
        resume = publisher.rng.choice(
            ["start", "newest", f"seq {publisher.rng.randint(1, len(published))}"]
        )
    if resume == "start":
        client.after, last_event_id = 0, None
    elif resume == "newest":
        client.after, last_event_id = published[-1]
    else:
        client.after = int(resume.removeprefix("seq "))
        last_event_id = dict(published)[client.after]
    client.resume = resume
    request_id = await client.tap.subscribe(publisher.plan_id, last_event_id)
    frame = await client.tap.next_item()
    assert frame["type"] == "subscribed", (client.name, frame)
    assert frame["id"] == request_id, (client.name, frame)
    assert client.after <= frame["head"]["seq"] <= len(published), (client.name, frame)
    if client.after < last:
        client.events = await client.tap.plan_events(publisher.plan_id, last, timeout=60)


def _flood(
    context: Any, plan_id: str, count: int, pattern: str, clients: list[_FloodClient]
) -> None:
    seed = int(os.environ.get("PLANSTREAM_TEST_SEED") or random.randrange(2**32))
    context.flood_seed = seed
    context.flood_plan = plan_id
    context.flood_clients = clients
    publisher = _Publisher(context, plan_id, count, pattern, seed)
    rng = random.Random(seed)
    for client in clients:
        if client.threshold < 0:
            client.threshold = rng.randint(0, count)

    async def flood() -> None:
        for client in clients:
            client.tap = await open_tap(context, f"flood-{client.name}", keep_frames=False)
        last = len(publisher.published) + count
        await asyncio.gather(
            publisher.run(), *(_client(context, publisher, c, last) for c in clients)
        )

    try:
        run(context, flood(), timeout=120)
    except BaseException as exc:
        exc.add_note(f"PLANSTREAM_TEST_SEED={seed}")
        raise


@when(
    '{count:d} more events are published to plan "{plan_id}" ({pattern}) while these raw clients '
    "subscribe to the stream:"
)
def step_flood_table(context: Any, count: int, plan_id: str, pattern: str) -> None:
    clients = [
        _FloodClient(row["client"], row["resume after"], int(row["subscribes after"]))
        for row in context.table
    ]
    _flood(context, plan_id, count, pattern, clients)


@when(
    '{count:d} more events are published to plan "{plan_id}" ({pattern}) while {number:d} raw '
    "clients subscribe to the stream at random moments from random resume points"
)
def step_flood_random(context: Any, count: int, plan_id: str, pattern: str, number: int) -> None:
    clients = [_FloodClient(f"r{i}", "random", -1) for i in range(number)]
    _flood(context, plan_id, count, pattern, clients)


@then(
    'every raw client of the flood received plan "{plan_id}" exactly once and in order, '
    "from its resume point to seq {last:d}"
)
def step_flood_checked(context: Any, plan_id: str, last: int) -> None:
    async def finish() -> None:
        for client in context.flood_clients:
            assert client.tap is not None
            have = client.events[-1]["seq"] if client.events else client.after
            if have < last:
                client.events += await client.tap.plan_events(plan_id, last)

    run(context, finish())
    for client in context.flood_clients:
        try:
            assert_exact_events(context, client.events, plan_id, client.after + 1, last)
        except AssertionError as exc:
            exc.add_note(
                f"client {client.name} resumed after {client.resume} (seq {client.after}) "
                f"once {client.threshold} events were published; "
                f"PLANSTREAM_TEST_SEED={context.flood_seed}"
            )
            raise


@when(
    'raw client "{name}" resumes fresh plans from their newest event while 1 to {most:d} events '
    "trickle in after 0 to {turns:d} loop turns"
)
def step_trickle(context: Any, name: str, most: int, turns: int) -> None:
    tap = taps(context)[name]
    server = context.server
    missing: list[str] = []

    async def trickle() -> None:
        for count in range(1, most + 1):
            for delay in range(turns + 1):
                plan_id = f"trickle-{count}-{delay}"
                first = await server.publish(plan_id, "log", log_data(0))
                await tap.subscribe(plan_id, first.event.event_id)
                for _ in range(delay):
                    await asyncio.sleep(0)
                for number in range(count):
                    await server.publish(plan_id, "log", log_data(number + 1))
                    await asyncio.sleep(0)
                # Nothing else is published to this plan: the events must come anyway.
                try:
                    frame = await tap.next_item(timeout=5)
                    assert frame["type"] == "subscribed", frame
                    events = await tap.plan_events(plan_id, count + 1, timeout=5)
                    assert [e["seq"] for e in events] == list(range(2, count + 2)), events
                except TimeoutError:
                    missing.append(f"{count} event(s) after {delay} turn(s)")
                await tap.request({"type": "unsubscribe", "plan_id": plan_id})
                assert (await tap.next_item())["type"] == "unsubscribed"

    run(context, trickle(), timeout=120)
    context.stream_trickle_missing = missing


@then(
    'raw client "{name}" received every trickled event of every plan, without any later event '
    "being published"
)
def step_trickle_checked(context: Any, name: str) -> None:
    assert not context.stream_trickle_missing, context.stream_trickle_missing
