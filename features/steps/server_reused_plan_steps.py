"""Steps: a follower of a plan whose id is reused after eviction (reading 19)."""

from __future__ import annotations

from typing import Any

from behave import then, when
from support.servers import on_cleanup, run
from support.wsclient import RawClient


@when('a follower subscribes over the WebSocket to plan "{plan_id}" from its start')
def step_follower_subscribes(context: Any, plan_id: str) -> None:
    follower = run(context, RawClient.open(context.server.url))
    on_cleanup(context, follower.close)
    run(context, follower.subscribe(plan_id))
    assert run(context, follower.recv_until("subscribed"))["plan_id"] == plan_id
    context.follower = follower


@then('the follower receives events 1 to {last:d} of plan "{plan_id}"')
def step_follower_events(context: Any, last: int, plan_id: str) -> None:
    events = run(context, context.follower.events_until(plan_id, last))
    assert [event["seq"] for event in events] == list(range(1, last + 1)), events


@then(
    'the follower next receives a "stream_reset" resync of plan "{plan_id}" with no head, '
    'then event 1 with status "{status}"'
)
def step_follower_reset(context: Any, plan_id: str, status: str) -> None:
    follower: RawClient = context.follower
    frame = run(context, follower.recv())
    while frame["type"] == "heartbeat":
        frame = run(context, follower.recv())
    assert frame["type"] == "resync", frame
    assert (frame["plan_id"], frame["reason"]) == (plan_id, "stream_reset"), frame
    assert frame["snapshot"]["head"] is None, frame
    events = run(context, follower.events_until(plan_id, 1))
    assert [(e["seq"], e["data"]["status"]) for e in events] == [(1, status)], events
