"""Steps of server_hostile_http.feature: hostile requests over real loopback sockets.

The server is the embedded reference server (``context.server``); answers are
checked against its :class:`ServerState`, the independent truth.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import httpx
from behave import given, then, when
from support.server_http_client import (
    LOG_EVENT,
    call,
    check_error,
    json_of,
    record_published,
    request,
    server_state,
)
from support.servers import on_cleanup, run

from planstream.schema.snapshot import PlanSnapshot
from planstream.server import MemoryEventLog, PlanStreamServer, ServerSettings

_RESYNC_REASONS = {"unknown_event_id", "stream_reset", "history_expired"}


def _expand(context: Any, path: str) -> str:
    """``{prefix}``: plan "target"'s event 1 id without its seq; ``{N digits}``, ``{N x}``."""
    if "{prefix}" in path:
        (first,) = [eid for seq, eid in context.published["target"] if seq == 1]
        path = path.replace("{prefix}", first.rpartition(".")[0])
    path = re.sub(r"\{(\d+) digits\}", lambda m: "9" * int(m.group(1)), path)
    return re.sub(r"\{(\d+) x\}", lambda m: "x" * int(m.group(1)), path)


@then("these hostile HTTP requests get these JSON answers:")
def then_hostile_requests(context: Any) -> None:
    for row in context.table:
        path = _expand(context, row["path"])
        kwargs: dict[str, Any] = {"json": LOG_EVENT} if row["method"] == "POST" else {}
        response = call(context, row["method"], path, **kwargs)
        status, answer = int(row["status"]), row["answer"]
        where = f"{row['method']} {row['path']}"
        if answer in _RESYNC_REASONS:
            assert response.status_code == status, (where, response.status_code, response.text)
            body = json_of(response)
            assert body["resync"]["reason"] == answer, (where, body)
            assert body["events"] == [], (where, body)
        else:
            try:
                check_error(response, status, answer)
            except AssertionError as exc:
                raise AssertionError(f"{where}: {exc}") from None


@then('the HTTP plan list is just "{plan_id}"')
def then_plan_list_just(context: Any, plan_id: str) -> None:
    body = json_of(call(context, "GET", "/v1/plans"))
    assert [plan["plan_id"] for plan in body["plans"]] == [plan_id], body
    assert body["next_cursor"] is None, body


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
    settings = ServerSettings(port=0, plan_ttl=ttl)
    server = PlanStreamServer(settings, log=_FailingLog(plan_id))
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.server = server
    context.published = {}
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
    server = PlanStreamServer(ServerSettings(port=0), log=_ReopeningLog())
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.server = server
    context.published = {}


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


# --- item 5: closed streams, consistency, rate limits ----------------------------------


@when('{count:d} publishers POST a log line and "succeeded" to plan "{plan_id}" at once')
def when_racing_publishers(context: Any, count: int, plan_id: str) -> None:
    body = [LOG_EVENT, {"kind": "plan.status", "data": {"status": "succeeded"}}]

    async def race() -> list[httpx.Response]:
        posts = [
            request(context, "POST", f"/v1/plans/{plan_id}/events", json=body) for _ in range(count)
        ]
        return list(await asyncio.gather(*posts))

    context.answers = run(context, race())
    for response in context.answers:
        record_published(context, plan_id, response)


@then('exactly 1 of those publishes got 201 and the other {others:d} got 409 "conflict"')
def then_one_winner(context: Any, others: int) -> None:
    statuses = sorted(response.status_code for response in context.answers)
    assert statuses == [201] + [409] * others, statuses
    for response in context.answers:
        if response.status_code == 409:
            check_error(response, 409, "conflict", "has ended with status succeeded")


@when(
    'the publisher with token "{token}" POSTs {count:d} log events to plan "{plan_id}",'
    " one request each"
)
def when_token_publishes(context: Any, token: str, count: int, plan_id: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    context.answers = [
        call(context, "POST", f"/v1/plans/{plan_id}/events", json=LOG_EVENT, headers=headers)
        for _ in range(count)
    ]


@then(
    "the first {allowed:d} of those got 201 and the other {refused:d} got 429"
    ' "rate_limited" with a Retry-After of at least 1 second'
)
def then_rate_limited(context: Any, allowed: int, refused: int) -> None:
    statuses = [response.status_code for response in context.answers]
    assert statuses == [201] * allowed + [429] * refused, statuses
    for response in context.answers[allowed:]:
        check_error(response, 429, "rate_limited", "publish requests per second")
        retry_after = response.headers["retry-after"]
        assert retry_after.isdigit(), retry_after
        assert int(retry_after) >= 1, retry_after


@then("the server keeps {count:d} publish rate buckets, holding no token")
def then_rate_buckets(context: Any, count: int) -> None:
    limiter = server_state(context).publish_limiter
    assert len(limiter) == count, limiter
    assert "pub-" not in repr(limiter), repr(limiter)
    assert all(b"pub-" not in key for key in limiter._buckets), "a token is kept"


@given(
    "a publish rate limiter of {rate:g} per second, burst {burst:d}, for at most {most:d} tokens"
)
def given_rate_limiter(context: Any, rate: float, burst: int, most: int) -> None:
    # Imported here so that the other scenarios run (and fail) on code without it.
    from planstream.server.publish_rate import PublishRateLimiter

    context.limiter = PublishRateLimiter(rate, burst, max_tokens=most)


@when('token "{token}" publishes {count:d} times at second {now:g}')
def when_limiter_takes(context: Any, token: str, count: int, now: float) -> None:
    context.waits = [context.limiter.take(token, now) for _ in range(count)]


@then("the last of those waits {wait:g} seconds")
def then_limiter_wait(context: Any, wait: float) -> None:
    assert abs(context.waits[-1] - wait) < 1e-9, context.waits


@then("the limiter keeps {count:d} buckets")
def then_limiter_size(context: Any, count: int) -> None:
    assert len(context.limiter) == count, context.limiter


# --- item 6: eviction and pagination -----------------------------------------------------


@then('within {seconds:g} seconds the snapshot of plan "{plan_id}" is a 404 "not_found"')
def then_evicted_within(context: Any, seconds: float, plan_id: str) -> None:
    async def wait_for_404() -> httpx.Response:
        deadline = time.monotonic() + seconds
        while True:
            response = await request(context, "GET", f"/v1/plans/{plan_id}")
            if response.status_code == 404 or time.monotonic() > deadline:
                return response
            await asyncio.sleep(0.05)

    response = run(context, wait_for_404(), timeout=seconds + 5)
    check_error(response, 404, "not_found", plan_id)


@then("the server has evicted {count:d} plans and waits for no other deadline")
def then_expiry_idle(context: Any, count: int) -> None:
    expiry = server_state(context).plan_expiry
    assert expiry.evicted == count, expiry
    assert repr(expiry) == "PlanExpiry(ttl=0.3, pending=0)", repr(expiry)


@then('the new event 1 of plan "{plan_id}" has an id the evicted stream never had')
def then_new_stream_ids(context: Any, plan_id: str) -> None:
    published = context.published[plan_id]
    old_ids = {event_id for _, event_id in published[:-1]}
    seq, new_id = published[-1]
    assert seq == 1, published
    assert new_id not in old_ids, published


@given('{count:d} plans "page-1" to "page-{last:d}" have one event each')
def given_many_plans(context: Any, count: int, last: int) -> None:
    assert count == last

    async def publish() -> None:
        for number in range(1, count + 1):
            await context.server.publish(f"page-{number}", "log", LOG_EVENT["data"])

    run(context, publish())


def _page(context: Any, limit: int, cursor: str | None) -> dict[str, Any]:
    params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    response = call(context, "GET", "/v1/plans", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = json_of(response)
    assert set(body) == {"plans", "next_cursor"}, body
    return body


@when(
    "the plan list is walked {limit:d} plans a page; after the first page plan"
    ' "{new}" is created and plan "{ending}" finishes and is evicted'
)
def when_walk_pages(context: Any, limit: int, new: str, ending: str) -> None:
    pages = [_page(context, limit, None)]
    status = {"status": "succeeded", "reason": None}
    run(context, context.server.publish(new, "log", LOG_EVENT["data"]))
    run(context, context.server.publish(ending, "plan.status", status))
    then_evicted_within(context, 10, ending)
    while pages[-1]["next_cursor"] is not None:
        pages.append(_page(context, limit, pages[-1]["next_cursor"]))
    context.pages = pages


@then("the walk saw {count:d} pages with a next_cursor on all but the last")
def then_walk_pages(context: Any, count: int) -> None:
    cursors = [page["next_cursor"] for page in context.pages]
    assert len(cursors) == count, cursors
    assert all(isinstance(cursor, str) for cursor in cursors[:-1]), cursors
    assert cursors[-1] is None, cursors


@then(
    'the walk listed the plans "page-1" to "page-{last:d}" but "{missing}", then "{new}", each once'
)
def then_walk_listed(context: Any, last: int, missing: str, new: str) -> None:
    listed = [plan["plan_id"] for page in context.pages for plan in page["plans"]]
    expected = [f"page-{n}" for n in range(1, last + 1) if f"page-{n}" != missing] + [new]
    assert listed == expected, listed


@then("the HTTP plan list has {count:d} plans and a next_cursor")
def then_default_page(context: Any, count: int) -> None:
    assert len(context.plan_list["plans"]) == count, len(context.plan_list["plans"])
    assert isinstance(context.plan_list["next_cursor"], str), context.plan_list["next_cursor"]


@then("the planstream plans table lists {count:d} plans")
def then_cli_lists(context: Any, count: int) -> None:
    rows = {
        line.split()[0]
        for line in context.cli.stdout.splitlines()
        if line.split() and line.split()[0].startswith("page-")
    }
    assert len(rows) == count, str(context.cli)
