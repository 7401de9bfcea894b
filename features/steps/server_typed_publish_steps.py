"""Steps of features/server_typed_publish.feature: publishing the typed data models.

The server is the scenario's embedded reference server; the subscriber is the
SDK's client over a real WebSocket; mypy runs for real on the programs the
feature shows, with the project's configuration (the pydantic plugin).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when
from support.cli_support import ROOT, cli_env
from support.servers import on_cleanup, run

from planstream import (
    LogData,
    LogLevel,
    LogStream,
    PlanProgressData,
    PlanStatus,
    PlanStatusData,
    PlanStreamClient,
    StepStatus,
    StepStatusData,
)
from planstream.schema.event_data import EventData
from planstream.server import PublishError

_PLAN: list[EventData] = [
    PlanStatusData(status=PlanStatus.RUNNING),
    StepStatusData(step_id="build", index=1, name="Build", status=StepStatus.RUNNING),
    LogData(level=LogLevel.INFO, message="compiling", step_id="build", stream=LogStream.STDOUT),
    PlanProgressData(completed_steps=1, total_steps=1, percent=100.0, message="built"),
    PlanStatusData(status=PlanStatus.SUCCEEDED),
]


@when(
    'the reference server publishes to plan "{plan_id}" the data models'
    " of a plan that runs one step and succeeds"
)
def when_publish_models(context: Any, plan_id: str) -> None:
    async def publish() -> list[int]:
        return [(await context.server.publish(plan_id, data)).seq for data in _PLAN]

    assert run(context, publish()) == [1, 2, 3, 4, 5]


@then(
    'an SDK subscriber of plan "{plan_id}" receives the kinds "{kinds}" at seqs {first:d} to {last:d}'
)
def then_subscriber_kinds(context: Any, plan_id: str, kinds: str, first: int, last: int) -> None:
    async def collect() -> list[Any]:
        async with PlanStreamClient(context.server.url) as client:
            return [item async for item in client.subscribe(plan_id)]  # ends at the terminal status

    context.typed_received = run(context, collect())
    received = context.typed_received
    assert [event.kind for event in received] == kinds.split(", "), received
    assert [event.seq for event in received] == list(range(first, last + 1)), received


@then("each event it received carries the data model that was published")
def then_same_models(context: Any) -> None:
    received = [event.data for event in context.typed_received]
    assert received == _PLAN, received


def _log(message: str) -> LogData:
    return LogData(level=LogLevel.INFO, message=message, stream=LogStream.STDOUT)


@when(
    'the server state publishes a LogData "{message}" to plan "{plan_id}"'
    ' with the idempotency key "{key}"'
)
def when_state_publishes_model(context: Any, message: str, plan_id: str, key: str) -> None:
    state = context.server.state
    stored = run(context, state.publish(plan_id, _log(message), idempotency_key=key))
    context.typed_stored = [*getattr(context, "typed_stored", []), stored]


@when(
    'the server state publishes the log "{message}" as a mapping to plan "{plan_id}"'
    ' with the idempotency key "{key}"'
)
def when_state_publishes_mapping(context: Any, message: str, plan_id: str, key: str) -> None:
    data = {"level": "info", "message": message, "stream": "stdout"}
    state = context.server.state
    stored = run(context, state.publish(plan_id, "log", data, idempotency_key=key))
    context.typed_stored = [*getattr(context, "typed_stored", []), stored]


@then("every one of those publishes returned the event at seq {seq:d}")
def then_same_event(context: Any, seq: int) -> None:
    stored = context.typed_stored
    assert len(stored) == 3, stored
    assert {event.seq for event in stored} == {seq}, stored
    assert len({event.event.event_id for event in stored}) == 1, stored


_WRONG: dict[str, tuple[Any, ...]] = {
    "a log as a mapping alone": ({"level": "info", "message": "x", "stream": "stdout"},),
    "a LogData and a mapping": (_log("x"), {"level": "info"}),
    'the kind "log" and a LogData': ("log", _log("x")),
    "the number 42": (42,),
}


@when('the reference server is asked to publish {arguments} to plan "{plan_id}"')
def when_publish_wrong(context: Any, arguments: str, plan_id: str) -> None:
    try:
        run(context, context.server.publish(plan_id, *_WRONG[arguments]))
    except PublishError as exc:
        context.typed_error = exc
    else:
        context.typed_error = None


@then('the publish raised a PublishError containing "{message}"')
def then_publish_error(context: Any, message: str) -> None:
    assert isinstance(context.typed_error, PublishError), context.typed_error
    assert message in str(context.typed_error), str(context.typed_error)


@given("a program using the embedded server")
def given_program(context: Any) -> None:
    folder = tempfile.TemporaryDirectory()

    async def remove() -> None:
        folder.cleanup()

    on_cleanup(context, remove)
    context.program = Path(folder.name) / "program.py"
    context.program.write_text(context.text + "\n")


@when("mypy --strict checks the program")
def when_mypy(context: Any) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / "build" / "mypy-features"),
            str(context.program),
        ],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    context.mypy = done


@then("mypy found no error in the program")
def then_mypy_clean(context: Any) -> None:
    assert context.mypy.returncode == 0, context.mypy.stdout + context.mypy.stderr


@then('mypy found an error on each line marked "# refused", and on no other line')
def then_mypy_refused(context: Any) -> None:
    output = context.mypy.stdout
    assert context.mypy.returncode == 1, output + context.mypy.stderr
    name = re.escape(context.program.name)
    flagged = {int(n) for n in re.findall(rf"{name}:(\d+): error:", output)}
    lines = context.program.read_text().splitlines()
    marked = {number for number, line in enumerate(lines, 1) if line.endswith("# refused")}
    assert len(marked) == 6, marked
    assert flagged == marked, f"marked {sorted(marked)}, flagged {sorted(flagged)}:\n{output}"


@then('the program runs and prints "{text}"')
def then_program_runs(context: Any, text: str) -> None:
    done = subprocess.run(
        [sys.executable, str(context.program)],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == text + "\n", done.stdout + done.stderr
