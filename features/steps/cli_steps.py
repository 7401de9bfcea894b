"""Steps of features/cli.feature: the real ``planstream`` command in subprocesses
(the demo's own steps are in cli_demo_steps.py).

``context.cli`` is the last :class:`~support.cli_support.CommandResult`;
``context.cli_published`` maps a plan to the events published to it on the
embedded server (``StoredEvent``); ``context.cli_server`` is a running
``planstream serve``.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when
from support.cli_support import (
    CLI,
    fill_placeholders,
    plan_events,
    run_cli,
    start_background,
    start_cli_server,
)
from support.servers import free_port, on_cleanup, run

# --- running commands ---------------------------------------------------------------


def _arguments(context: Any, text: str) -> list[str]:
    return shlex.split(fill_placeholders(context, text))


@when('the planstream command runs "{arguments}"')
def when_cli_runs(context: Any, arguments: str) -> None:
    context.cli = run_cli(context, *_arguments(context, arguments))


@when('the planstream command runs "{arguments}" with this input')
def when_cli_runs_with_input(context: Any, arguments: str) -> None:
    context.cli = run_cli(context, *_arguments(context, arguments), stdin=context.text + "\n")


@when('the planstream command runs "{arguments}" with the environment variable {name}={value}')
def when_cli_runs_with_env(context: Any, arguments: str, name: str, value: str) -> None:
    context.cli = run_cli(context, *_arguments(context, arguments), env={name: value})


@then("the planstream command exits with status {status:d}")
def then_cli_status(context: Any, status: int) -> None:
    assert context.cli.returncode == status, str(context.cli)


@then('the planstream command printed one error line containing "{text}"')
def then_cli_one_error_line(context: Any, text: str) -> None:
    lines = context.cli.stderr.splitlines()
    assert len(lines) == 1, str(context.cli)
    assert lines[0].startswith("planstream: error: "), str(context.cli)
    assert text in lines[0], str(context.cli)
    assert "Traceback" not in context.cli.stdout


@then('the planstream command printed one error line ending "{end}" and containing "{text}"')
def then_cli_one_error_line_ending(context: Any, end: str, text: str) -> None:
    then_cli_one_error_line(context, text)
    assert context.cli.stderr.rstrip("\n").endswith(end), str(context.cli)


@then('the planstream command printed a traceback, then the error line "{text}"')
def then_cli_traceback(context: Any, text: str) -> None:
    lines = context.cli.stderr.splitlines()
    # a plain traceback, or the one of an exception group from a task group
    assert any("Traceback (most recent call last)" in line for line in lines), str(context.cli)
    assert lines[-1].startswith("planstream: error: "), str(context.cli)
    assert text in lines[-1], str(context.cli)


@then('the planstream command printed the line "{line}"')
def then_cli_line(context: Any, line: str) -> None:
    assert line in context.cli.stdout.splitlines(), str(context.cli)


@then('the planstream command printed {count:d} lines starting with "{prefix}"')
def then_cli_lines_starting(context: Any, count: int, prefix: str) -> None:
    lines = [line for line in context.cli.stdout.splitlines() if line.startswith(prefix)]
    assert len(lines) == count, str(context.cli)


# --- servers and what they hold ------------------------------------------------------


@given('plan "{plan_id}" was published on the reference server: {steps:d} steps, then "{final}"')
def given_cli_plan(context: Any, plan_id: str, steps: int, final: str) -> None:
    async def publish() -> list[Any]:
        return [
            await context.server.publish(plan_id, kind, data)
            for kind, data in plan_events(steps, final)
        ]

    if not hasattr(context, "cli_published"):
        context.cli_published = {}
    context.cli_published[plan_id] = run(context, publish())


def _json_lines(context: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in context.cli.stdout.splitlines()]


@then("every line the planstream command printed is a JSON object")
def then_cli_json(context: Any) -> None:
    lines = context.cli.stdout.splitlines()
    assert lines, str(context.cli)
    assert all(isinstance(value, dict) for value in _json_lines(context)), str(context.cli)


@then('the JSON lines are the wire form of every event published to plan "{plan_id}"')
def then_cli_json_events(context: Any, plan_id: str) -> None:
    published = [json.loads(stored.json) for stored in context.cli_published[plan_id]]
    assert _json_lines(context) == published, str(context.cli)
    assert all(event["type"] == "event" for event in published)


@then('the JSON lines are the events of plan "{plan_id}" after seq {seq:d}')
def then_cli_json_after(context: Any, plan_id: str, seq: int) -> None:
    published = [json.loads(s.json) for s in context.cli_published[plan_id] if s.seq > seq]
    assert published, "the scenario publishes events after it"
    assert _json_lines(context) == published, str(context.cli)


@then('the first JSON line is a resync "{reason}" with a "{status}" snapshot at the plan\'s head')
def then_cli_json_resync(context: Any, reason: str, status: str) -> None:
    lines = _json_lines(context)
    assert list(lines[0]) == ["resync"], lines[0]
    marker = lines[0]["resync"]
    assert marker["reason"] == reason, marker
    assert marker["snapshot"]["status"] == status, marker
    (published,) = context.cli_published.values()
    head = published[-1].event
    assert marker["snapshot"]["head"] == {"seq": head.seq, "event_id": head.event_id}, marker
    assert lines[1:] == [], "nothing follows a terminal snapshot"


@then('the reference server\'s plan "{plan_id}" holds the kinds "{kinds}"')
def then_cli_plan_kinds(context: Any, plan_id: str, kinds: str) -> None:
    events = run(context, context.server.state.log.read(plan_id, 0, 100))
    assert [stored.event.kind for stored in events] == [k.strip() for k in kinds.split(",")]


@then('the reference server\'s plan "{plan_id}" holds {count:d} events')
def then_cli_plan_count(context: Any, plan_id: str, count: int) -> None:
    events = run(context, context.server.state.log.read(plan_id, 0, 100))
    assert len(events) == count, events


@then("the plans table has the rows")
def then_cli_plans_table(context: Any) -> None:
    rows = {}
    for line in context.cli.stdout.splitlines():
        cells = line.split()
        if len(cells) >= 3 and cells[0].startswith("cli-"):
            rows[cells[0]] = cells
    assert len(rows) == len(context.table.rows), str(context.cli)
    for expected in context.table:
        cells = rows[expected["plan"]]
        assert cells[1:3] == [expected["status"], expected["head seq"]], cells
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", cells[3]), cells


# --- planstream serve -------------------------------------------------------------------


@given('"planstream serve" runs with "{flags}"')
def given_cli_serve(context: Any, flags: str) -> None:
    context.cli_server, context.cli_server_port = start_cli_server(context, *shlex.split(flags))


@when('"planstream serve" is stopped with SIGTERM')
def when_cli_serve_stopped(context: Any) -> None:
    context.cli_server.process.send_signal(signal.SIGTERM)
    context.cli_server_status = context.cli_server.stop()


@then('"planstream serve" exited with status {status:d} after printing "{text}"')
def then_cli_serve_exit(context: Any, status: int, text: str) -> None:
    server = context.cli_server
    assert context.cli_server_status == status, (server.stdout, server.stderr)
    assert server.stdout.startswith(text), server.stdout


@then('"planstream serve" logged these connection lines, in any order:')
def then_cli_serve_log(context: Any) -> None:
    log = context.cli_server.stderr.splitlines()
    lines = [line for line in log if "websocket 127.0.0.1:" in line]
    assert all(" INFO planstream.cli.serve: " in line for line in lines), lines
    assert all(re.search(r" after \d+\.\d s$", line) for line in lines), lines
    # A watcher reconnecting while the server stops may be turned away with
    # 503 (shutting down): that line is right too, but only after "stopping".
    stopping = next(n for n, line in enumerate(log) if "stopping: closing connections" in line)
    late = [n for n, line in enumerate(log) if "refused with HTTP 503" in line]
    assert all(n > stopping for n in late), log
    lines = [line for line in lines if "refused with HTTP 503" not in line]
    expected = [row["line"] for row in context.table]
    assert len(lines) == len(expected), lines
    for text in expected:
        assert sum(text in line for line in lines) == 1, (text, lines)


@when('"planstream {arguments}" runs in the background until it printed "{text}"')
def when_cli_background(context: Any, arguments: str, text: str) -> None:
    args = [*CLI, *_arguments(context, arguments)]
    context.cli_background = start_background(context, args)
    context.cli_background.wait_for_output(text)


@when('the background planstream command printed "{text}", it is interrupted with SIGINT')
def when_cli_background_interrupted(context: Any, text: str) -> None:
    background = context.cli_background
    background.wait_for_output(text)
    context.cli_background_status = background.stop(sig=signal.SIGINT)


@then('the background planstream command exits with status {status:d} and says "{text}"')
def then_cli_background_status(context: Any, status: int, text: str) -> None:
    background = context.cli_background
    assert context.cli_background_status == status, (background.stdout, background.stderr)
    assert background.stderr.splitlines() == [text], background.stderr


@given('a plain HTTP file server that answers GET /v1/plans with "{body}"')
def given_file_server(context: Any, body: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="planstream-cli-"))
    (root / "v1").mkdir()
    (root / "v1" / "plans").write_text(body, encoding="utf-8")
    port = free_port()
    args = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    ready = f"http://127.0.0.1:{port}/v1/plans"
    start_background(context, [*args, "--directory", str(root)], ready)
    context.cli_server_port = port

    async def remove() -> None:
        shutil.rmtree(root, ignore_errors=True)

    on_cleanup(context, remove)
