"""Steps of features/server_publish_path.feature: one validation, one encoding."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime
from typing import Any

from behave import then, when
from support.server_http_client import call, record_published
from support.servers import run

from planstream.codec import decode_event_json, encode_frame
from planstream.server.event_log import PlanClosedError, StoredEvent
from planstream.server.memory_log import MemoryEventLog
from planstream.server.publishing import (
    PublishError,
    parse_publish_body,
    validate_new_event,
)
from planstream.server.tcp_guard import HeadWithBody

_STEP = {"step_id": "s", "index": 0, "name": "x", "status": "running"}
_LOG = {"level": "info", "message": "m", "stream": "stdout"}
_PROGRESS = {"completed_steps": 1, "total_steps": 2, "percent": 50}
#: Items valid and invalid in every way the schema can tell (kind, data).
_ITEMS: list[Any] = [
    {"kind": "plan.status", "data": {"status": "running"}},
    {"kind": "plan.status", "data": {"status": "succeeded", "reason": "done"}},
    {"kind": "plan.status", "data": {"status": "exploded"}},
    {"kind": "plan.status", "data": {"status": "running", "reason": 7}},
    {"kind": "plan.progress", "data": _PROGRESS},
    {"kind": "plan.progress", "data": {**_PROGRESS, "percent": 50.5, "message": "half"}},
    {"kind": "plan.progress", "data": {**_PROGRESS, "percent": True}},
    {"kind": "plan.progress", "data": {**_PROGRESS, "completed_steps": 1.0}},
    {"kind": "plan.progress", "data": {**_PROGRESS, "completed_steps": 3}},
    {"kind": "plan.progress", "data": {**_PROGRESS, "percent": 1e309}},
    {"kind": "step.status", "data": _STEP},
    {"kind": "step.status", "data": {**_STEP, "index": -1}},
    {"kind": "step.status", "data": {**_STEP, "index": 2**53}},
    {"kind": "step.status", "data": {**_STEP, "index": "0"}},
    {"kind": "step.status", "data": {**_STEP, "step_id": ""}},
    {"kind": "step.status", "data": {**_STEP, "error": None, "extra": [1, {"a": 2}]}},
    {"kind": "log", "data": _LOG},
    {"kind": "log", "data": {**_LOG, "message": 'é\u2028"\\ \U0001f600', "step_id": "s"}},
    {"kind": "log", "data": {**_LOG, "level": "INFO"}},
    {"kind": "log", "data": {**_LOG, "stream": None}},
    {"kind": "log", "data": {"level": "info", "stream": "stdout"}},
    {"kind": "custom.kind", "data": {"any": ["thing", 1, None, 2.5]}},
    {"kind": "custom.kind", "data": []},
    {"kind": "k" * 201, "data": {}},
    {"kind": "", "data": {}},
    {"kind": 5, "data": {}},
    {"kind": "log"},
    {"data": _LOG},
    {"kind": "log", "data": _LOG, "unknown": "field"},
    "not an object",
]


def _bodies() -> list[bytes]:
    bodies = [json.dumps(item).encode() for item in _ITEMS]
    for first, second in itertools.product(_ITEMS, repeat=2):
        bodies.append(json.dumps([first, second]).encode())
    bodies += [b"[]", b"{}", b"null", b"not json", b" [" + json.dumps(_ITEMS[0]).encode() + b"]"]
    too_many = [_ITEMS[0]] * 1000
    bodies += [json.dumps([*too_many, item]).encode() for item in (_ITEMS[0], _ITEMS[2])]
    return bodies


def _item_by_item(body: bytes, allow_unknown_kinds: bool) -> list[str] | str:
    """What validate_new_event makes of each item: their data JSON, or the first refusal."""
    try:
        value = json.loads(body)
    except ValueError:
        return "refused"
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > 1000:
        return "refused"
    out = []
    for item in items:
        kind = item.get("kind") if isinstance(item, dict) else None
        shape_ok = isinstance(kind, str) and 0 < len(kind) <= 200
        if not (shape_ok and isinstance(item.get("data"), dict)):
            return "refused"
        try:
            new = validate_new_event(kind, item["data"], allow_unknown_kinds=allow_unknown_kinds)
        except PublishError:
            return "refused"
        out.append(new.data_json)
    return out


@then(
    "every publish body of the corpus gets the same verdict from parse_publish_body "
    "as from validate_new_event item by item"
)
def then_same_verdicts(context: Any) -> None:
    checked = accepted = 0
    for body, allow in itertools.product(_bodies(), (False, True)):
        expected = _item_by_item(body, allow)
        try:
            got: list[str] | str = [
                new.data_json for new in parse_publish_body(body, allow_unknown_kinds=allow)
            ]
        except PublishError as exc:
            got = "refused" if str(exc) else "refused without a reason"
        assert got == expected, (body, allow, got, expected)
        checked += 1
        accepted += got != "refused"
    assert accepted > 100, (checked, accepted)
    assert checked - accepted > 100, (checked, accepted)
    # What only Python callers can pass: data JSON cannot carry.
    refusal = ""
    try:
        validate_new_event("custom", {"when": object()}, allow_unknown_kinds=True)
    except PublishError as exc:
        refusal = str(exc)
    assert refusal == "data must be JSON-serialisable", refusal


@then("every event the corpus publishes is stored as the JSON the event model dumps")
def then_stored_json(context: Any) -> None:
    async def append_all() -> int:
        log = MemoryEventLog(100_000)
        ts = datetime(2026, 12, 7, 15, 0, 0, 123456, tzinfo=UTC)
        count = 0
        for number, body in enumerate(_bodies()):
            try:
                events = parse_publish_body(body, allow_unknown_kinds=True)
            except PublishError:
                continue
            plan_id = f"corpus-{number}"
            try:
                appended = await log.append(plan_id, events, ts=ts)
            except PlanClosedError:  # an event after a terminal status
                continue
            for stored in appended:
                model = decode_event_json(stored.json)
                assert stored.json == encode_frame(model), stored.json
                assert stored.nbytes == len(stored.json.encode()), stored.json
                assert (stored.seq, stored.event_id) == (model.seq, model.event_id)
                assert stored.event == model
                assert model.plan_id == plan_id
                # A stored event is a value: equal to one made of the same JSON.
                same = StoredEvent(stored.json, stored.nbytes, stored.seq, stored.event_id)
                assert same == stored, (same, stored)
                assert hash(same) == hash(stored)
                assert same != stored.json
                assert repr(same) == repr(stored)
                assert same.event == model  # decoded from its JSON
                assert model.ts == ts
                count += 1
        return count

    assert asyncio.run(append_all()) > 100


def _message(count: int, char: str) -> dict[str, Any]:
    return {"level": "info", "message": char * count, "step_id": None, "stream": "stdout"}


@when('the publisher POSTs a log event whose message is {count:d} times "{char}" to plan "{plan}"')
def when_post_repeated(context: Any, count: int, char: str, plan: str) -> None:
    body = {"kind": "log", "data": _message(count, char)}
    response = call(context, "POST", f"/v1/plans/{plan}/events", json=body)
    record_published(context, plan, response)
    context.publish_response = response


@when(
    "the embedded publisher publishes a log event whose message is "
    '{count:d} times "{char}" to plan "{plan}"'
)
def when_embedded_repeated(context: Any, count: int, char: str, plan: str) -> None:
    context.publisher_error = context.embedded_stored = None
    try:
        context.embedded_stored = run(
            context, context.server.publish(plan, "log", _message(count, char))
        )
    except PublishError as exc:
        context.publisher_error = exc


@then('the embedded publish stored seq {seq:d} of plan "{plan}"')
def then_embedded_stored(context: Any, seq: int, plan: str) -> None:
    assert context.publisher_error is None, context.publisher_error
    stored = context.embedded_stored
    assert stored.seq == seq, stored
    assert stored.event.plan_id == plan, stored


class _RecordingTransport:
    """The socket side of HeadWithBody: what was written, in order, and whether it closed."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        if data:  # asyncio's transports ignore an empty write too
            self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


@then("a response head written through HeadWithBody leaves with the body in one write")
def then_head_with_body(context: Any) -> None:
    async def answer() -> _RecordingTransport:
        transport = _RecordingTransport()
        writer = HeadWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        writer.write(b"HTTP/1.1 201 Created\r\n\r\n")
        assert transport.writes == [], transport.writes
        writer.write(b'{"events":[]}')
        writer.write(b"")  # h11's end of a Content-Length body
        await asyncio.sleep(0)
        writer.write(b"more")  # later writes go out as they come
        return transport

    transport = asyncio.run(answer())
    assert transport.writes == [b'HTTP/1.1 201 Created\r\n\r\n{"events":[]}', b"more"], transport
    assert not transport.closed


@then(
    "a head written alone leaves at the next loop iteration, and closing sends what is held first"
)
def then_head_alone(context: Any) -> None:
    async def answer() -> tuple[list[bytes], _RecordingTransport]:
        alone = _RecordingTransport()
        writer = HeadWithBody(alone, asyncio.get_running_loop())  # type: ignore[arg-type]
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await asyncio.sleep(0)
        after_one_iteration = list(alone.writes)
        closing = _RecordingTransport()
        writer = HeadWithBody(closing, asyncio.get_running_loop())  # type: ignore[arg-type]
        writer.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
        writer.close()
        assert writer.is_closing()
        await asyncio.sleep(0)  # the pending flush finds nothing more to send
        return after_one_iteration, closing

    after_one_iteration, closing = asyncio.run(answer())
    assert after_one_iteration == [b"HTTP/1.1 100 Continue\r\n\r\n"], after_one_iteration
    assert closing.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"], closing.writes
    assert closing.closed
