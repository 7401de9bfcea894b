"""Steps of client_polling.feature: the client HTTP long-polling transport
against the real reference server on 127.0.0.1 (and, for answers a planstream
server never gives, a tiny real HTTP server started on 127.0.0.1).

Every step text contains "polling" so it never collides with other features'
steps. ``context.polling_result`` is the last :class:`PollResult`,
``context.polling_failure`` the last :class:`TransportFailedError`,
``context.polling_session_text`` the repr of the session that polled.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

from behave import given, then, when
from support.server_stream_support import log_data, published_id
from support.servers import free_port, on_cleanup, run

from planstream.close_codes import VerdictKind
from planstream.schema.events import LogEvent
from planstream.schema.frames import ResyncReason
from planstream.transport import TransportFailedError
from planstream.transport.polling import PollingSession, PollResult, http_base_url

#: The ``wait`` of polls that expect an immediate answer.
_NO_WAIT = 0.0


async def _poll(
    base_url: str,
    plan_id: str,
    *,
    after: str | None,
    wait: float = _NO_WAIT,
    limit: int = 500,
    token: str | None = None,
    has_token_provider: bool = False,
) -> tuple[PollResult | None, TransportFailedError | None, str]:
    async with PollingSession(
        base_url, token=token, has_token_provider=has_token_provider, request_timeout=5.0
    ) as session:
        text = repr(session)
        try:
            result = await session.poll(plan_id, after=after, wait=wait, limit=limit)
        except TransportFailedError as exc:
            return None, exc, text
        return result, None, text


def _do_poll(context: Any, base_url: str, plan_id: str, **kwargs: Any) -> None:
    started = time.monotonic()
    result, failure, text = run(context, _poll(base_url, plan_id, **kwargs))
    context.polling_elapsed = time.monotonic() - started
    context.polling_result = result
    context.polling_failure = failure
    context.polling_session_text = text


def _result(context: Any) -> PollResult:
    result = getattr(context, "polling_result", None)
    if result is None:
        raise AssertionError(f"the poll failed: {getattr(context, 'polling_failure', None)!r}")
    assert isinstance(result, PollResult), result
    return result


def _failure(context: Any) -> TransportFailedError:
    failure = getattr(context, "polling_failure", None)
    if failure is None:
        raise AssertionError(f"the poll did not fail: {context.polling_result!r}")
    assert isinstance(failure, TransportFailedError), failure
    return failure


# --- http_base_url -----------------------------------------------------------------


@then('the polling base of "{stream_url}" is "{base_url}"')
def step_polling_base(context: Any, stream_url: str, base_url: str) -> None:
    assert http_base_url(stream_url) == base_url, (http_base_url(stream_url), base_url)


# --- polling the reference server ----------------------------------------------------


@when('3 polling log events are published to plan "{plan_id}"')
def step_polling_publish(context: Any, plan_id: str) -> None:
    async def publish() -> list[tuple[int, str]]:
        appended = []
        for number in range(3):
            stored = await context.server.publish(plan_id, "log", log_data(number))
            appended.append((stored.seq, stored.event.event_id))
        return appended

    context.published.setdefault(plan_id, []).extend(run(context, publish()))


@when('the polling client polls plan "{plan_id}" from the start')
@when('the polling client polls plan "{plan_id}" from the start with limit {limit:d}')
@when('the polling client polls plan "{plan_id}" with no token')
@when('the polling client polls plan "{plan_id}" with the token "{token}"')
def step_polling_from_start(context: Any, plan_id: str, **options: Any) -> None:
    _do_poll(context, context.server.http_url, plan_id, after=None, **options)


@when('the polling client polls plan "{plan_id}" after its event with seq {seq:d}')
def step_polling_after_seq(context: Any, plan_id: str, seq: int) -> None:
    after = published_id(context, plan_id, seq)
    _do_poll(context, context.server.http_url, plan_id, after=after)


@when(
    'the polling client polls plan "{plan_id}" after its event with seq {seq:d} with limit {limit:d}'
)
def step_polling_after_seq_limit(context: Any, plan_id: str, seq: int, limit: int) -> None:
    after = published_id(context, plan_id, seq)
    _do_poll(context, context.server.http_url, plan_id, after=after, limit=limit)


@when('the polling client polls plan "{plan_id}" after the event id "{event_id}"')
def step_polling_after_id(context: Any, plan_id: str, event_id: str) -> None:
    _do_poll(context, context.server.http_url, plan_id, after=event_id)


@when(
    'the polling client waits up to {wait:g} s after seq {seq:d} of plan "{plan_id}"'
    " while an event is published {delay:g} s later"
)
def step_polling_long_poll_publish(
    context: Any, wait: float, seq: int, plan_id: str, delay: float
) -> None:
    after = published_id(context, plan_id, seq)

    async def publish_later() -> None:
        await asyncio.sleep(delay)
        stored = await context.server.publish(plan_id, "log", log_data(seq))
        context.published[plan_id].append((stored.seq, stored.event.event_id))

    async def both() -> tuple[PollResult | None, TransportFailedError | None, str]:
        publisher = asyncio.create_task(publish_later())
        try:
            return await _poll(context.server.http_url, plan_id, after=after, wait=wait)
        finally:
            await publisher

    started = time.monotonic()
    result, failure, text = run(context, both())
    context.polling_elapsed = time.monotonic() - started
    context.polling_result, context.polling_failure = result, failure
    context.polling_session_text = text


@when('the polling client waits up to {wait:g} s after seq {seq:d} of plan "{plan_id}"')
def step_polling_long_poll_nothing(context: Any, wait: float, seq: int, plan_id: str) -> None:
    after = published_id(context, plan_id, seq)
    _do_poll(context, context.server.http_url, plan_id, after=after, wait=wait)


@when('the polling client with a token provider polls plan "{plan_id}" with the token "{token}"')
def step_polling_with_provider(context: Any, plan_id: str, token: str) -> None:
    _do_poll(
        context,
        context.server.http_url,
        plan_id,
        after=None,
        token=token,
        has_token_provider=True,
    )


@when("the polling client polls a free port where nothing listens")
def step_polling_nothing_listens(context: Any) -> None:
    _do_poll(context, f"http://127.0.0.1:{free_port()}", "p", after=None)


# --- a tiny real HTTP server for answers the reference server never gives ------------


def _start_fake(context: Any, status: int, body: bytes, headers: dict[str, str]) -> None:
    reasons = {200: "OK", 502: "Bad Gateway", 503: "Service Unavailable"}
    head = f"HTTP/1.1 {status} {reasons.get(status, 'Other')}\r\n"
    for name, value in {
        "Content-Length": str(len(body)),
        "Connection": "close",
        **headers,
    }.items():
        head += f"{name}: {value}\r\n"
    answer = head.encode() + b"\r\n" + body
    context.polling_fake_requests = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            context.polling_fake_requests.append(request.decode("latin-1"))
            writer.write(answer)
            await writer.drain()
        finally:
            writer.close()

    server = run(context, asyncio.start_server(handle, "127.0.0.1", 0))

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    on_cleanup(context, stop)
    port = server.sockets[0].getsockname()[1]
    context.polling_fake_url = f"http://127.0.0.1:{port}"


@given('a polling fake HTTP server answering {status:d} with the body "{body}"')
def step_polling_fake(context: Any, status: int, body: str) -> None:
    headers = {"Retry-After": "7"} if status == 503 else {}
    if body.startswith("{"):
        headers["Content-Type"] = "application/json"
    _start_fake(context, status, body.replace('\\"', '"').encode(), headers)


@given('a polling fake HTTP server answering 200 with an empty poll and the interval "{header}"')
def step_polling_fake_interval(context: Any, header: str) -> None:
    body = json.dumps({"plan_id": "p", "events": [], "head": None, "resync": None}).encode()
    headers = {"Content-Type": "application/json"}
    if header != "none":
        headers["X-Poll-Interval"] = header
    _start_fake(context, 200, body, headers)


@when("the polling client polls the fake server")
def step_polling_fake_poll(context: Any) -> None:
    _do_poll(context, context.polling_fake_url, "p", after=None)
    requests = context.polling_fake_requests
    assert len(requests) == 1, requests
    assert requests[0].startswith("GET /v1/plans/p/events?"), requests[0]


# --- outcomes ------------------------------------------------------------------------


@then('the polling answer holds the events of plan "{plan_id}" from seq {first:d} to {last:d}')
def step_polling_events(context: Any, plan_id: str, first: int, last: int) -> None:
    response = _result(context).response
    assert response.resync is None, response.resync
    assert response.plan_id == plan_id, response.plan_id
    expected = [
        (seq, event_id) for seq, event_id in context.published[plan_id] if first <= seq <= last
    ]
    assert len(expected) == last - first + 1, expected
    got = [(event.seq, event.event_id) for event in response.events]
    assert got == expected, (got, expected)
    for event in response.events:
        assert isinstance(event, LogEvent), type(event)
        assert event.plan_id == plan_id, event.plan_id
        assert event.data.message.startswith("line "), event.data


@then("the polling answer holds no events")
def step_polling_no_events(context: Any) -> None:
    response = _result(context).response
    assert response.events == (), response.events
    assert response.resync is None, response.resync


@then('the polling head is the event of plan "{plan_id}" with seq {seq:d}')
def step_polling_head(context: Any, plan_id: str, seq: int) -> None:
    head = _result(context).response.head
    assert head is not None
    assert (head.seq, head.event_id) == (seq, published_id(context, plan_id, seq)), head


@then('the polling answer is for plan "{plan_id}"')
def step_polling_plan(context: Any, plan_id: str) -> None:
    assert _result(context).response.plan_id == plan_id, _result(context).response.plan_id


@then("the polling request took between {low:g} and {high:g} s")
def step_polling_elapsed(context: Any, low: float, high: float) -> None:
    assert low <= context.polling_elapsed < high, context.polling_elapsed


@then("the polling interval is {interval:g}")
def step_polling_interval(context: Any, interval: float) -> None:
    got = _result(context).poll_interval
    assert math.isclose(got, interval), (got, interval)


@then('the polling answer is a resync "{reason}" at seq {seq:d} of plan "{plan_id}"')
def step_polling_resync(context: Any, reason: str, seq: int, plan_id: str) -> None:
    response = _result(context).response
    assert response.resync is not None, response
    assert response.resync.reason == ResyncReason(reason), response.resync.reason
    assert response.events == (), response.events
    snapshot_head = response.resync.snapshot.head
    assert snapshot_head is not None
    assert (snapshot_head.seq, snapshot_head.event_id) == (seq, published_id(context, plan_id, seq))
    assert response.head == snapshot_head, (response.head, snapshot_head)
    assert response.resync.snapshot.plan_id == plan_id


@then('the polling failure is "{kind}" "{error}"')
def step_polling_failure(context: Any, kind: str, error: str) -> None:
    failure = _failure(context)
    verdict = failure.verdict
    assert verdict.kind == VerdictKind(kind), (verdict.kind, verdict.error)
    assert type(verdict.error).__name__ == error, (type(verdict.error).__name__, verdict.error)
    assert str(failure) == str(verdict.error), (str(failure), str(verdict.error))


@then("the polling failure asks to retry after {seconds:g} s")
def step_polling_retry_after(context: Any, seconds: float) -> None:
    retry_after = _failure(context).verdict.retry_after
    assert retry_after is not None
    assert math.isclose(retry_after, seconds), retry_after


@then('the polling token "{token}" appears in no failure or session text')
def step_polling_token_hidden(context: Any, token: str) -> None:
    texts = [context.polling_session_text]
    failure = getattr(context, "polling_failure", None)
    if failure is not None:
        texts += [str(failure), repr(failure), str(failure.verdict), repr(failure.verdict)]
        texts += [str(failure.verdict.error), repr(failure.verdict.error)]
    for text in texts:
        assert token not in text, text
