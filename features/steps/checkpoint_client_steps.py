"""Steps of features/checkpoint.feature with in-process clients: commits, Resync
heads, explicit ids, a file broken under an open client (support/checkpoint_clients.py).

``context.taker`` is the last in-process client; ``context.checkpoint`` the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from behave import then, when
from support.checkpoint_clients import break_file, event_id, open_taker
from support.checkpoint_support import checkpoint_rows
from support.servers import on_cleanup, run

from planstream import ClientClosedError, ClientSettings
from planstream.delivery import Resync
from planstream.schema.snapshot import PlanSnapshot

# --- in-process clients ---------------------------------------------------------


@when('a client with the checkpoint takes {count:d} item of plan "{plan_id}"')
@when('a client with the checkpoint takes {count:d} items of plan "{plan_id}"')
def when_take(context: Any, count: int, plan_id: str) -> None:
    run(context, open_taker(context).take(plan_id, count))


@when(
    'a client with the checkpoint takes {count:d} item of plan "{plan_id}" after its event seq {seq:d}'
)
def when_take_after(context: Any, count: int, plan_id: str, seq: int) -> None:
    last_event_id = event_id(context, plan_id, seq)
    run(context, open_taker(context).take(plan_id, count, last_event_id=last_event_id))


@when(
    'a client with the checkpoint takes 1 item of plan "{plan_id}" after an unknown event id, '
    "then asks for the next"
)
def when_take_resync(context: Any, plan_id: str) -> None:
    taker = open_taker(context)

    async def take() -> None:
        await taker.take(plan_id, 1, last_event_id="gone.1.1", follow=True)
        await taker.ask_next()

    run(context, take())


@when(
    'a client with the checkpoint takes 1 item of plan "{plan_id}", closes, and asks for the next'
)
def when_take_close_next(context: Any, plan_id: str) -> None:
    taker = open_taker(context)

    async def take() -> None:
        await taker.take(plan_id, 1)
        await taker.client.aclose()
        await taker.client.aclose()  # closing twice closes the file once
        assert taker.stream is not None
        try:
            await anext(taker.stream)
        except ClientClosedError as exc:
            taker.error = exc

    run(context, take())


@when('a client without a checkpoint takes {count:d} items of plan "{plan_id}" and commits')
def when_take_no_checkpoint(context: Any, count: int, plan_id: str) -> None:
    taker = open_taker(context, ClientSettings())

    async def take() -> None:
        await taker.take(plan_id, count)
        assert taker.stream is not None
        await taker.stream.commit()

    run(context, take())


@when(
    'a client with the checkpoint subscribes to plan "{plan_id}" and commits before taking anything'
)
def when_commit_first(context: Any, plan_id: str) -> None:
    taker = open_taker(context)

    async def commit() -> None:
        await taker.take(plan_id, 0)
        assert taker.stream is not None
        await taker.stream.commit()

    run(context, commit())


@then("the client's checkpoint says it is closed, naming its file, and closes again quietly")
def then_checkpoint_closed(context: Any) -> None:
    observer = context.taker.client._observing.checkpoint  # the client's own (no public handle)
    assert repr(observer) == (
        f"CheckpointObserver(CheckpointStore(path={str(context.checkpoint)!r}, closed), plans=0)"
    ), repr(observer)
    observer.store.close()


@when("that client commits the item it holds, twice")
def when_commit_twice(context: Any) -> None:
    stream = context.taker.stream

    def written_at() -> float:
        with sqlite3.connect(context.checkpoint) as connection:
            row = connection.execute("SELECT updated_at FROM planstream_checkpoint").fetchone()
            stamp: float = row[0]
            return stamp

    run(context, stream.commit())
    first = written_at()
    run(context, stream.commit())
    context.commit_stamps = (first, written_at())


@when(
    "a client with the checkpoint opens it, then {accident}, then takes {count:d} items of plan "
    '"{plan_id}"'
)
def when_break_then_take(context: Any, accident: str, count: int, plan_id: str) -> None:
    taker = open_taker(context)
    path: Path = context.checkpoint
    if accident == "another writer holds the file locked":
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # held until the scenario lets go
        context.locking_writer = writer

        async def let_go() -> None:
            writer.close()

        on_cleanup(context, let_go)
        run(context, taker.take(plan_id, count))
    else:
        break_file(path, accident)
        run(context, taker.take(plan_id, count))


@when("the other writer lets go and that client asks for the next item")
def when_writer_lets_go(context: Any) -> None:
    context.locking_writer.execute("ROLLBACK")
    taker = context.taker
    taker.error = None

    async def ask() -> None:
        assert taker.stream is not None
        taker.items.append(await anext(taker.stream))

    run(context, ask())


@when('that client watches plan "{plan_id}" to its end')
def when_watch(context: Any, plan_id: str) -> None:
    async def fold() -> list[PlanSnapshot]:
        return [state async for state in context.taker.client.watch(plan_id)]

    context.watched = run(context, fold())


@then('the first state it watched holds seq 1 and the last one is "{status}"')
def then_watched(context: Any, status: str) -> None:
    first, last = context.watched[0], context.watched[-1]
    assert first.head is not None, first
    assert first.head.seq == 1, first
    assert last.status is not None, last
    assert last.status.value == status, last


@then("that client was handed seq {seq:d}")
def then_handed_seq(context: Any, seq: int) -> None:
    items = context.taker.items
    assert items, items
    assert not isinstance(items[-1], Resync), items
    assert items[-1].seq == seq, items


@then("that client was handed a Resync")
def then_handed_resync(context: Any) -> None:
    assert isinstance(context.taker.items[0], Resync), context.taker.items


def _row(context: Any, plan_id: str) -> tuple[str | None, int]:
    rows = checkpoint_rows(context.checkpoint)
    assert plan_id in rows, rows
    return rows[plan_id]


@then('the checkpoint row of plan "{plan_id}" is at seq {seq:d}')
def then_row_at(context: Any, plan_id: str, seq: int) -> None:
    assert _row(context, plan_id) == (event_id(context, plan_id, seq), seq)


@then('the checkpoint row of plan "{plan_id}" is at seq {seq:d}, written once')
def then_row_at_once(context: Any, plan_id: str, seq: int) -> None:
    then_row_at(context, plan_id, seq)
    first, second = context.commit_stamps
    assert first == second, context.commit_stamps


@then('the checkpoint row of plan "{plan_id}" is at its last event')
def then_row_at_last(context: Any, plan_id: str) -> None:
    then_row_at(context, plan_id, len(context.cli_published[plan_id]))


@then('the checkpoint row of plan "{plan_id}" is "from the start"')
def then_row_from_start(context: Any, plan_id: str) -> None:
    assert _row(context, plan_id) == (None, 0)


@then(
    'the checkpoint holds 2 rows: "{first}" at seq {first_seq:d} and "{second}" at seq {second_seq:d}'
)
def then_two_rows(context: Any, first: str, first_seq: int, second: str, second_seq: int) -> None:
    assert checkpoint_rows(context.checkpoint) == {
        first: (event_id(context, first, first_seq), first_seq),
        second: (event_id(context, second, second_seq), second_seq),
    }


@then("the checkpoint holds no row")
def then_no_row(context: Any) -> None:
    assert checkpoint_rows(context.checkpoint) == {}
