"""Making a client's subscriptions, and folding one into plan states (``watch``).

:func:`open_subscription` is the body of ``PlanStreamClient.subscribe``: it
picks the start (the user's ``last_event_id``, else the durable cursor's
position), attaches the inbox to the router now or after an HTTP look-up
(:func:`~planstream.client.plan_api.attach_when_known`), and hands the
subscription its observers. :func:`folded_states` is ``watch``'s fold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from planstream.client.connection_driver import ConnectionDriver
from planstream.client.inbox import Subscription, SubscriptionInbox
from planstream.client.observers import SubscriptionObservers
from planstream.client.plan_api import attach_when_known
from planstream.delivery import Resync
from planstream.errors import ClientClosedError
from planstream.plan_state import PlanState
from planstream.router import StreamRouter
from planstream.schema.snapshot import PlanSnapshot

__all__ = ["folded_states", "open_subscription"]


def open_subscription(
    plan_id: str,
    last_event_id: str | None,
    *,
    follow: bool,
    must_exist: bool,
    durable: bool,
    router: StreamRouter,
    driver: ConnectionDriver,
    observing: SubscriptionObservers,
    capacity: int,
    snapshot: Callable[[str], Awaitable[PlanSnapshot]],
) -> Subscription:
    """A subscription to ``plan_id`` (ids checked by the caller).

    ``durable``: without ``last_event_id`` it starts from the durable cursor,
    and its progress is committed there (``watch()`` folds the whole plan: not).
    ``snapshot``: the client's HTTP look-up of a plan, for a resume or ``must_exist``.
    """
    if last_event_id is None and durable:  # resume after a process restart
        last_event_id = observing.start_after(plan_id)
    inbox = SubscriptionInbox(
        plan_id, last_event_id=last_event_id, follow=follow, capacity=capacity
    )
    start = None
    if driver.stopped.is_set():
        inbox.end(driver.error or ClientClosedError("the client was closed"))
    elif must_exist or (last_event_id is not None and not follow):
        # A resume may start after the plan's last event: look it up first.
        start = attach_when_known(snapshot, inbox, router.attach, must_exist=must_exist)
    else:
        router.attach(inbox)
    return Subscription(
        inbox,
        rewind=router.rewind,
        detach=router.detach,
        start=start,
        observers=observing.durable if durable else observing.transient,
    )


async def folded_states(plan_id: str, subscription: Subscription) -> AsyncIterator[PlanSnapshot]:
    """The plan's folded state (protocol §5 snapshot) after each item that changed it."""
    state = PlanState(plan_id)
    async with subscription as stream:
        async for item in stream:
            if isinstance(item, Resync):
                state = PlanState.from_snapshot(item.snapshot)
            elif not state.apply(item):
                continue
            yield state.snapshot()
