"""Steps of features/checkpoint.feature: the durable cursor (``ClientSettings.checkpoint``).

Consumer processes (support/checkpoint_consumer.py) are SIGKILLed and restarted
against the scenario's embedded reference server; the file is made broken in
every way ``async with PlanStreamClient(...)`` must refuse; the setting comes
from ``PLANSTREAM_CHECKPOINT``. The steps with in-process clients are in
checkpoint_client_steps.py. ``context.checkpoint`` is the file's path,
``context.taker`` the last in-process client.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when
from support.checkpoint_clients import Taker, client_settings, make_layout
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
from planstream.client.checkpoint import APPLICATION_ID

#: The seed of the kill points: the same run every time.
KILL_SEED = 15


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
        make_layout(path, "CREATE TABLE notes (body TEXT)")
    elif case == "a newer planstream layout":
        make_layout(path, f"PRAGMA application_id={APPLICATION_ID}", "PRAGMA user_version=2")
    elif case == "a checkpoint without its table":
        make_layout(path, f"PRAGMA application_id={APPLICATION_ID}", "PRAGMA user_version=1")
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
    client = PlanStreamClient(context.server.url, settings=client_settings(context))
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
