"""Steps of features/cli_examples.feature: examples/ run as users run them."""

from __future__ import annotations

import json
import re
import shlex
import sys
from typing import Any

from behave import given, then, when
from support.cli_support import (
    fill_placeholders,
    plan_events,
    run_cli,
    run_command,
    start_background,
)
from support.servers import free_port


@given(
    'plan "{plan_id}" was published with "planstream publish --stdin": {steps:d} steps, then "{final}"'
)
def given_plan_published_by_cli(context: Any, plan_id: str, steps: int, final: str) -> None:
    context.example_events = plan_events(steps, final)
    lines = "".join(json.dumps({"kind": k, "data": d}) + "\n" for k, d in context.example_events)
    url = fill_placeholders(context, "{http_url}")
    result = run_cli(
        context, "publish", plan_id, "--stdin", "--url", url, "--token", "writer", stdin=lines
    )
    assert result.returncode == 0, str(result)


@when('the example "{command}" runs')
def when_example_runs(context: Any, command: str) -> None:
    script, *arguments = shlex.split(fill_placeholders(context, command))
    context.example_run = run_command(context, sys.executable, script, *arguments)


@when('the example "{command}" runs with PLANSTREAM_URL and PLANSTREAM_TOKEN "{token}"')
def when_example_runs_with_env(context: Any, command: str, token: str) -> None:
    env = {"PLANSTREAM_URL": fill_placeholders(context, "{url}"), "PLANSTREAM_TOKEN": token}
    context.example_run = run_command(context, sys.executable, *shlex.split(command), env=env)


@then("the example command exits with status {status:d}")
def then_example_status(context: Any, status: int) -> None:
    assert context.example_run.returncode == status, str(context.example_run)


def _example_lines(context: Any) -> list[str]:
    return context.example_run.stdout.splitlines()


@then('the subscribe example printed every published event in order, then "{last}"')
def then_subscribe_output(context: Any, last: str) -> None:
    lines = _example_lines(context)
    expected = [
        f"#{seq} {kind} {json.dumps(_as_stored(kind, data), sort_keys=True)}"
        for seq, (kind, data) in enumerate(context.example_events, start=1)
    ]
    assert lines == [*expected, last], str(context.example_run)


def _as_stored(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The data as the server stores it: optional fields filled with null."""
    optional = {
        "plan.status": ("reason",),
        "plan.progress": ("message",),
        "step.status": ("error",),
        "log": ("step_id",),
    }
    return {**dict.fromkeys(optional[kind]), **data}


@then('the callbacks example printed one line per published event, ending with "{last}"')
def then_callbacks_output(context: Any, last: str) -> None:
    lines = _example_lines(context)
    assert len(lines) == len(context.example_events), str(context.example_run)
    for line, (kind, data) in zip(lines, context.example_events, strict=True):
        if kind == "step.status":
            assert line.startswith(f"step {data['index']} {data['name']}: {data['status']}"), line
        elif kind == "log":
            assert line == f"log [{data['level']}] {data['message']}", line
        elif kind == "plan.progress":
            assert line == f"progress {data['percent']:.0f}%", line
        else:
            assert line == f"plan {data['status']}", line
    assert lines[-1] == last


@then('the watch_state example printed the state after each event, ending with "{last}"')
def then_watch_state_output(context: Any, last: str) -> None:
    lines = _example_lines(context)
    seqs = [int(m.group(1)) for line in lines if (m := re.match(r"seq (\d+): ", line))]
    assert seqs == list(range(1, len(context.example_events) + 1)), str(context.example_run)
    assert lines[-2] == "seq 10: succeeded 100% [s1=succeeded s2=succeeded]", lines[-2]
    assert lines[-1] == last, lines


@given('the example "{script}" serves with "{flags}"')
def given_example_server(context: Any, script: str, flags: str) -> None:
    port = free_port()
    args = [sys.executable, script, "--port", str(port), *shlex.split(flags)]
    context.example_server = start_background(context, args, f"http://127.0.0.1:{port}/healthz")
    context.cli_server_port = port


@then("the JSON lines tell {steps:d} steps succeeding, then the plan succeeding at seq {seq:d}")
def then_orchestrator_events(context: Any, steps: int, seq: int) -> None:
    events = [json.loads(line) for line in context.cli.stdout.splitlines()]
    assert [event["seq"] for event in events] == list(range(1, seq + 1)), str(context.cli)
    succeeded = [
        event["data"]["step_id"]
        for event in events
        if event["kind"] == "step.status" and event["data"]["status"] == "succeeded"
    ]
    assert len(succeeded) == steps, succeeded
    assert events[-1]["kind"] == "plan.status", events[-1]
    assert events[-1]["data"]["status"] == "succeeded", events[-1]


@when("the example server is stopped with SIGTERM")
def when_example_server_stopped(context: Any) -> None:
    context.example_server_status = context.example_server.stop()


@then('the example server exited with status {status:d} after printing "{text}"')
def then_example_server_exit(context: Any, status: int, text: str) -> None:
    server = context.example_server
    assert context.example_server_status == status, (server.stdout, server.stderr)
    assert text in server.stdout, server.stdout
