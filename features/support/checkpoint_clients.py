"""In-process clients of the durable cursor's tests, and another program's hands on its file.

* :class:`Taker` - a ``PlanStreamClient`` with the scenario's checkpoint that
  takes items from one subscription and stays open until the scenario ends
  (``context.taker``), so a later step can commit, or break the file under it;
* :func:`make_layout` / :func:`break_file` - the file written or broken with
  plain ``sqlite3`` and ``os``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from planstream import CheckpointError, ClientClosedError, ClientSettings, PlanStreamClient
from planstream.client import Subscription
from planstream.delivery import Delivery
from support.servers import on_cleanup, run

__all__ = ["Taker", "break_file", "client_settings", "event_id", "make_layout", "open_taker"]


class Taker:
    """An in-process client that takes items from one subscription, kept open."""

    def __init__(self, client: PlanStreamClient) -> None:
        self.client = client
        self.stream: Subscription | None = None
        self.items: list[Delivery] = []
        self.error: BaseException | None = None

    async def take(self, plan_id: str, count: int, **options: Any) -> None:
        """Subscribe and take ``count`` items; an error is kept, not raised."""
        try:
            self.stream = self.client.subscribe(plan_id, **options)
            for _ in range(count):
                self.items.append(await anext(self.stream))
        except (CheckpointError, ClientClosedError) as exc:
            self.error = exc

    async def ask_next(self) -> None:
        """Ask for the next item and stop waiting for it: the loop's commit of the
        item held happens before ``__anext__`` first waits (one step of its task)."""
        assert self.stream is not None
        asking = asyncio.ensure_future(anext(self.stream))
        await asyncio.sleep(0)  # the task's first step runs before this returns
        asking.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            self.items.append(await asking)


def client_settings(context: Any) -> ClientSettings:
    """Settings with the scenario's checkpoint and quick reconnects."""
    return ClientSettings(checkpoint=context.checkpoint, reconnect={"initial_delay": 0.05})


def open_taker(context: Any, settings: ClientSettings | None = None) -> Taker:
    """A client of the scenario's server, entered now, closed after the scenario."""
    client = PlanStreamClient(context.server.url, settings=settings or client_settings(context))
    run(context, client.__aenter__())
    on_cleanup(context, client.aclose)
    context.taker = Taker(client)
    return context.taker


def event_id(context: Any, plan_id: str, seq: int) -> str:
    """The id of the event at ``seq`` of a plan a Given step published."""
    stored = context.cli_published[plan_id][seq - 1]
    assert stored.seq == seq, stored
    found: str = stored.event.event_id
    return found


def make_layout(path: Path, *statements: str) -> None:
    """Run ``statements`` on the SQLite file at ``path``, as another program would."""
    connection = sqlite3.connect(path)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def break_file(path: Path, accident: str) -> None:
    """Do ``accident`` (the feature's words) to the checkpoint file of an open client."""
    if accident == "the file is removed":
        path.unlink()
    elif accident == "the file is replaced":
        replacement = path.with_name("replacement.sqlite")
        make_layout(replacement, "CREATE TABLE notes (body TEXT)")
        os.replace(replacement, path)
    elif accident == "its table is dropped":
        make_layout(path, "DROP TABLE planstream_checkpoint")
    elif accident == "its row holds an invalid event id":
        make_layout(
            path, f"INSERT INTO planstream_checkpoint VALUES ('ck-broken', '{'x' * 200}', 3, 0)"
        )
    else:
        assert accident == "its row holds a text seq", accident
        make_layout(path, "INSERT INTO planstream_checkpoint VALUES ('ck-broken', 'e.1.1', 'x', 0)")
