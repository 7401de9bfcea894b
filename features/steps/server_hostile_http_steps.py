"""Steps of server_hostile_http.feature: hostile requests over real loopback sockets.

The server is the embedded reference server (``context.server``); answers are
checked against its :class:`ServerState`, the independent truth.
"""

from __future__ import annotations

import asyncio
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
from support.servers import run

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
