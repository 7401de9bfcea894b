"""Steps for publishing over HTTP, snapshots and the plan list (protocol §6)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from behave import then, when
from support.server_http_client import (
    call,
    check_error,
    json_of,
    log_events,
    record_published,
    server_state,
)
from support.servers import run

from planstream import PlanSnapshot
from planstream.server import PublishError

# --- When: publishing ------------------------------------------------------------


def _post(context: Any, plan_id: str, **kwargs: Any) -> None:
    response = call(context, "POST", f"/v1/plans/{plan_id}/events", **kwargs)
    record_published(context, plan_id, response)
    context.publish_response = response


@when('the publisher POSTs to plan "{plan_id}":')
def when_post_json(context: Any, plan_id: str) -> None:
    json.loads(context.text)  # the scenario's own JSON must be valid
    _post(context, plan_id, content=context.text, headers={"Content-Type": "application/json"})


@when('the publisher POSTs a "{kind}" event with data {data} to plan "{plan_id}"')
def when_post_one(context: Any, kind: str, data: str, plan_id: str) -> None:
    _post(context, plan_id, json={"kind": kind, "data": json.loads(data)})


@when('the publisher POSTs the raw body `{body}` to plan "{plan_id}"')
def when_post_raw(context: Any, body: str, plan_id: str) -> None:
    _post(context, plan_id, content=body.encode())


@when('the publisher POSTs an empty body to plan "{plan_id}"')
def when_post_empty(context: Any, plan_id: str) -> None:
    _post(context, plan_id, content=b"")


@when('the publisher POSTs a list of {count:d} log events to plan "{plan_id}"')
def when_post_list(context: Any, count: int, plan_id: str) -> None:
    _post(context, plan_id, json=log_events(count))


@when('the publisher POSTs a log event with a message of {size:d} characters to plan "{plan_id}"')
def when_post_big_message(context: Any, size: int, plan_id: str) -> None:
    data = {"level": "info", "message": "m" * size, "step_id": None, "stream": "stdout"}
    _post(context, plan_id, json={"kind": "log", "data": data})


@when('the publisher POSTs a body of {size:d} bytes to plan "{plan_id}"')
def when_post_sized(context: Any, size: int, plan_id: str) -> None:
    _post(context, plan_id, content=b" " * size)


@when('the publisher POSTs a body of {size:d} bytes to plan "{plan_id}" streamed without a length')
def when_post_streamed(context: Any, size: int, plan_id: str) -> None:
    async def chunks() -> Any:
        chunk = 1024 * 1024
        for start in range(0, size, chunk):
            yield b" " * min(chunk, size - start)

    _post(context, plan_id, content=chunks())
    assert "content-length" not in context.publish_response.request.headers


@when('the embedded publisher publishes a "{kind}" event with data {data} to plan "{plan_id}"')
def when_embedded_publish(context: Any, kind: str, data: str, plan_id: str) -> None:
    try:
        run(context, context.server.publish(plan_id, kind, json.loads(data)))
    except PublishError as exc:
        context.publisher_error = exc
    else:
        context.publisher_error = None


# --- Then: publishing ------------------------------------------------------------


@then('the publisher got 201 with the ids of plan "{plan_id}" for seqs {first:d} to {last:d}')
def then_published(context: Any, plan_id: str, first: int, last: int) -> None:
    response = context.publish_response
    assert response.status_code == 201, response.text
    body = json_of(response)
    assert set(body) == {"events"}, body
    assert all(set(item) == {"event_id", "seq"} for item in body["events"]), body
    assert [item["seq"] for item in body["events"]] == list(range(first, last + 1)), body
    stored = run(context, server_state(context).log.read(plan_id, first - 1, last - first + 1))
    assert [item["event_id"] for item in body["events"]] == [s.event.event_id for s in stored]
    assert len({item["event_id"] for item in body["events"]}) == last - first + 1


@then('plan "{plan_id}" stored the kinds "{kinds}" from seq {first:d}, as the publisher sent them')
def then_stored_kinds(context: Any, plan_id: str, kinds: str, first: int) -> None:
    expected = [kind.strip() for kind in kinds.split(",")]
    stored = run(context, server_state(context).log.read(plan_id, first - 1, len(expected)))
    assert [s.event.kind for s in stored] == expected, [s.event.kind for s in stored]


@then('the HTTP error is {status:d} "{code:w}"')
def then_http_error(context: Any, status: int, code: str) -> None:
    check_error(context.http_response, status, code)


@then('the HTTP error is {status:d} "{code:w}" mentioning "{text}"')
def then_http_error_mentioning(context: Any, status: int, code: str, text: str) -> None:
    check_error(context.http_response, status, code, text)


@then(
    'each of these publisher POSTs of one event to plan "{plan_id}" is refused with 400 bad_request:'
)
def then_each_post_refused(context: Any, plan_id: str) -> None:
    """Columns: kind, data (JSON), mention."""
    for row in context.table:
        when_post_one(context, row["kind"], row["data"], plan_id)
        try:
            check_error(context.http_response, 400, "bad_request", row["mention"])
        except AssertionError as exc:
            raise AssertionError(f"row {row.cells}: {exc}") from None


@then('each of these raw publisher bodies for plan "{plan_id}" is refused with 400 bad_request:')
def then_each_body_refused(context: Any, plan_id: str) -> None:
    """Columns: case, body (raw text), mention."""
    for row in context.table:
        when_post_raw(context, row["body"], plan_id)
        try:
            check_error(context.http_response, 400, "bad_request", row["mention"])
        except AssertionError as exc:
            raise AssertionError(f"{row['case']}: {exc}") from None


@then("the HTTP error message does not mention {texts}")
def then_error_not_mentioning(context: Any, texts: str) -> None:
    message = context.http_response.json()["message"]
    for text in json.loads(f"[{texts}]"):
        assert text not in message, message


@then('the embedded publisher refused it with a PublishError mentioning "{text}"')
def then_embedded_refused(context: Any, text: str) -> None:
    assert context.publisher_error is not None, "the publish succeeded"
    assert text in str(context.publisher_error), str(context.publisher_error)


@then('plan "{plan_id}" has head seq {seq:d} over HTTP')
def then_head_over_http(context: Any, plan_id: str, seq: int) -> None:
    response = call(context, "GET", f"/v1/plans/{plan_id}")
    assert response.status_code == 200, response.text
    assert json_of(response)["head"]["seq"] == seq, response.text
    assert run(context, server_state(context).log.head(plan_id)).seq == seq


@then('plan "{plan_id}" has no events over HTTP')
def then_no_events_over_http(context: Any, plan_id: str) -> None:
    response = call(context, "GET", f"/v1/plans/{plan_id}")
    assert response.status_code == 404, response.text
    assert json_of(response)["error"] == "not_found"
    response = call(context, "GET", f"/v1/plans/{plan_id}/events")
    assert json_of(response)["events"] == [], response.text
    assert response.json()["head"] is None, response.text


# --- Snapshots and the plan list --------------------------------------------------


@when('the HTTP snapshot of plan "{plan_id}" is fetched')
def when_fetch_snapshot(context: Any, plan_id: str) -> None:
    response = call(context, "GET", f"/v1/plans/{plan_id}")
    context.snapshot_body = json_of(response)


@then('the HTTP snapshot is a PlanSnapshot of plan "{plan_id}" at its head, updated at its ts')
def then_snapshot_valid(context: Any, plan_id: str) -> None:
    assert context.http_response.status_code == 200, context.http_response.text
    body = context.snapshot_body
    assert set(body) == {"plan_id", "status", "progress", "steps", "head", "updated_at"}, body
    snapshot = PlanSnapshot.model_validate_json(context.http_response.text)
    assert snapshot.plan_id == plan_id
    state = server_state(context)
    head = run(context, state.log.head(plan_id))
    assert snapshot.head == head, (snapshot.head, head)
    (last,) = run(context, state.log.read(plan_id, head.seq - 1, 1))
    assert snapshot.updated_at == last.event.ts, (snapshot.updated_at, last.event.ts)
    assert body["updated_at"].endswith("Z"), body["updated_at"]  # RFC 3339 UTC
    context.http_snapshot = snapshot


@then('the HTTP snapshot has status "{status}" and progress {progress}')
def then_snapshot_status(context: Any, status: str, progress: str) -> None:
    body = context.snapshot_body
    assert body["status"] == (None if status == "null" else status), body["status"]
    assert body["progress"] == json.loads(progress), body["progress"]


@then("the HTTP snapshot steps are, in order:")
def then_snapshot_steps(context: Any) -> None:
    expected = [
        {
            "step_id": row["step_id"],
            "index": int(row["index"]),
            "name": row["name"],
            "status": row["status"],
            "error": None if row["error"] == "null" else row["error"],
        }
        for row in context.table
    ]
    assert context.snapshot_body["steps"] == expected, context.snapshot_body["steps"]


@when("the HTTP plan list is fetched")
def when_fetch_plans(context: Any) -> None:
    response = call(context, "GET", "/v1/plans")
    assert response.status_code == 200, response.text
    context.plan_list = json_of(response)


@then("the HTTP plan list is empty")
def then_plan_list_empty(context: Any) -> None:
    assert context.plan_list == {"plans": [], "next_cursor": None}, context.plan_list


@then("the HTTP plan list holds, in order:")
def then_plan_list(context: Any) -> None:
    assert set(context.plan_list) == {"plans", "next_cursor"}, context.plan_list
    assert context.plan_list["next_cursor"] is None, context.plan_list
    plans = context.plan_list["plans"]
    assert [plan["plan_id"] for plan in plans] == [row["plan_id"] for row in context.table]
    state = server_state(context)
    for plan, row in zip(plans, context.table, strict=True):
        assert set(plan) == {"plan_id", "status", "head", "updated_at"}, plan
        assert plan["status"] == (None if row["status"] == "null" else row["status"]), plan
        assert plan["head"]["seq"] == int(row["head seq"]), plan
        head = run(context, state.log.head(plan["plan_id"]))
        assert plan["head"] == head.model_dump(mode="json"), (plan, head)
        snapshot = run(context, state.log.snapshot(plan["plan_id"]))
        assert datetime.fromisoformat(plan["updated_at"]) == snapshot.updated_at, plan
