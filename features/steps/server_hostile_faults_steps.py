"""Steps of server_hostile_http.feature about faults of the server's own: an event
log that fails or lets a finished plan go on, half-sent bodies, and how
little the server logs about them."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from behave import given, then, when
from support.server_http_client import (
    LOG_EVENT,
    call,
    check_error,
    json_of,
)
from support.servers import on_cleanup, run, start_reference_server

from planstream.schema.snapshot import PlanSnapshot
from planstream.server import MemoryEventLog

# --- a fault of the server's own --------------------------------------------------------


class _FailingLog(MemoryEventLog):
    """A log whose snapshot of one plan raises, as a broken storage would."""

    def __init__(self, failing_plan: str) -> None:
        super().__init__()
        self.failing_plan = failing_plan

    async def snapshot(self, plan_id: str) -> PlanSnapshot | None:
        if plan_id == self.failing_plan:
            raise RuntimeError("storage exploded")
        return await super().snapshot(plan_id)

    async def evict(self, plan_id: str, head_event_id: str) -> bool:
        if plan_id == self.failing_plan:
            raise RuntimeError("storage exploded")
        return await super().evict(plan_id, head_event_id)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@given(
    'a reference server whose event log fails to fold or evict plan "{plan_id}",'
    " with plan_ttl {ttl:g}"
)
def given_failing_server(context: Any, plan_id: str, ttl: float) -> None:
    server = start_reference_server(context, log=_FailingLog(plan_id), plan_ttl=ttl)
    handler = context.log_records = _Records()
    loggers = [logging.getLogger(name) for name in ("planstream.server", "uvicorn.error")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)  # whatever level the test run gave the root logger

    async def remove() -> None:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)

    on_cleanup(context, remove)
    run(context, server.publish("fine", "log", LOG_EVENT["data"]))


class _ReopeningLog(MemoryEventLog):
    """A log that lets a finished plan go on, as a server breaking protocol §6 would."""

    closes_finished_plans = False


@given("a reference server whose event log lets a finished plan go on")
def given_reopening_server(context: Any) -> None:
    # For client scenarios (follow=True) that need events after a terminal status.
    start_reference_server(context, log=_ReopeningLog())


@when('the snapshot of plan "{plan_id}" is fetched {count:d} times over HTTP')
def when_fetch_many(context: Any, plan_id: str, count: int) -> None:
    context.answers = [call(context, "GET", f"/v1/plans/{plan_id}") for _ in range(count)]


@then('every one of those answers is 503 "unavailable" with a Retry-After header')
def then_all_unavailable(context: Any) -> None:
    for response in context.answers:
        check_error(response, 503, "unavailable", "try again later")
        assert response.headers["retry-after"] == "1", response.headers


def _fault_lines(context: Any) -> list[str]:
    return [
        record.getMessage()
        for record in context.log_records.records
        if record.name == "planstream.server" and "failed:" in record.getMessage()
    ]


@then("the server logged at most {most:d} lines about it, counted the others, and no traceback")
def then_fault_lines(context: Any, most: int) -> None:
    lines = _fault_lines(context)
    assert 1 <= len(lines) <= most, lines
    for line in lines:
        assert line.startswith("GET /v1/plans/{plan_id} failed: RuntimeError at "), line
        assert "storage exploded" not in line, line  # no message: it may quote request data
    records = context.log_records.records
    assert not any(record.exc_info for record in records), "a traceback was logged"
    assert not any("Exception in ASGI" in record.getMessage() for record in records)
    faults = context.server.state.http_faults
    assert faults.total == len(context.answers), faults
    assert faults.suppressed == len(context.answers) - len(lines), faults
    assert repr(faults) == f"FaultLog(total={faults.total}, suppressed={faults.suppressed})"


@then("a second later one more failure logs a line counting the suppressed ones")
def then_suppressed_counted(context: Any) -> None:
    suppressed = context.server.state.http_faults.suppressed
    assert suppressed > 0, context.server.state.http_faults
    time.sleep(1.1)  # the fault log's bucket earns one line per second
    check_error(call(context, "GET", "/v1/plans/boom"), 503, "unavailable")
    assert _fault_lines(context)[-1].endswith(f"({suppressed} similar lines suppressed)")


@when(
    'a publisher declares a body of {declared:d} bytes for plan "{plan_id}",'
    " sends {sent:d} and hangs up"
)
def when_half_body(context: Any, declared: int, plan_id: str, sent: int) -> None:
    context.fault_lines_before = len(_fault_lines(context))
    port = context.server.port

    async def hang_up() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST /v1/plans/{plan_id}/events HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n".encode()
            + b"[" * sent
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        return await reader.read()

    run(context, hang_up())
    run(context, asyncio.sleep(0.2))  # let the server notice the disconnect


@then('the server logged no more fault lines and plan "{plan_id}" has head seq {seq:d} over HTTP')
def then_no_more_faults(context: Any, plan_id: str, seq: int) -> None:
    assert len(_fault_lines(context)) == context.fault_lines_before, _fault_lines(context)
    head = json_of(call(context, "GET", f"/v1/plans/{plan_id}"))["head"]
    assert head["seq"] == seq, head


@when('plans "{first}" and "{second}" finish')
def when_plans_finish(context: Any, first: str, second: str) -> None:
    for plan_id in (first, second):
        body = {"kind": "plan.status", "data": {"status": "succeeded"}}
        response = call(context, "POST", f"/v1/plans/{plan_id}/events", json=body)
        assert response.status_code == 201, response.text


@then('the server logged one line about failing to evict plan "{plan_id}"')
def then_eviction_failure_logged(context: Any, plan_id: str) -> None:
    lines = [
        record.getMessage()
        for record in context.log_records.records
        if record.getMessage().startswith("evicting plan")
    ]
    assert lines == [f"evicting plan {plan_id!r} failed: RuntimeError"], lines


@then('the snapshot of plan "{plan_id}" is still served')
def then_snapshot_served(context: Any, plan_id: str) -> None:
    response = call(context, "GET", f"/v1/plans/{plan_id}")
    assert response.status_code == 200, response.text
    assert json_of(response)["plan_id"] == plan_id
