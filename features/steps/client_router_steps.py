"""Steps of client_router.feature: the client's StreamRouter fed frames, no I/O.

The router is the sans-I/O middle of the client: decoded frames and poll
answers go in, deliveries come out through the real ``Subscription``
iterators users hold, and the frames it wants sent wait in its outbox. Every
step text starts with "router" or names the router, to keep these steps
apart from the other features' (behave's step registry is global).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from behave import given, then, when
from support.servers import on_cleanup, run

from planstream import Event, LogData, LogEvent, Resync, Subscription, SubscriptionError
from planstream.client.inbox import SubscriptionInbox
from planstream.client.router_signals import ConnectionSignals
from planstream.codec import decode_server_frame
from planstream.delivery import Delivery
from planstream.router import StreamRouter
from planstream.schema import BatchFrame, PollResponse
from planstream.sequencer import Sequencer

#: How long "looks for an item" waits to see that nothing comes.
_LOOK_SECONDS = 0.05


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _start_router(context: Any, queue_size: int, *, online: bool) -> None:
    router = StreamRouter(Sequencer(), ConnectionSignals())
    context.router_queue_size = queue_size
    if online:
        router.go_online()
    context.router = router
    context.router_subscribers: dict[str, Subscription] = {}
    handler = _Records()
    logger = logging.getLogger("planstream.client")
    logger.addHandler(handler)
    context.router_log = handler

    async def detach_handler() -> None:
        logger.removeHandler(handler)

    on_cleanup(context, detach_handler)


@given("a router with queue size {size:d} on a live connection")
def step_router_online(context: Any, size: int) -> None:
    _start_router(context, size, online=True)


@given("a router with queue size {size:d} while polling")
def step_router_polling(context: Any, size: int) -> None:
    _start_router(context, size, online=False)


# --- subscribers ---------------------------------------------------------------------


def _attach(context: Any, name: str, plan_id: str, last_event_id: str | None) -> None:
    router: StreamRouter = context.router
    inbox = SubscriptionInbox(
        plan_id, last_event_id=last_event_id, follow=True, capacity=context.router_queue_size
    )
    router.attach(inbox)
    subscription = Subscription(inbox, rewind=router.rewind, detach=router.detach)
    context.router_subscribers[name] = subscription


@when('router subscriber "{name}" attaches to plan "{plan_id}" after event "{event_id}"')
def step_attach_after(context: Any, name: str, plan_id: str, event_id: str) -> None:
    _attach(context, name, plan_id, event_id)


@when('router subscriber "{name}" attaches to plan "{plan_id}"')
def step_attach(context: Any, name: str, plan_id: str) -> None:
    _attach(context, name, plan_id, None)


@when('router subscriber "{name}" leaves')
def step_leave(context: Any, name: str) -> None:
    run(context, context.router_subscribers.pop(name).aclose())


def _describe(item: Delivery) -> str:
    if isinstance(item, Resync):
        head = item.snapshot.head
        return f"resync@{0 if head is None else head.seq}"
    return str(item.seq)


@then('router subscriber "{name}" takes "{expected}"')
def step_takes(context: Any, name: str, expected: str) -> None:
    subscription = context.router_subscribers[name]
    wanted = expected.split(",")
    taken = [_describe(run(context, anext(subscription), timeout=2)) for _ in wanted]
    assert taken == wanted, taken
    queued = [_describe(item) for item in subscription._inbox.items or ()]
    assert not queued, f"more is queued: {queued}"


@when('router subscriber "{name}" looks for an item')
def step_looks(context: Any, name: str) -> None:
    """``anext`` once: an empty, overflowed inbox asks for its rewind, then waits."""
    subscription = context.router_subscribers[name]
    try:
        item = run(context, anext(subscription), timeout=_LOOK_SECONDS)
    except TimeoutError:
        return
    raise AssertionError(f"expected nothing yet, got {_describe(item)}")


@then('router subscriber "{name}" waits for a rewind')
def step_waits(context: Any, name: str) -> None:
    inbox = context.router_subscribers[name]._inbox
    assert inbox.overflowed, "the subscriber should be held until its rewind"
    assert not inbox.items, list(inbox.items or ())
    assert inbox.overflows == 0, "joining late is not an overflow"


@then('router subscriber "{name}" has {count:d} items queued and has overflowed {times:d} time')
@then('router subscriber "{name}" has {count:d} items queued and has overflowed {times:d} times')
def step_queued(context: Any, name: str, count: int, times: int) -> None:
    subscription = context.router_subscribers[name]
    queued = list(subscription._inbox.items or ())
    assert len(queued) == count, queued
    assert subscription.overflows == times, subscription.overflows


@then('router subscriber "{name}" resumes after "{event_id}"')
def step_resumes(context: Any, name: str, event_id: str) -> None:
    assert context.router_subscribers[name].last_event_id == event_id


@then('router subscriber "{name}" ends with SubscriptionError "{code}"')
def step_ends_with(context: Any, name: str, code: str) -> None:
    subscription = context.router_subscribers[name]
    error: SubscriptionError | None = None
    try:
        item = run(context, anext(subscription), timeout=2)
    except SubscriptionError as exc:
        error = exc
    else:
        raise AssertionError(f"expected SubscriptionError, got {_describe(item)}")
    assert error.code == code, error
    assert error.plan_id == subscription.plan_id, error
    assert subscription.plan_id not in context.router.channels


# --- what the server sends -------------------------------------------------------------


@when("the router receives the frame {raw}")
def step_frame(context: Any, raw: str) -> None:
    context.router.on_frame(decode_server_frame(raw), 0.0)


_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def _events(plan_id: str, first: int, last: int) -> list[Event]:
    """Log events of ``plan_id`` at ``first..last``; the id of seq N is ``eN``."""
    return [
        LogEvent(
            plan_id=plan_id,
            event_id=f"e{seq}",
            seq=seq,
            ts=_EPOCH + timedelta(seconds=seq),
            data=LogData(level="info", message=f"line {seq}", stream="stdout"),
        )
        for seq in range(first, last + 1)
    ]


@when('the router receives events {first:d} to {last:d} of plan "{plan_id}" one frame each')
def step_events(context: Any, first: int, last: int, plan_id: str) -> None:
    for event in _events(plan_id, first, last):
        context.router.on_frame(event, 0.0)


@when('the router receives events {first:d} to {last:d} of plan "{plan_id}" in one batch')
def step_batch(context: Any, first: int, last: int, plan_id: str) -> None:
    frame = BatchFrame(events=tuple(_events(plan_id, first, last)))
    context.router.on_frame(frame, 0.0)


@when("the connection is lost")
def step_offline(context: Any) -> None:
    context.router.go_offline()


@when("the connection is replaced")
def step_replaced(context: Any) -> None:
    context.router.go_offline()
    context.router.go_online()


# --- polling ---------------------------------------------------------------------------


@when(
    'a poll answer for plan "{plan_id}" made at generation {generation:d}'
    " brings events {first:d} to {last:d}"
)
def step_poll_events(context: Any, plan_id: str, generation: int, first: int, last: int) -> None:
    events = _events(plan_id, first, last)
    head = {"seq": last, "event_id": f"e{last}"}
    answer = {"plan_id": plan_id, "events": [e.model_dump(mode="json") for e in events]}
    response = PollResponse.model_validate_json(json.dumps({**answer, "head": head}))
    context.router.on_poll(generation, response, 0.0)


@when(
    'a poll answer for plan "{plan_id}" made at generation {generation:d}'
    " brings a resync at head {seq:d}"
)
def step_poll_resync(context: Any, plan_id: str, generation: int, seq: int) -> None:
    head = {"seq": seq, "event_id": f"e{seq}"}
    snapshot = {"plan_id": plan_id, "head": head, "status": "running"}
    resync = {"reason": "history_expired", "snapshot": snapshot}
    answer = {"plan_id": plan_id, "events": [], "head": head, "resync": resync}
    response = PollResponse.model_validate_json(json.dumps(answer))
    context.router.on_poll(generation, response, 0.0)


@then('the router\'s next poll of plan "{plan_id}" is generation {generation:d} after "{after}"')
def step_poll_position(context: Any, plan_id: str, generation: int, after: str) -> None:
    position = context.router.poll_position(plan_id)
    assert position == (generation, None if after == "-" else after), position


@then('the router has no next poll of plan "{plan_id}"')
def step_no_poll(context: Any, plan_id: str) -> None:
    assert context.router.poll_position(plan_id) is None


# --- what the router queued and counted ------------------------------------------------


def _summary(text: str) -> str:
    frame = json.loads(text)
    if frame["type"] == "subscribe":
        after = frame.get("last_event_id") or "-"
        return f"subscribe#{frame['id']} {frame['plan_id']} after {after}"
    return f"{frame['type']}#{frame['id']} {frame['plan_id']}"


@then('the router sent "{expected}"')
def step_sent(context: Any, expected: str) -> None:
    sent = [_summary(text) for text in context.router.take_outbox()]
    assert sent == ([] if expected == "nothing" else expected.split(", ")), sent


@then("the router tracks no plan")
def step_tracks_nothing(context: Any) -> None:
    assert context.router.channels == {}
    for subscription in context.router_subscribers.values():
        plan_id = subscription.plan_id
        try:
            position = context.router.sequencer.position(plan_id)
        except KeyError:
            continue
        raise AssertionError(f"the sequencer still tracks {plan_id!r} at {position}")


@then("the router counted {count:d} rewind")
@then("the router counted {count:d} rewinds")
def step_rewinds(context: Any, count: int) -> None:
    assert context.router.rewinds == count, context.router.rewinds


@then('the router logged a warning containing "{text}"')
def step_logged(context: Any, text: str) -> None:
    messages = [record.getMessage() for record in context.router_log.records]
    assert any(text in message for message in messages), messages
