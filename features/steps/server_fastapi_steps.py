"""Steps of features/server_fastapi_publish.feature: the FastAPI example, run for real.

The example runs in its own process on a free port (``start_background``);
its host routes are called over HTTP and an SDK client in the scenario's loop
subscribes to the mounted stream and collects what arrives.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
import sys
from typing import Any

import httpx
from behave import given, then, when
from support.cli_support import ROOT, cli_env, start_background
from support.servers import free_port, on_cleanup, run

from planstream import LogEvent, PlanStatusEvent, PlanStreamClient

#: Import the example as ``python examples/fastapi_mount.py`` would, with FastAPI absent.
_WITHOUT_FASTAPI = (
    "import runpy, sys; sys.modules['fastapi'] = None; "  # an import of it now fails
    "sys.argv = ['examples/fastapi_mount.py']; "
    "runpy.run_path('examples/fastapi_mount.py', run_name='__main__')"
)


@given('the example "{script}" runs on a free port with "{flags}"')
def given_fastapi_example(context: Any, script: str, flags: str) -> None:
    port = free_port()
    args = [sys.executable, script, "--port", str(port), *shlex.split(flags)]
    start_background(context, args, f"http://127.0.0.1:{port}/api/ping")
    context.fastapi_root = f"http://127.0.0.1:{port}"
    context.fastapi_answers = []


@given(
    'an SDK client with the token "{token}" subscribes to plan "{plan_id}"'
    ' at the example\'s "{path}"'
)
def given_sdk_subscriber(context: Any, token: str, plan_id: str, path: str) -> None:
    url = "ws" + context.fastapi_root.removeprefix("http") + path
    connected = asyncio.Event()

    async def collect() -> list[Any]:
        async with PlanStreamClient(url, token=token) as client:
            subscription = client.subscribe(plan_id)
            items = []
            connected.set()
            async for item in subscription:  # ends after the plan's terminal status
                items.append(item)
            return items

    task = context.loop.create_task(collect())

    async def cancel() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    on_cleanup(context, cancel)
    run(context, connected.wait())
    context.fastapi_subscriber = task


@when('the host route "{path}" is posted {body}')
def when_host_route_posted(context: Any, path: str, body: str) -> None:
    async def post() -> httpx.Response:
        async with httpx.AsyncClient(base_url=context.fastapi_root) as http:
            return await http.post(path, json=json.loads(body))

    context.fastapi_answers.append(run(context, post()))


@then("the host routes answered 200 with the seqs {first:d}, {second:d} and {third:d}")
def then_host_seqs(context: Any, first: int, second: int, third: int) -> None:
    answers = context.fastapi_answers
    assert [answer.status_code for answer in answers] == [200] * 3, [a.text for a in answers]
    assert [answer.json()["seq"] for answer in answers] == [first, second, third], answers


@then(
    'the SDK subscriber received the logs "{first}" ({first_level}) and "{second}"'
    ' ({second_level}), then the plan "{status}", and its stream ended'
)
def then_sdk_received(
    context: Any, first: str, first_level: str, second: str, second_level: str, status: str
) -> None:
    items = run(context, context.fastapi_subscriber, 15)
    answers = [answer.json() for answer in context.fastapi_answers]
    assert [item.event_id for item in items] == [answer["event_id"] for answer in answers], items
    logs, final = items[:2], items[2]
    assert all(isinstance(item, LogEvent) for item in logs), items
    assert [(item.data.message, item.data.level.value) for item in logs] == [
        (first, first_level),
        (second, second_level),
    ], logs
    assert isinstance(final, PlanStatusEvent), final
    assert final.data.status.value == status, final


@then('the host route answered {status:d} saying "{text}"')
def then_host_refused(context: Any, status: int, text: str) -> None:
    answer = context.fastapi_answers[-1]
    assert answer.status_code == status, answer.text
    assert text in answer.json()["detail"], answer.text


@when('the example "{script}" runs where FastAPI is not installed')
def when_example_without_fastapi(context: Any, script: str) -> None:
    assert script == "examples/fastapi_mount.py", script
    context.fastapi_run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_FASTAPI],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@then('the example exited with status {status:d} and printed only "{line}" on stderr')
def then_example_one_line(context: Any, status: int, line: str) -> None:
    done = context.fastapi_run
    assert done.returncode == status, done.stdout + done.stderr
    assert done.stdout == "", done.stdout
    assert done.stderr.splitlines() == [line], done.stderr
