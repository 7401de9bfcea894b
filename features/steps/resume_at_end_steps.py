"""Steps of features/resume_at_end.feature: a resume from a finished plan's last
event ends at once (SDK and ``planstream watch --from``), and its HTTP look-up
never makes a resume worse.

``context.resumed`` is what the last resume saw (:class:`Resumed`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from behave import given, then, when
from support.client_api_support import until
from support.http_gate import HttpGate
from support.servers import on_cleanup, run

from planstream import PlanSnapshot, PlanStreamClient
from planstream.client.plan_api import RESUME_LOOKUP_TIMEOUT
from planstream.delivery import Delivery
from planstream.schema import PlanStatusEvent


@dataclass
class Resumed:
    """One resume: the items it delivered, how it ended, how long it took."""

    items: list[Delivery]
    already_ended: PlanSnapshot | None
    seconds: float
    still_open: bool = False


def _event_id(context: Any, plan_id: str, seq: int) -> str:
    stored = context.cli_published[plan_id][seq - 1]
    assert stored.seq == seq, stored
    event_id: str = stored.event.event_id
    return event_id


@given('an HTTP gate in front of the reference server that plays "{action}"')
def given_gate(context: Any, action: str) -> None:
    gate = HttpGate(context.server.port, action)
    run(context, gate.start())
    on_cleanup(context, gate.stop)
    context.gate = gate


@when('a client resumes plan "{plan_id}" after its event seq {seq:d}')
def when_resume(context: Any, plan_id: str, seq: int) -> None:
    _resume(context, context.server.url, plan_id, seq, must_exist=False)


@when('a client resumes plan "{plan_id}" after its event seq {seq:d} through the gate')
def when_resume_gate(context: Any, plan_id: str, seq: int) -> None:
    _resume(context, context.gate.url, plan_id, seq, must_exist=False)


@when(
    'a client resumes plan "{plan_id}" after its event seq {seq:d} through the gate, '
    "with must_exist"
)
def when_resume_gate_must_exist(context: Any, plan_id: str, seq: int) -> None:
    _resume(context, context.gate.url, plan_id, seq, must_exist=True)


def _resume(context: Any, url: str, plan_id: str, seq: int, *, must_exist: bool) -> None:
    last_event_id = _event_id(context, plan_id, seq)

    async def resume() -> Resumed:
        async with PlanStreamClient(url) as client:
            started = time.monotonic()
            stream = client.subscribe(plan_id, last_event_id=last_event_id, must_exist=must_exist)
            async with stream:
                items = [item async for item in stream]
            return Resumed(items, stream.already_ended, time.monotonic() - started)

    # Before the fix this waited for ever: the bound makes that a failure.
    context.resumed = run(context, resume(), timeout=RESUME_LOOKUP_TIMEOUT + 15)


@when(
    'a client following plan "{plan_id}" after its event seq {seq:d} through the gate waits '
    "{seconds:g} seconds"
)
def when_follow(context: Any, plan_id: str, seq: int, seconds: float) -> None:
    last_event_id = _event_id(context, plan_id, seq)

    async def follow() -> Resumed:
        async with PlanStreamClient(context.gate.url) as client:
            started = time.monotonic()
            items: list[Delivery] = []
            async with client.subscribe(plan_id, last_event_id=last_event_id, follow=True) as sub:

                async def take() -> None:
                    async for item in sub:
                        items.append(item)

                # Following never ends by itself: the wait's end is the expected outcome.
                try:
                    async with asyncio.timeout(seconds):
                        await take()
                except TimeoutError:
                    return Resumed(items, sub.already_ended, time.monotonic() - started, True)
            return Resumed(items, sub.already_ended, time.monotonic() - started)

    context.resumed = run(context, follow(), timeout=seconds + 15)


@when(
    'a client\'s resume of plan "{plan_id}" after its event seq {seq:d} is closed while the '
    "gate holds its look-up"
)
def when_closed_during_lookup(context: Any, plan_id: str, seq: int) -> None:
    last_event_id = _event_id(context, plan_id, seq)
    gate: HttpGate = context.gate

    async def body() -> tuple[list[Delivery], int]:
        async with PlanStreamClient(gate.url) as client:
            stream = client.subscribe(plan_id, last_event_id=last_event_id)
            async with asyncio.TaskGroup() as tasks:
                taken = tasks.create_task(_all(stream))
                await until(lambda: bool(gate.gets_of(f"/v1/plans/{plan_id}")), "the look-up")
                await stream.aclose()
            router = client._router
            assert router is not None
            return taken.result(), len(router.channels)

    context.closed_resume = run(context, body(), timeout=RESUME_LOOKUP_TIMEOUT + 15)


async def _all(stream: Any) -> list[Delivery]:
    return [item async for item in stream]


@then('the closed resume ended with no item, and the client never subscribed plan "{plan_id}"')
def then_closed_resume(context: Any, plan_id: str) -> None:
    items, channels = context.closed_resume
    assert items == [], items
    assert channels == 0, (plan_id, channels)


@then('the resumed subscription ended with no item, already ended "{status}" at seq {seq:d}')
def then_ended_at_once(context: Any, status: str, seq: int) -> None:
    resumed: Resumed = context.resumed
    assert resumed.items == [], resumed.items
    snapshot = resumed.already_ended
    assert isinstance(snapshot, PlanSnapshot), resumed
    assert snapshot.status is not None, snapshot
    assert snapshot.status.value == status, snapshot
    assert snapshot.head is not None, snapshot
    assert snapshot.head.seq == seq, snapshot


@then(
    "the resumed subscription delivered seq {first:d} to {last:d}, the last a plan.status "
    '"{status}", and ended'
)
def then_delivered_rest(context: Any, first: int, last: int, status: str) -> None:
    resumed: Resumed = context.resumed
    items = resumed.items
    assert [getattr(item, "seq", None) for item in items] == list(range(first, last + 1)), items
    assert isinstance(items[-1], PlanStatusEvent), items[-1]
    assert items[-1].data.status.value == status, items[-1]
    assert resumed.already_ended is None, resumed


@then("the following subscription was still open with no item")
def then_still_open(context: Any) -> None:
    resumed: Resumed = context.resumed
    assert resumed.still_open, resumed
    assert resumed.items == [], resumed.items
    assert resumed.already_ended is None, resumed


@then("the resume took less than {seconds:g} seconds")
def then_took_less(context: Any, seconds: float) -> None:
    assert context.resumed.seconds < seconds, context.resumed


@then("the resume took the look-up's bound, and less than {seconds:g} seconds more")
def then_took_bound(context: Any, seconds: float) -> None:
    took = context.resumed.seconds
    # The look-up was waited for (never answered), then given up at its bound.
    assert RESUME_LOOKUP_TIMEOUT <= took < RESUME_LOOKUP_TIMEOUT + seconds, context.resumed


@then('the gate saw {count:d} GET of "{path}"')
def then_gate_saw(context: Any, count: int, path: str) -> None:
    gate: HttpGate = context.gate
    assert len(gate.gets_of(path)) == count, gate.requests
    assert gate.upgrades >= 1, "the stream went through the gate too"


@then("the planstream command ended within {seconds:g} seconds, nothing on stdout")
def then_cli_quick_and_empty(context: Any, seconds: float) -> None:
    result = context.cli
    assert result.stdout == "", str(result)
    assert result.seconds < seconds, str(result)
    assert "Traceback" not in result.stderr, str(result)
