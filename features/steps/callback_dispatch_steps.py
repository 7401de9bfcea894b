"""Steps of callback_dispatch.feature: typed callbacks against the reference server."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from behave import given, then, when
from support.callback_support import (
    describe,
    load_typed_usage,
    program_path,
    refusing_handler,
    seen,
    start_client,
    start_run,
)
from support.cli_support import run_command
from support.client_api_support import WAIT, until
from support.servers import on_cleanup, run, start_reference_server

from planstream import (
    Event,
    InvalidCallbackError,
    LogEvent,
    PlanStreamClient,
    PlanStreamError,
    StepStatusEvent,
)

# --- the server and its plans ---------------------------------------------------------


@given("a callback reference server")
@given(
    "a callback reference server keeping {retention:d} events per plan and accepting unknown kinds"
)
def step_server(context: Any, retention: int | None = None) -> None:
    if retention is None:
        start_reference_server(context)
    else:
        start_reference_server(context, retention=retention, allow_unknown_kinds=True)


def _log(number: int) -> dict[str, Any]:
    return {"level": "info", "message": f"line {number}", "step_id": None, "stream": "stdout"}


@given('the callback server published {count:d} log events to plan "{plan_id:ApiText}"')
@given(
    'the callback server published {count:d} log events and a "{status:ApiText}" status '
    'to plan "{plan_id:ApiText}"'
)
def step_publish_logs(context: Any, count: int, plan_id: str, status: str | None = None) -> None:
    events = [("log", _log(number)) for number in range(count)]
    if status is not None:
        events.append(("plan.status", {"status": status}))
    for kind, data in events:
        run(context, context.server.publish(plan_id, kind, data))


@when(
    'the callback server publishes one event of each kind to plan "{plan_id:ApiText}", '
    'ending with "{status:ApiText}"'
)
def step_publish_each_kind(context: Any, plan_id: str, status: str) -> None:
    step = {"step_id": "s1", "index": 0, "name": "build", "status": "succeeded"}
    progress = {"completed_steps": 1, "total_steps": 1, "percent": 100.0}
    events = [
        ("plan.status", {"status": "running"}),
        ("step.status", step),
        ("plan.progress", progress),
        ("log", _log(13)),
        ("artifact.ready", {"name": "wheel"}),  # a kind newer than this client
        ("plan.status", {"status": status}),
    ]
    for kind, data in events:
        run(context, context.server.publish(plan_id, kind, data))


# --- clients and runs -------------------------------------------------------------------


@when(
    "a callback client registers the handlers of features/typing/typed_usage.py "
    'and runs plan "{plan_id:ApiText}"'
)
def step_typed_usage(context: Any, plan_id: str) -> None:
    client = start_client(context)
    typed_usage = load_typed_usage()
    typed_usage.register(client, seen(context))
    for name in ("resynced", "any_event", "report", "removed"):
        seen(context).setdefault(name, [])
    start_run(context, plan_id)


@when('the callback handler "{name:ApiText}" has received an item')
def step_wait_item(context: Any, name: str) -> None:
    run(context, until(lambda: bool(context.cb_seen[name]), f"{name} to receive an item"))


def _hook(context: Any, name: str) -> Any:
    calls = seen(context).setdefault(name, [])

    def plain(error: Exception, item: Any) -> None:
        calls.append((error, item))

    return plain


@when(
    "a callback client with a plain on_error hook given to the constructor and a coroutine "
    'hook added with on_error runs plan "{plan_id:ApiText}" with a handler raising on every LogEvent'
)
def step_run_with_hooks(context: Any, plan_id: str) -> None:
    client = start_client(context, on_error=_hook(context, "plain"))
    coroutine_seen = seen(context).setdefault("coroutine", [])

    @client.on_error
    async def record(error: Exception, item: Any) -> None:
        await asyncio.sleep(0)
        coroutine_seen.append((error, item))

    _run_refusing(context, client, plan_id)


@when(
    'a callback client with an on_error hook raising and a plain one after it runs plan "{plan_id:ApiText}" '
    "with a handler raising on every LogEvent"
)
def step_run_with_raising_hook(context: Any, plan_id: str) -> None:
    def explode(error: Exception, item: Any) -> None:
        raise ValueError(f"the hook broke on {describe(item)}")

    client = start_client(context, on_error=explode)
    client.on_error(_hook(context, "plain"))
    _run_refusing(context, client, plan_id)


def _run_refusing(context: Any, client: PlanStreamClient, plan_id: str) -> None:
    everything = seen(context).setdefault("everything", [])
    client.on(LogEvent, refusing_handler())
    client.on_any(everything.append)
    start_run(context, plan_id)


@given("the application set the planstream.client logger to CRITICAL")
def step_silence(context: Any) -> None:
    log = logging.getLogger("planstream.client")
    level = log.level
    log.setLevel(logging.CRITICAL)

    async def restore() -> None:
        log.setLevel(level)

    on_cleanup(context, restore)


@then('the callback run of plan "{plan_id:ApiText}" completed without an error')
def step_run_completed(context: Any, plan_id: str) -> None:
    run(context, until(context.cb_run.done, "the run to complete"), WAIT + 5)
    assert context.cb_run.exception() is None, context.cb_run.exception()


# --- what the handlers and hooks received ---------------------------------------------------


@then("the callback handlers received")
@then("the callback handlers received:")
def step_handlers_received(context: Any) -> None:
    for row in context.table:
        expected = [item.strip() for item in row["items"].split(",") if item.strip()]
        got = [describe(item) for item in context.cb_seen[row["handler"]]]
        assert got == expected, (row["handler"], got)


@then('the callback handler "{name:ApiText}" received seq {seqs}')
def step_handler_seqs(context: Any, name: str, seqs: str) -> None:
    got = [item.seq for item in context.cb_seen[name]]
    assert got == [int(seq) for seq in seqs.split(",")], got


@then("the callback client counted {count:d} callback errors")
def step_counted(context: Any, count: int) -> None:
    assert context.cb_client.stats.callback_errors == count, context.cb_client.stats


def _error_records(context: Any) -> list[logging.LogRecord]:
    return [
        record
        for record in context.cb_logs.records
        if record.name == "planstream.client" and record.levelno == logging.ERROR
    ]


@then(
    "the callback log holds {count:d} ERROR records of planstream.client, each with the "
    'RuntimeError\'s traceback, naming the handler "{handler:ApiText}" and the seq {seqs}'
)
def step_logged(context: Any, count: int, handler: str, seqs: str) -> None:
    records = _error_records(context)
    assert len(records) == count, [r.getMessage() for r in records]
    for record, seq in zip(records, seqs.split(", "), strict=True):
        message = record.getMessage()
        assert handler in message, message
        assert f"event seq {seq} of plan 'p'" in message, message
        assert record.exc_info is not None, record
        assert record.exc_info[0] is RuntimeError, record.exc_info
        assert str(record.exc_info[1]) == f"refused log seq {seq}", record.exc_info
        assert record.exc_text is None or "refuse_logs" in record.exc_text
        context.cb_logged = [*getattr(context, "cb_logged", []), record.exc_info[1]]


@then(
    'the callback log holds {count:d} ERROR records naming the on_error hook "{hook:ApiText}" '
    'and the handler "{handler:ApiText}", each with the hook\'s ValueError traceback'
)
def step_hook_logged(context: Any, count: int, hook: str, handler: str) -> None:
    records = [r for r in _error_records(context) if "on_error hook" in r.getMessage()]
    assert len(records) == count, [r.getMessage() for r in _error_records(context)]
    for record in records:
        assert hook in record.getMessage(), record.getMessage()
        assert handler in record.getMessage(), record.getMessage()
        assert record.exc_info is not None, record
        assert record.exc_info[0] is ValueError, record.exc_info


@then("the callback log holds no ERROR record of planstream.client")
def step_nothing_logged(context: Any) -> None:
    assert _error_records(context) == [], [r.getMessage() for r in _error_records(context)]


@then(
    'the callback hooks "{first:ApiText}" and "{second:ApiText}" each received the logged '
    "exceptions with the LogEvents of seq {seqs}, in order"
)
def step_hooks_received(context: Any, first: str, second: str, seqs: str) -> None:
    logged = getattr(context, "cb_logged", None)
    for name in (first, second):
        calls = context.cb_seen[name]
        assert [describe(item) for _, item in calls] == [
            f"LogEvent@{seq}" for seq in seqs.split(", ")
        ], calls
        assert all(isinstance(error, RuntimeError) for error, _ in calls), calls
        if logged is not None:  # the very exceptions the log holds
            assert [error for error, _ in calls] == logged, (calls, logged)


@then('the callback hook "{name:ApiText}" received the LogEvents of seq {seqs}')
def step_hook_received(context: Any, name: str, seqs: str) -> None:
    got = [describe(item) for _, item in context.cb_seen[name]]
    assert got == [f"LogEvent@{seq}" for seq in seqs.split(", ")], got


# --- refused registrations -----------------------------------------------------------------

_TARGETS: dict[str, object] = {
    "None": None,
    "the class int": int,
    "the number 123": 123,
    "the union StepStatusEvent | LogEvent": StepStatusEvent | LogEvent,
    "the alias Event": Event,
}


def _target(text: str) -> object:
    if text.startswith('the kind "'):
        return text.removeprefix('the kind "').removesuffix('"')
    return _TARGETS[text]


def _refusal(register: Any) -> InvalidCallbackError:
    refused: InvalidCallbackError | None = None
    try:
        register()
    except InvalidCallbackError as error:
        refused = error
    assert refused is not None, "the registration was accepted"
    assert isinstance(refused, TypeError), type(refused).__mro__
    assert isinstance(refused, PlanStreamError), type(refused).__mro__
    return refused


@given("a callback client that is not connected")
def step_idle_client(context: Any) -> None:
    context.cb_client = PlanStreamClient("ws://127.0.0.1:9/v1/stream")


@then(
    "registering a handler for {target} raises InvalidCallbackError, a TypeError, "
    'mentioning "{text:ApiText}"'
)
def step_refused(context: Any, target: str, text: str) -> None:
    value = _target(target)
    error = _refusal(lambda: context.cb_client.on(value, print))
    assert text in str(error), str(error)
    assert error.target is value or error.target == value, error.target
    context.cb_refusal = str(error)


@then(
    "registering a handler for {target} with the decorator form raises the same error "
    "before any function is given"
)
def step_refused_decorator(context: Any, target: str) -> None:
    error = _refusal(lambda: context.cb_client.on(_target(target)))
    assert str(error) == context.cb_refusal, (str(error), context.cb_refusal)


_METHODS: dict[str, Any] = {
    "on(LogEvent, handler)": lambda client, value: client.on(LogEvent, value),
    "on(LogEvent)(handler)": lambda client, value: client.on(LogEvent)(value),
    "on_any(handler)": lambda client, value: client.on_any(value),
    "on_error(hook)": lambda client, value: client.on_error(value),
    "PlanStreamClient(on_error=)": lambda client, value: PlanStreamClient(
        "ws://127.0.0.1:9/v1/stream", on_error=value
    ),
}


@then(
    'registering the string "{value:ApiText}" with {method} raises InvalidCallbackError, '
    'a TypeError, mentioning "{text:ApiText}"'
)
def step_not_callable(context: Any, value: str, method: str, text: str) -> None:
    error = _refusal(lambda: _METHODS[method](context.cb_client, value))
    assert text in str(error), str(error)
    assert error.target == value, error.target


@then("the callback client has no handler registered")
def step_nothing_registered(context: Any) -> None:
    registry = context.cb_client._callbacks  # what run() would dispatch to
    assert len(registry) == 0, len(registry)
    assert registry._error_hooks == [], registry._error_hooks


# --- a program of its own --------------------------------------------------------------------

_SETUPS = {
    "no logging configured and no on_error hook": "bare",
    "logging configured to print on stdout": "logging",
    "logging configured but the planstream logger not propagating": "not-propagating",
    "an on_error hook and no logging configured": "hook",
    "logging.lastResort set to None": "no-last-resort",
}


@when(
    'a program with {setup} runs plan "{plan_id:ApiText}" with a handler raising on every LogEvent'
)
def step_program(context: Any, setup: str, plan_id: str) -> None:
    context.cb_program = run_command(
        context, sys.executable, str(program_path()), context.server.url, plan_id, _SETUPS[setup]
    )


@then("the program exited 0 after its every-item handler received {count:d} items")
def step_program_exit(context: Any, count: int) -> None:
    result = context.cb_program
    assert result.returncode == 0, str(result)
    assert result.stdout.splitlines()[-1] == f"delivered {count}", str(result)


def _tracebacks(text: str) -> int:
    """Tracebacks of the program's handler: each names it and ends with its error."""
    return text.count("RuntimeError: refused log seq")


@then("the program's stderr holds {count:d} tracebacks of the handler's RuntimeError")
def step_program_stderr(context: Any, count: int) -> None:
    result = context.cb_program
    assert _tracebacks(result.stderr) == count, str(result)
    assert result.stderr.count("Traceback (most recent call last)") == count, str(result)
    if count:
        first = (
            "planstream.client: callback main.<locals>.refuse_logs raised on event seq 1 "
            "of plan 'p' (on stderr: no logging handler takes planstream records and no on_error hook"
        )
        assert first in result.stderr, str(result)


@then(
    "the program's stdout holds {count:d} tracebacks of the handler's RuntimeError "
    "and {hooks:d} lines of its on_error hook"
)
def step_program_stdout(context: Any, count: int, hooks: int) -> None:
    result = context.cb_program
    assert _tracebacks(result.stdout) == count, str(result)
    assert result.stdout.count("HOOK RuntimeError on LogEvent") == hooks, str(result)
    if count:
        assert "LOGGED ERROR planstream.client callback" in result.stdout, str(result)
