"""Steps of authorization_scopes.feature: per-plan permissions on every route."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import httpx
from behave import given, then, when
from support.redis_servers import start_redis
from support.scoped_principals import (
    LOG_EVENT,
    ScriptedVerifier,
    principals_from_table,
    publish_as,
)
from support.servers import on_cleanup, run, start_reference_server
from support.wsclient import RawClient, flatten
from websockets.exceptions import InvalidStatus

from planstream.server import PlanScope

# --- servers and plans ------------------------------------------------------------------


def _start(context: Any, **settings: Any) -> None:
    start_reference_server(context, verifier=ScriptedVerifier(context.principals), **settings)
    context.http_url = str(context.server.http_url)


@given("a reference server whose token verifier knows these principals:")
def given_scoped_server(context: Any) -> None:
    context.principals = principals_from_table(context.table)
    _start(context)


@given("the scoped server's event log is the {kind} log")
def given_log_kind(context: Any, kind: str) -> None:
    if kind == "Redis":
        _start(context, redis_url=start_redis(context).url)


@given('plans "{first}" and "{second}" each have {count:d} events')
def given_plans(context: Any, first: str, second: str, count: int) -> None:
    for plan_id in (first, second):
        given_plan(context, plan_id, count)


@given('plan "{plan_id}" has {count:d} event')
def given_plan(context: Any, plan_id: str, count: int) -> None:
    answers = publish_as(context, "feeder", plan_id, count)
    assert all(answer.status_code == 201 for answer in answers), answers


@given("{count:d} plans were published in this order: {patterns} four times over")
def given_interleaved_plans(context: Any, count: int, patterns: str) -> None:
    templates = re.findall(r'"([^"]+)"', patterns)
    context.plan_order = [
        template.replace("N", str(n)) for n in range(1, 5) for template in templates
    ]
    assert len(context.plan_order) == count, context.plan_order
    for plan_id in context.plan_order:
        assert publish_as(context, "feeder", plan_id)[0].status_code == 201


@given("the event log looks at no more than {count:d} plans per listing")
def given_scan_limit(context: Any, count: int) -> None:
    context.server.state.log.plan_scan_limit = count


# --- the WebSocket -----------------------------------------------------------------------


def _ws_url(context: Any) -> str:
    return "ws" + context.http_url.removeprefix("http") + "/v1/stream"


async def _answer_to(ws: RawClient, request_id: str) -> dict[str, Any]:
    while True:
        frame = await ws.recv()
        if frame.get("id") == request_id:
            return frame


@when('"{token}" opens a WebSocket and subscribes to "{first}" then "{second}"')
def when_ws_subscribes(context: Any, token: str, first: str, second: str) -> None:
    async def subscribe() -> None:
        ws = context.scoped_ws = await RawClient.open(_ws_url(context), token=token)
        context.requests = {first: await ws.subscribe(first), second: await ws.subscribe(second)}
        context.answers = {
            plan_id: await _answer_to(ws, request_id)
            for plan_id, request_id in context.requests.items()
        }

    run(context, subscribe())
    on_cleanup(context, context.scoped_ws.close)


@when('"{token}" subscribes on that WebSocket to "{plan_id}"')
def when_ws_subscribes_again(context: Any, token: str, plan_id: str) -> None:
    async def subscribe() -> None:
        request_id = context.requests[plan_id] = await context.scoped_ws.subscribe(plan_id)
        context.answers[plan_id] = await _answer_to(context.scoped_ws, request_id)

    run(context, subscribe())


@then('the subscription to "{plan_id}" is answered error "{code}" echoing its request id')
def then_sub_error(context: Any, plan_id: str, code: str) -> None:
    answer = context.answers[plan_id]
    expected = {"type": "error", "id": context.requests[plan_id], "plan_id": plan_id, "code": code}
    assert {key: answer.get(key) for key in expected} == expected, answer
    assert answer["message"] == f"this token may not read plan {plan_id!r}", answer


@then('both subscriptions are answered error "{code}" with the same message but the plan id')
def then_both_forbidden(context: Any, code: str) -> None:
    messages = set()
    for plan_id, answer in context.answers.items():
        then_sub_error(context, plan_id, code)
        messages.add(answer["message"].replace(plan_id, "<plan>"))
    assert len(messages) == 1, messages


@then('the subscription to "{plan_id}" is answered "subscribed" and replays {count:d} events')
def then_sub_ok(context: Any, plan_id: str, count: int) -> None:
    answer = context.answers[plan_id]
    assert (answer["type"], answer["plan_id"]) == ("subscribed", plan_id), answer
    if count:
        events = run(context, context.scoped_ws.events_until(plan_id, count))
        assert [event["seq"] for event in events] == list(range(1, count + 1)), events
    else:
        assert answer["head"] is None, answer


@when('1 more event is published to "{first}" and 1 more to "{second}"')
def when_one_more_each(context: Any, first: str, second: str) -> None:
    for plan_id in (second, first):  # the forbidden plan first: its event must not show up
        assert publish_as(context, "feeder", plan_id)[0].status_code == 201


@then('that WebSocket receives event {seq:d} of "{plan_id}" and nothing of "{other}"')
def then_receives_only(context: Any, seq: int, plan_id: str, other: str) -> None:
    events = run(context, context.scoped_ws.events_until(plan_id, seq))
    assert events[-1]["seq"] == seq, events
    seen = [event for frame in context.scoped_ws.frames for event in flatten(frame)]
    assert all(event["plan_id"] != other for event in seen), seen


@then("that WebSocket still answers a ping")
def then_ping(context: Any) -> None:
    async def ping() -> dict[str, Any]:
        ws = context.scoped_ws
        await ws.send({"type": "ping", "id": "p-1"})
        return await _answer_to(ws, "p-1")

    assert run(context, ping())["type"] == "pong"


@then("the server counted {count:d} refused request in auth_failures")
def then_auth_failures(context: Any, count: int) -> None:
    assert context.server.state.metrics.auth_failures == count, context.server.state.metrics


@when('"{token}" opens a WebSocket')
def when_ws_open(context: Any, token: str) -> None:
    async def attempt() -> tuple[int, bytes]:
        try:
            ws = await RawClient.open(_ws_url(context), token=token)
        except InvalidStatus as exc:
            return exc.response.status_code, bytes(exc.response.body or b"")
        await ws.close()
        raise AssertionError("the upgrade was accepted")

    context.refusal = run(context, attempt())


@then('the upgrade was refused with {status:d} "{code}" "{message}"')
def then_upgrade_refused(context: Any, status: int, code: str, message: str) -> None:
    got_status, body = context.refusal
    assert got_status == status, context.refusal
    assert json.loads(body) == {"error": code, "message": message}, body


# --- HTTP --------------------------------------------------------------------------------


@then('"{token}" gets these answers:')
def then_http_answers(context: Any, token: str) -> None:
    async def ask() -> list[tuple[Any, httpx.Response]]:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=context.http_url, timeout=30) as http:
            answers = []
            for row in context.table:
                method, path = row["request"].split()
                body = LOG_EVENT if method == "POST" else None
                answers.append((row, await http.request(method, path, json=body, headers=headers)))
            return answers

    for row, response in run(context, ask()):
        where = (row["request"], response.status_code, response.text)
        assert response.status_code == int(row["status"]), where
        if row["error"]:
            body = response.json()
            assert set(body) == {"error", "message"}, where
            assert body["error"] == row["error"], where
            assert row["message mentions"] in body["message"], where


@then('plan "{plan_id}" still has {count:d} event and plan "{other}" none')
def then_plan_counts(context: Any, plan_id: str, count: int, other: str) -> None:
    log = context.server.state.log
    head = run(context, log.head(plan_id))
    assert head is not None, plan_id
    assert head.seq == count, head
    assert run(context, log.head(other)) is None


def _walk(context: Any, token: str, limit: int) -> list[tuple[list[str], str | None]]:
    """Every page of ``GET /v1/plans`` as ``token``: (plan ids, next cursor)."""

    async def walk() -> list[tuple[list[str], str | None]]:
        headers = {"Authorization": f"Bearer {token}"}
        pages: list[tuple[list[str], str | None]] = []
        cursor: str | None = None
        async with httpx.AsyncClient(base_url=context.http_url, timeout=30) as http:
            while len(pages) < 100:
                query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
                response = await http.get(f"/v1/plans?{urlencode(query)}", headers=headers)
                assert response.status_code == 200, response.text
                body = response.json()
                pages.append(([plan["plan_id"] for plan in body["plans"]], body["next_cursor"]))
                cursor = body["next_cursor"]
                if cursor is None:
                    return pages
        raise AssertionError(f"the pages did not end: {pages[-3:]}")

    pages: list[tuple[list[str], str | None]] = run(context, walk())
    context.walk = pages
    return pages


def _readable(context: Any, token: str) -> list[str]:
    principal = context.principals[token]
    return [plan_id for plan_id in context.plan_order if principal.may_read(plan_id)]


@then(
    'walking GET /v1/plans as "{token}" {limit:d} at a time gives pages of sizes "{sizes}" '
    "and {which}"
)
def then_walk_sizes(context: Any, token: str, limit: int, sizes: str, which: str) -> None:
    pages = _walk(context, token, limit)
    assert [len(plans) for plans, _ in pages] == [int(size) for size in sizes.split()], pages
    listed = [plan_id for plans, _ in pages for plan_id in plans]
    expected = _readable(context, token)
    assert listed == expected, (listed, expected)  # creation order, each exactly once
    patterns = re.findall(r'"([^"]+)"', which) or ["*"]
    assert set(expected) == {p for p in context.plan_order if PlanScope.of(patterns).allows(p)}


@then(
    'walking GET /v1/plans as "{token}" {limit:d} at a time gives exactly the "{pattern}" '
    "plans, every page at most {most:d}"
)
def then_walk_bounded(context: Any, token: str, limit: int, pattern: str, most: int) -> None:
    pages = _walk(context, token, limit)
    listed = [plan_id for plans, _ in pages for plan_id in plans]
    assert listed == _readable(context, token), pages
    assert listed == [p for p in context.plan_order if PlanScope.of([pattern]).allows(p)]
    assert all(len(plans) <= most for plans, _ in pages), pages
    context.walk_token = token


@then('no cursor of that walk names a plan "{token}" may not read')
def then_cursor_hides(context: Any, token: str) -> None:
    hidden = set(context.plan_order) - set(_readable(context, token))
    for _, cursor in context.walk:
        assert cursor is None or not any(plan_id in cursor for plan_id in hidden), cursor


@then("some page of that walk was short but had a next cursor")
def then_short_page(context: Any) -> None:
    short = [plans for plans, cursor in context.walk if len(plans) < 2 and cursor is not None]
    assert short, context.walk
