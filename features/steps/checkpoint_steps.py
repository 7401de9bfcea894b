"""Steps of features/checkpoint.feature: the durable cursor (``ClientSettings.checkpoint``).

Consumer processes (support/checkpoint_consumer.py) are SIGKILLed and restarted
against the scenario's embedded reference server; in-process clients
(:class:`Taker`) take items and stay open until the scenario ends, so a later
step can commit, or break the file under them. ``context.checkpoint`` is the
file's path, ``context.taker`` the last in-process client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when
from support.checkpoint_support import (
    ConsumerProcess,
    checkpoint_rows,
    journal_mode,
    kill_and_restart,
    publish_steadily,
)
from support.env_vars import environment
from support.servers import on_cleanup, run
from support.stream_checker import PublishedRecord, StreamVerdict, check_consumer, read_jsonl

from planstream import CheckpointError, ClientClosedError, ClientSettings, PlanStreamClient
from planstream.client import Subscription
from planstream.client.checkpoint import APPLICATION_ID
from planstream.delivery import Delivery, Resync

#: The seed of the kill points: the same run every time.
KILL_SEED = 15


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


def _settings(context: Any) -> ClientSettings:
    return ClientSettings(checkpoint=context.checkpoint, reconnect={"initial_delay": 0.05})


def _open_taker(context: Any, settings: ClientSettings | None = None) -> Taker:
    client = PlanStreamClient(context.server.url, settings=settings or _settings(context))
    run(context, client.__aenter__())
    on_cleanup(context, client.aclose)
    context.taker = Taker(client)
    return context.taker


def _event_id(context: Any, plan_id: str, seq: int) -> str:
    stored = context.cli_published[plan_id][seq - 1]
    assert stored.seq == seq, stored
    event_id: str = stored.event.event_id
    return event_id


def _published_lines(context: Any, plan_id: str) -> list[dict[str, Any]]:
    return [
        {"p": plan_id, "s": stored.seq, "i": stored.event.event_id}
        for stored in context.cli_published[plan_id]
    ]


def _verdict(context: Any, published: list[dict[str, Any]], plans: list[str]) -> StreamVerdict:
    verdict = check_consumer(
        PublishedRecord.of(published), read_jsonl(context.record), plans=plans, complete=True
    )
    assert verdict.ok, verdict.problems()
    return verdict


# --- the file -------------------------------------------------------------------


@given("a checkpoint file in a fresh directory")
def given_checkpoint(context: Any) -> None:
    folder = Path(tempfile.mkdtemp(prefix="planstream-checkpoint-"))
    context.checkpoint = folder / "cursor.sqlite"
    context.record = folder / "consumer.jsonl"


def _make_layout(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    try:
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


@given("a checkpoint file in a fresh directory, made {case}")
def given_broken_checkpoint(context: Any, case: str) -> None:
    given_checkpoint(context)
    path: Path = context.checkpoint
    if case == "a path in a missing directory":
        context.checkpoint = path.parent / "missing" / path.name
    elif case == "a directory":
        path.mkdir()
    elif case == "a text file":
        path.write_text("cursor: 42\n" * 200, encoding="utf-8")
    elif case == "another program's SQLite database":
        _make_layout(path, "CREATE TABLE notes (body TEXT)")
    elif case == "a newer planstream layout":
        _make_layout(path, f"PRAGMA application_id={APPLICATION_ID}", "PRAGMA user_version=2")
    elif case == "a checkpoint without its table":
        _make_layout(path, f"PRAGMA application_id={APPLICATION_ID}", "PRAGMA user_version=1")
    else:
        assert case == "the in-memory database", case
        context.checkpoint = Path(":memory:")


# --- consumer processes ---------------------------------------------------------


@when(
    'plans "{first}" and "{second}" get {events:d} log events each at a steady pace while '
    "their consumer is killed {kills:d} times at seeded random points and restarted"
)
def when_kill_and_restart(context: Any, first: str, second: str, events: int, kills: int) -> None:
    plans = [first, second]
    context.plans = plans
    context.published = []

    async def soak() -> None:
        publishing = asyncio.ensure_future(
            publish_steadily(context.server, plans, events, 0.005, context.published)
        )
        try:
            context.kill_report = await kill_and_restart(
                context.server.url, context.record, context.checkpoint, plans, kills, KILL_SEED
            )
        finally:
            await publishing

    run(context, soak(), timeout=120)


@when('a consumer in mode "{mode}" takes the first item of plan "{plan_id}" and is killed')
def when_consumer_killed(context: Any, mode: str, plan_id: str) -> None:
    async def take_and_die() -> None:
        consumer = await ConsumerProcess.start(
            context.server.url, context.record, context.checkpoint, mode, [plan_id]
        )
        await consumer.wait_for("committed" if mode == "commit" else "holding")
        await consumer.kill()

    run(context, take_and_die())


@when('the consumer is restarted and reads plan "{plan_id}" to the end')
def when_consumer_restarted(context: Any, plan_id: str) -> None:
    async def read_to_end() -> int:
        consumer = await ConsumerProcess.start(
            context.server.url, context.record, context.checkpoint, "work", [plan_id]
        )
        return await consumer.finish()

    assert run(context, read_to_end()) == 0
    context.plans = [plan_id]
    context.published = _published_lines(context, plan_id)


@when(
    'two consumers with the checkpoint read plans "{first}" and "{second}" to the end '
    "at the same time"
)
def when_two_consumers(context: Any, first: str, second: str) -> None:
    async def read_both() -> list[int]:
        consumers = [
            await ConsumerProcess.start(
                context.server.url, context.record, context.checkpoint, "work", [plan_id]
            )
            for plan_id in (first, second)
        ]
        return list(await asyncio.gather(*(consumer.finish() for consumer in consumers)))

    assert run(context, read_both()) == [0, 0]
    context.consumer_runs = [*getattr(context, "consumer_runs", []), read_jsonl(context.record)]


@then("the second two consumers took nothing: their plans had ended where their positions were")
def then_second_took_nothing(context: Any) -> None:
    before, after = context.consumer_runs
    assert after[: len(before)] == before
    assert after[len(before) :] == [{"k": "start"}, {"k": "start"}], after[len(before) :]


@then("the consumer's record passes the stream checker, nothing lost, nothing duplicated")
def then_record_ok(context: Any) -> None:
    context.verdict = verdict = _verdict(context, context.published, context.plans)
    assert verdict.total("lost") == 0, verdict.problems()
    assert verdict.total("duplicated") == 0, verdict.problems()
    assert verdict.total("delivered") >= len(context.published), verdict
    assert verdict.incarnations == context.kill_report.kills + 1, verdict.incarnations
    print(
        f"checkpoint soak: {len(context.published)} events published, "
        f"{verdict.total('delivered')} delivered, {context.kill_report.kills} SIGKILLs "
        f"(after {context.kill_report.kill_points} items), "
        f"{verdict.total('redelivered')} redelivered, 0 lost, 0 duplicated"
    )


@then("each restart redelivered at most {count:d} event per plan")
def then_redelivered_at_most(context: Any, count: int) -> None:
    for plan, verdict in context.verdict.plans.items():
        assert verdict.redelivered <= count * context.kill_report.kills, (plan, verdict)


@then("the consumer's record passes the stream checker with {count:d} redelivered")
def then_record_redelivered(context: Any, count: int) -> None:
    verdict = _verdict(context, context.published, context.plans)
    assert verdict.incarnations == 2, verdict
    assert verdict.total("redelivered") == count, verdict


@then("the checkpoint holds one row per plan, each at its plan's last event")
def then_rows_at_last(context: Any) -> None:
    last = {line["p"]: (line["i"], line["s"]) for line in context.published}
    assert checkpoint_rows(context.checkpoint) == last, checkpoint_rows(context.checkpoint)


@then('the checkpoint file\'s journal mode is "{mode}"')
def then_journal_mode(context: Any, mode: str) -> None:
    assert journal_mode(context.checkpoint) == mode


# --- in-process clients ---------------------------------------------------------


@when('a client with the checkpoint takes {count:d} item of plan "{plan_id}"')
@when('a client with the checkpoint takes {count:d} items of plan "{plan_id}"')
def when_take(context: Any, count: int, plan_id: str) -> None:
    run(context, _open_taker(context).take(plan_id, count))


@when(
    'a client with the checkpoint takes {count:d} item of plan "{plan_id}" after its event seq {seq:d}'
)
def when_take_after(context: Any, count: int, plan_id: str, seq: int) -> None:
    last_event_id = _event_id(context, plan_id, seq)
    run(context, _open_taker(context).take(plan_id, count, last_event_id=last_event_id))


@when(
    'a client with the checkpoint takes 1 item of plan "{plan_id}" after an unknown event id, '
    "then asks for the next"
)
def when_take_resync(context: Any, plan_id: str) -> None:
    taker = _open_taker(context)

    async def take() -> None:
        await taker.take(plan_id, 1, last_event_id="gone.1.1", follow=True)
        await taker.ask_next()

    run(context, take())


@when(
    'a client with the checkpoint takes 1 item of plan "{plan_id}", closes, and asks for the next'
)
def when_take_close_next(context: Any, plan_id: str) -> None:
    taker = _open_taker(context)

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
    taker = _open_taker(context, ClientSettings())

    async def take() -> None:
        await taker.take(plan_id, count)
        assert taker.stream is not None
        await taker.stream.commit()

    run(context, take())


@when(
    'a client with the checkpoint subscribes to plan "{plan_id}" and commits before taking anything'
)
def when_commit_first(context: Any, plan_id: str) -> None:
    taker = _open_taker(context)

    async def commit() -> None:
        await taker.take(plan_id, 0)
        assert taker.stream is not None
        await taker.stream.commit()

    run(context, commit())


@then("the client's checkpoint says it is closed, naming its file, and closes again quietly")
def then_checkpoint_closed(context: Any) -> None:
    observer = context.taker.client._checkpoint  # the client's own (no public handle)
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


def _break_file(path: Path, accident: str) -> None:
    if accident == "the file is removed":
        path.unlink()
    elif accident == "the file is replaced":
        replacement = path.with_name("replacement.sqlite")
        _make_layout(replacement, "CREATE TABLE notes (body TEXT)")
        os.replace(replacement, path)
    elif accident == "its table is dropped":
        _make_layout(path, "DROP TABLE planstream_checkpoint")
    elif accident == "its row holds an invalid event id":
        _make_layout(
            path, f"INSERT INTO planstream_checkpoint VALUES ('ck-broken', '{'x' * 200}', 3, 0)"
        )
    else:
        assert accident == "its row holds a text seq", accident
        _make_layout(
            path, "INSERT INTO planstream_checkpoint VALUES ('ck-broken', 'e.1.1', 'x', 0)"
        )


@when(
    "a client with the checkpoint opens it, then {accident}, then takes {count:d} items of plan "
    '"{plan_id}"'
)
def when_break_then_take(context: Any, accident: str, count: int, plan_id: str) -> None:
    taker = _open_taker(context)
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
        _break_file(path, accident)
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
    assert _row(context, plan_id) == (_event_id(context, plan_id, seq), seq)


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
        first: (_event_id(context, first, first_seq), first_seq),
        second: (_event_id(context, second, second_seq), second_seq),
    }


@then("the checkpoint holds no row")
def then_no_row(context: Any) -> None:
    assert checkpoint_rows(context.checkpoint) == {}


# --- settings and errors --------------------------------------------------------


@then('with PLANSTREAM_CHECKPOINT="{value}", ClientSettings().checkpoint is that path')
def then_env_path(context: Any, value: str) -> None:
    with environment({"PLANSTREAM_CHECKPOINT": value}):
        assert ClientSettings().checkpoint == Path(value)


@then('with PLANSTREAM_CHECKPOINT="", ClientSettings().checkpoint is None')
def then_env_empty(context: Any) -> None:
    with environment({"PLANSTREAM_CHECKPOINT": ""}):
        assert ClientSettings().checkpoint is None


@when("a client with the checkpoint is entered")
def when_enter(context: Any) -> None:
    client = PlanStreamClient(context.server.url, settings=_settings(context))
    context.taker = Taker(client)
    try:
        run(context, client.__aenter__())
    except CheckpointError as exc:
        context.taker.error = exc
    else:
        on_cleanup(context, client.aclose)


@then('entering failed with a CheckpointError saying "{text}"')
@then('it failed with a CheckpointError saying "{text}"')
def then_checkpoint_error(context: Any, text: str) -> None:
    error = context.taker.error
    assert isinstance(error, CheckpointError), repr(error)
    assert text in str(error), str(error)
    assert error.path == str(context.checkpoint), error.path


@then('it failed with a ClientClosedError saying "{text}"')
def then_closed_error(context: Any, text: str) -> None:
    error = context.taker.error
    assert isinstance(error, ClientClosedError), repr(error)
    assert text in str(error), str(error)
