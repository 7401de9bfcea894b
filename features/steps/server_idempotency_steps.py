"""Steps for idempotent publishing (protocol §6, "Idempotent publishing").

Requests go over real loopback sockets (httpx) to an embedded reference
server; what a plan holds is read back over HTTP (a poll), the independent
truth the answers are checked against. ``context.idem_request`` is the last
keyed request (to send it again), ``context.idem_created`` the answers that
appended (201 without ``Idempotent-Replayed``), oldest first.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from behave import given, then, when
from support.server_http_client import call, client, json_of, log_events, request
from support.servers import run

from planstream.errors import SettingsError
from planstream.server import (
    IdempotencyKeyReusedError,
    MemoryEventLog,
    PublishError,
    ServerSettings,
    StoredEvent,
)
from planstream.server.event_log import IdempotencyKey, IdempotentReplay, NewEvent
from planstream.server.publishing import body_digest, validate_new_event

_REPLAYED = "Idempotent-Replayed"

#: Malformed header values of the scenario outline, as raw header lists.
_MALFORMED: dict[str, list[tuple[bytes, bytes]]] = {
    "empty": [(b"Idempotency-Key", b"")],
    "of 129 chars": [(b"Idempotency-Key", b"k" * 129)],
    '"clé" in UTF-8': [(b"Idempotency-Key", "clé".encode())],
    '"a<TAB>b"': [(b"Idempotency-Key", b"a\tb")],
    '"one" and "two"': [(b"Idempotency-Key", b"one"), (b"Idempotency-Key", b"two")],
}


def _body(count: int) -> bytes:
    return json.dumps(log_events(count)).encode()


def _post(context: Any, plan_id: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    context.idem_request = (plan_id, body, headers)
    response: httpx.Response = call(
        context, "POST", f"/v1/plans/{plan_id}/events", content=body, headers=headers
    )
    if response.status_code == 201 and _REPLAYED not in response.headers:
        context.idem_created = [*getattr(context, "idem_created", []), response]
    return response


def _keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key, "Content-Type": "application/json"}


def _keys(text: str) -> list[str]:
    return [part.strip().strip('"') for part in text.split(",")]


# --- When: publishing with keys ---------------------------------------------------------


@when('the publisher POSTs with Idempotency-Key "{key}" {count:d} log events to plan "{plan_id}"')
def when_post_keyed(context: Any, key: str, count: int, plan_id: str) -> None:
    _post(context, plan_id, _body(count), _keyed(key))


@when(
    "the publisher POSTs with an Idempotency-Key of {length:d} characters"
    ' {count:d} log events to plan "{plan_id}"'
)
def when_post_long_key(context: Any, length: int, count: int, plan_id: str) -> None:
    _post(context, plan_id, _body(count), _keyed("k" * length))


@when(
    "the publisher POSTs with the malformed Idempotency-Key {header}"
    ' {count:d} log events to plan "{plan_id}"'
)
def when_post_malformed(context: Any, header: str, count: int, plan_id: str) -> None:
    # A list of raw headers (a repeated name, non-ASCII bytes) goes to httpx as is.
    url = f"{context.server.http_url}/v1/plans/{plan_id}/events"
    post = client(context).post(url, content=_body(count), headers=_MALFORMED[header])
    context.http_response = run(context, post)


@when('the publisher POSTs with Idempotency-Key "{key}" a terminal status to plan "{plan_id}"')
def when_post_terminal(context: Any, key: str, plan_id: str) -> None:
    body = json.dumps({"kind": "plan.status", "data": {"status": "succeeded"}}).encode()
    _post(context, plan_id, body, _keyed(key))


@when('the publisher POSTs with Idempotency-Key "{key}" the raw body `{body}` to plan "{plan_id}"')
def when_post_raw_keyed(context: Any, key: str, body: str, plan_id: str) -> None:
    _post(context, plan_id, body.encode(), _keyed(key))


@when(
    'the publisher POSTs with Idempotency-Key "{key}" a body of {size:d} bytes to plan "{plan_id}"'
)
def when_post_sized_keyed(context: Any, key: str, size: int, plan_id: str) -> None:
    _post(context, plan_id, b" " * size, _keyed(key))


@when('the publisher POSTs one log event under each of the keys {keys} to plan "{plan_id}"')
def when_post_each_key(context: Any, keys: str, plan_id: str) -> None:
    context.idem_answers = [_post(context, plan_id, _body(1), _keyed(key)) for key in _keys(keys)]
    for response in context.idem_answers:
        assert response.status_code == 201, response.text


@when("the publisher POSTs the same request again")
def when_post_again(context: Any) -> None:
    plan_id, body, headers = context.idem_request
    _post(context, plan_id, body, headers)


@when(
    '{count:d} identical requests with Idempotency-Key "{key}" POST {events:d} log events'
    ' to plan "{plan_id}" at once'
)
def when_race(context: Any, count: int, key: str, events: int, plan_id: str) -> None:
    body = _body(events)

    async def race() -> list[httpx.Response]:
        # httpx opens a connection per request in flight (up to 100), so they
        # reach the server interleaved, not queued behind one another.
        url = f"{context.server.http_url}/v1/plans/{plan_id}/events"
        posts = (client(context).post(url, content=body, headers=_keyed(key)) for _ in range(count))
        return await asyncio.gather(*posts)

    context.idem_answers = run(context, race())


# --- Then: answers and what the plan holds ----------------------------------------------


def _check_created(context: Any, first: int, last: int, plan_id: str, *, replayed: bool) -> None:
    response: httpx.Response = context.http_response
    assert response.status_code == 201, (response.status_code, response.text)
    assert (response.headers.get(_REPLAYED) == "true") is replayed, response.headers
    events = json_of(response)["events"]
    assert [item["seq"] for item in events] == list(range(first, last + 1)), events
    # The ids are the plan's own: the poll of the same seqs shows them.
    poll = json_of(run(context, request(context, "GET", f"/v1/plans/{plan_id}/events?limit=1000")))
    ids = {event["seq"]: event["event_id"] for event in poll["events"]}
    assert all(ids[item["seq"]] == item["event_id"] for item in events), (events, ids)


@then(
    'the answer is 201 with seqs {first:d} to {last:d} of plan "{plan_id}", not marked as replayed'
)
def then_created(context: Any, first: int, last: int, plan_id: str) -> None:
    _check_created(context, first, last, plan_id, replayed=False)


@then('the answer is 201 with seqs {first:d} to {last:d} of plan "{plan_id}", marked as replayed')
def then_created_replayed(context: Any, first: int, last: int, plan_id: str) -> None:
    _check_created(context, first, last, plan_id, replayed=True)


@then('the answer is the first answer byte for byte, marked "Idempotent-Replayed: true"')
def then_replayed(context: Any) -> None:
    response: httpx.Response = context.http_response
    first: httpx.Response = context.idem_created[-1]
    assert response is not first
    assert response.status_code == 201, (response.status_code, response.text)
    assert response.headers.get(_REPLAYED) == "true", response.headers
    assert _REPLAYED not in first.headers, first.headers
    assert response.content == first.content, (response.content, first.content)


@then('plan "{plan_id}" holds {count:d} events over HTTP')
def then_plan_holds(context: Any, plan_id: str, count: int) -> None:
    response = run(context, request(context, "GET", f"/v1/plans/{plan_id}/events?limit=1000"))
    body = json_of(response)
    assert [event["seq"] for event in body["events"]] == list(range(1, count + 1)), body
    assert (body["head"] or {"seq": 0})["seq"] == count, body


@then("each of those answers was 201, not marked as replayed")
def then_each_created(context: Any) -> None:
    for response in context.idem_answers:
        assert response.status_code == 201, response.text
        assert _REPLAYED not in response.headers, response.headers


@then(
    "exactly one answer appended and {count:d} are replays, all {total:d} bodies byte for byte"
    " the same"
)
def then_race(context: Any, count: int, total: int) -> None:
    answers: list[httpx.Response] = context.idem_answers
    assert len(answers) == total
    assert all(answer.status_code == 201 for answer in answers), [a.text for a in answers]
    replays = [answer for answer in answers if answer.headers.get(_REPLAYED) == "true"]
    assert len(replays) == count, [answer.headers for answer in answers]
    assert len({answer.content for answer in answers}) == 1, {a.content for a in answers}


@then("its event id is not the one the evicted stream gave")
def then_new_stream_id(context: Any) -> None:
    evicted, created = context.idem_created[-2:]
    assert created is context.http_response
    (old,) = json_of(evicted)["events"]
    (new,) = json_of(created)["events"]
    assert new["seq"] == old["seq"] == 1
    assert new["event_id"] != old["event_id"], (old, new)


# --- The memory log's bound, directly ---------------------------------------------------


def _key(n: int) -> IdempotencyKey:
    return IdempotencyKey(f"publish-{n:06d}", body_digest(str(n).encode()))


def _event(n: int) -> list[NewEvent]:
    data = {"level": "info", "message": str(n), "stream": "stdout"}
    return [validate_new_event("log", data, allow_unknown_kinds=False)]


async def _append_keyed(log: MemoryEventLog, plan_id: str, numbers: range) -> None:
    ts = datetime.now(UTC)
    for n in numbers:
        await log.append(plan_id, _event(n), ts=ts, idempotency=_key(n))


@given("a memory event log retaining {count:d} event per plan")
def given_memory_log(context: Any, count: int) -> None:
    context.idem_log = MemoryEventLog(count)
    assert context.idem_log.idempotency_keys == 10_000  # protocol §6: at least 10,000


@when('{count:d} keyed events are appended to plan "{plan_id}", each under a key of its own')
def when_append_keyed(context: Any, count: int, plan_id: str) -> None:
    context.idem_plan = plan_id
    context.idem_count = count
    run(context, _append_keyed(context.idem_log, plan_id, range(1, count + 1)))


@then("the key of event 1 is forgotten and the keys of events 2 and {last:d} replay")
def then_oldest_forgotten(context: Any, last: int) -> None:
    log: MemoryEventLog = context.idem_log
    plan_id: str = context.idem_plan

    async def replayed(n: int) -> IdempotentReplay | None:
        try:
            await log.append(plan_id, _event(n), ts=datetime.now(UTC), idempotency=_key(n))
        except IdempotentReplay as replay:
            return replay
        return None

    async def check() -> None:
        for n in (2, last):
            replay = await replayed(n)
            assert replay is not None, f"key {n} was not replayed"
            assert [head.seq for head in replay.events] == [n], replay.events
        (stored,) = await log.append(plan_id, _event(1), ts=datetime.now(UTC), idempotency=_key(1))
        assert stored.seq == context.idem_count + 1, stored.seq

    run(context, check())
    context.idem_count += 1


@then(
    "with a bound of {bound:d} keys, {count:d} more keyed events grow the traced memory by less"
    " than a tenth of what the first {first:d} keys took"
)
def then_memory_bounded(context: Any, bound: int, count: int, first: int) -> None:
    # A small bound keeps tracemalloc's slow-down short; the rule is the same.
    tracemalloc.start()
    try:
        log = MemoryEventLog(1, idempotency_keys=bound)
        base = tracemalloc.get_traced_memory()[0]
        run(context, _append_keyed(log, "traced", range(1, first + 1)))
        filled = tracemalloc.get_traced_memory()[0]
        run(context, _append_keyed(log, "traced", range(first + 1, first + count + 1)))
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    kept = filled - base
    assert kept > first * 100, kept  # the keys do cost memory: the bound is what holds it
    assert after - filled < kept / 10, (base, filled, after)


def _refusal(make: Callable[[], object]) -> Exception | None:
    try:
        make()
    except (ValueError, SettingsError) as exc:
        return exc
    return None


@then("a bound of 0 keys is refused, by the log and by the server's settings")
def then_zero_bound_refused(context: Any) -> None:
    by_log = _refusal(lambda: MemoryEventLog(idempotency_keys=0))
    assert isinstance(by_log, ValueError), by_log
    assert "idempotency_keys" in str(by_log), by_log
    by_settings = _refusal(lambda: ServerSettings(idempotency_keys_per_plan=0))
    assert isinstance(by_settings, SettingsError), by_settings
    assert "PLANSTREAM_SERVER_IDEMPOTENCY_KEYS_PER_PLAN" in str(by_settings), by_settings


# --- The embedded publish ---------------------------------------------------------------


@when('the embedded publisher publishes log "{message}" to plan "{plan_id}" with key "{key}"')
def when_embedded_keyed(context: Any, message: str, plan_id: str, key: str) -> None:
    data = {"level": "info", "message": message, "step_id": None, "stream": "stdout"}
    if not hasattr(context, "idem_embedded"):
        context.idem_embedded = []
    context.idem_error = None
    try:
        stored = run(context, context.server.publish(plan_id, "log", data, idempotency_key=key))
    except (PublishError, IdempotencyKeyReusedError, IdempotentReplay) as exc:
        context.idem_error = exc
    else:
        context.idem_embedded.append(stored)


@then("both embedded publishes returned the same stored event, seq {seq:d}")
def then_embedded_same(context: Any, seq: int) -> None:
    first, second = context.idem_embedded
    assert isinstance(first, StoredEvent)
    assert second == first, (first, second)
    assert first.seq == seq


@then("the embedded publish failed with {name:w}")
def then_embedded_failed(context: Any, name: str) -> None:
    assert type(context.idem_error).__name__ == name, repr(context.idem_error)


@then('the embedded publish failed with {name:w} mentioning "{text}"')
def then_embedded_failed_mentioning(context: Any, name: str, text: str) -> None:
    then_embedded_failed(context, name)
    assert text in str(context.idem_error), str(context.idem_error)


@then("the embedded publish failed with IdempotentReplay of seq {seq:d}, no longer retained")
def then_embedded_replay(context: Any, seq: int) -> None:
    error = context.idem_error
    assert isinstance(error, IdempotentReplay), repr(error)
    assert [head.seq for head in error.events] == [seq], error.events
    assert error.events[0].event_id == context.idem_embedded[0].event.event_id
    retained = run(context, context.server.state.log.read(error.plan_id, 0, 1))
    assert retained, "the plan retains nothing"
    assert retained[0].seq > seq, retained[0].seq
