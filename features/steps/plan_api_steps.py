"""Steps of features/plan_api.feature: ``client.plans()``, ``client.snapshot()``,
``subscribe(must_exist=True)``, and the CLI's ``plans --json``, plain columns,
``watch --must-exist`` and waiting notice.

``context.api_result`` is what the last client call returned, ``context.api_error``
what it raised (None if nothing).
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
from collections.abc import Awaitable, Callable
from typing import Any

import pyte
from behave import given, then, when
from support.cli_support import (
    CLI,
    fill_placeholders,
    plan_events,
    run_cli,
    run_in_terminal,
    start_background,
)
from support.scripted_servers import ScriptedTcpServer, answer_http
from support.servers import on_cleanup, run

import planstream
from planstream import PlanSnapshot, PlanStreamClient, PlanSummary
from planstream.schema import PlanStatusEvent


def _call(context: Any, url: str, use: Callable[[PlanStreamClient], Awaitable[Any]]) -> None:
    async def body() -> Any:
        async with PlanStreamClient(url) as client:
            return await use(client)

    context.api_error = None
    try:
        context.api_result = run(context, body())
    except planstream.PlanStreamError as exc:
        context.api_error = exc


def _stream_url(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http") + "/v1/stream"


@when("the client lists the plans through the proxy, {size:d} a page")
def when_list_plans(context: Any, size: int) -> None:
    async def use(client: PlanStreamClient) -> list[PlanSummary]:
        return [plan async for plan in client.plans(page_size=size)]

    _call(context, _stream_url(context.proxy.http_url), use)
    assert context.api_error is None, context.api_error


@then('the client listed the plans "page-1" to "page-{last:d}", each once, typed, with head seq 1')
def then_listed(context: Any, last: int) -> None:
    plans = context.api_result
    assert all(isinstance(plan, PlanSummary) for plan in plans), plans
    assert sorted(plan.plan_id for plan in plans) == sorted(
        f"page-{n}" for n in range(1, last + 1)
    ), plans
    assert all(plan.head is not None and plan.head.seq == 1 for plan in plans), plans


@then("the proxy saw {count:d} GET requests of /v1/plans")
def then_proxy_gets(context: Any, count: int) -> None:
    gets = [r for r in context.proxy.requests if r.path.split("?")[0] == "/v1/plans"]
    assert len(gets) == count, gets
    assert all(r.method == "GET" for r in gets), gets


@when('the client reads the snapshot of plan "{plan_id}"')
def when_snapshot(context: Any, plan_id: str) -> None:
    _call(context, context.server.url, lambda client: client.snapshot(plan_id))


@then(
    'the snapshot is a PlanSnapshot of plan "{plan_id}", status {status}, {steps:d} steps, '
    "head seq {seq:d}"
)
def then_snapshot(context: Any, plan_id: str, status: str, steps: int, seq: int) -> None:
    snapshot = context.api_result
    assert isinstance(snapshot, PlanSnapshot), repr(snapshot)
    assert snapshot.plan_id == plan_id, snapshot
    assert snapshot.status is planstream.PlanStatus(status), snapshot
    assert len(snapshot.steps) == steps, snapshot
    assert snapshot.head is not None, snapshot
    assert snapshot.head.seq == seq, snapshot


@then('the client\'s call failed with PlanNotFoundError naming plan "{plan_id}"')
def then_not_found(context: Any, plan_id: str) -> None:
    error = context.api_error
    assert isinstance(error, planstream.PlanNotFoundError), repr(error)
    assert isinstance(error, LookupError), repr(error)
    assert error.plan_id == plan_id, error.plan_id
    assert f"does not know plan {plan_id!r}" in str(error), str(error)


@when('the client subscribes to plan "{plan_id}" with must_exist')
def when_must_exist(context: Any, plan_id: str) -> None:
    async def use(client: PlanStreamClient) -> list[Any]:
        async with client.subscribe(plan_id, must_exist=True) as stream:
            return [item async for item in stream]

    _call(context, context.server.url, use)


@then('the subscription delivered {count:d} events, the last a plan.status "{status}"')
def then_delivered(context: Any, count: int, status: str) -> None:
    assert context.api_error is None, context.api_error
    items = context.api_result
    assert [item.seq for item in items] == list(range(1, count + 1)), items
    assert isinstance(items[-1], PlanStatusEvent), items[-1]
    assert items[-1].data.status.value == status, items[-1]


class _EndlessPlanList(ScriptedTcpServer):
    """Answers every request with a page holding no plan and the same next_cursor."""

    def __init__(self, cursor: str) -> None:
        super().__init__()
        self.cursor = cursor

    async def _serve(self, reader: Any, writer: Any) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = json.dumps({"plans": [], "next_cursor": self.cursor}).encode()
        await answer_http(writer, 200, body)
        writer.close()


@given('a scripted HTTP server whose plan list always answers the next_cursor "{cursor}"')
def given_endless(context: Any, cursor: str) -> None:
    server = _EndlessPlanList(cursor)
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.endless = server


@when("the client lists the plans of the scripted server")
def when_list_endless(context: Any) -> None:
    async def use(client: PlanStreamClient) -> list[PlanSummary]:
        return [plan async for plan in client.plans()]

    _call(context, context.endless.url, use)


@then('the client\'s call failed with InvalidResponseError containing "{text}"')
def then_invalid_response(context: Any, text: str) -> None:
    error = context.api_error
    assert isinstance(error, planstream.InvalidResponseError), repr(error)
    assert text in str(error), str(error)


# --- the CLI -------------------------------------------------------------------------


@then("the JSON plans are, in order:")
def then_json_plans(context: Any) -> None:
    plans = [json.loads(line) for line in context.cli.stdout.splitlines()]
    assert [set(plan) for plan in plans] == [{"plan_id", "status", "head", "updated_at"}] * len(
        plans
    ), plans
    expected = [(row["plan_id"], row["status"], int(row["head seq"])) for row in context.table]
    assert [(p["plan_id"], p["status"], p["head"]["seq"]) for p in plans] == expected, plans


@then("the planstream command's output holds no box-drawing character")
def then_no_box(context: Any) -> None:
    out = context.cli.stdout
    assert out.strip(), str(context.cli)
    assert not any("\u2500" <= char <= "\u257f" for char in out), out
    assert "\x1b" not in out, repr(out)


@then("the planstream command printed nothing")
def then_printed_nothing(context: Any) -> None:
    assert context.cli.stdout == "", str(context.cli)
    assert context.cli.stderr == "", str(context.cli)


@when('"planstream {arguments}" runs in the background until it wrote on stderr "{text}"')
def when_background_stderr(context: Any, arguments: str, text: str) -> None:
    args = [*CLI, *fill_placeholders(context, arguments).split()]
    background = start_background(context, args)
    context.cli_background = background
    stderr = background.process.stderr
    assert stderr is not None

    async def wait_for_text() -> None:
        # In the scenario's loop: the embedded server must go on serving meanwhile.
        loop = asyncio.get_running_loop()
        while text not in background.stderr:
            readable = asyncio.Event()
            loop.add_reader(stderr.fileno(), readable.set)
            try:
                await readable.wait()
            finally:
                loop.remove_reader(stderr.fileno())
            chunk = os.read(stderr.fileno(), 65536)
            assert chunk, f"{args} never wrote {text!r} on stderr:\n{background.stderr}"
            background.stderr += chunk.decode()

    run(context, wait_for_text(), timeout=20)


@when('plan "{plan_id}" then runs on the reference server: {steps:d} steps, then "{final}"')
def when_plan_runs(context: Any, plan_id: str, steps: int, final: str) -> None:
    async def publish() -> None:
        for kind, data in plan_events(steps, final):
            await context.server.publish(plan_id, kind, data)

    run(context, publish())


@then(
    "the background watch exits with status {status:d}, its stderr one waiting line beside "
    "the connection's, its stdout {count:d} JSON lines"
)
def then_background_watch(context: Any, status: int, count: int) -> None:
    background = context.cli_background
    run(context, asyncio.to_thread(background.process.wait, 20), timeout=25)
    code = background.stop()
    assert code == status, (background.stdout, background.stderr)
    # --json tells every connection state change on stderr (client_loud.feature);
    # the unknown plan is told once, and nothing else is written there.
    stderr = background.stderr.splitlines()
    waiting = [line for line in stderr if line.startswith("planstream: waiting for plan ")]
    assert len(waiting) == 1, background.stderr
    others = [line for line in stderr if line not in waiting]
    assert all(line.startswith("planstream: connection ") for line in others), background.stderr
    lines = background.stdout.splitlines()
    assert len(lines) == count, lines
    assert all(json.loads(line)["plan_id"] == "cli-later" for line in lines), lines


@when(
    '"planstream {arguments}" runs in a {columns:d}x{rows:d} pseudo-terminal beside the '
    "reference server"
)
def when_terminal_beside(context: Any, arguments: str, columns: int, rows: int) -> None:
    args = [*CLI, *shlex.split(fill_placeholders(context, arguments))]
    # In a thread: the embedded server answers from the scenario's loop meanwhile.
    status, output = run(
        context, asyncio.to_thread(run_in_terminal, args, columns=columns, rows=rows), timeout=40
    )
    screen = pyte.Screen(columns, rows)
    pyte.ByteStream(screen).feed(output)
    context.terminal_status = status
    context.terminal_lines = [line.rstrip() for line in screen.display]


@then('the terminal shows a table row for plan "{plan_id}": {status}, head seq {seq:d}')
def then_terminal_row(context: Any, plan_id: str, status: str, seq: int) -> None:
    assert context.terminal_status == 0, context.terminal_lines
    rows = [line.split() for line in context.terminal_lines if line.strip().startswith(plan_id)]
    assert len(rows) == 1, context.terminal_lines
    assert rows[0][1:3] == [status, str(seq)], rows
    assert any("─" in line for line in context.terminal_lines), context.terminal_lines


@when('the planstream command runs "{arguments}" against the fault proxy')
def when_cli_proxy(context: Any, arguments: str) -> None:
    text = arguments.replace("{proxy_url}", context.proxy.http_url).replace(
        "{https_url}", context.server.http_url.replace("http://", "https://")
    )
    context.cli = run_cli(context, *shlex.split(fill_placeholders(context, text)))
