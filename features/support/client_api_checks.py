"""Assertions and fixtures of the client API features that are not steps.

* :func:`publish_plan_run` publishes a whole plan execution (status, steps,
  logs, final status) through the embedded reference server;
* :func:`assert_seqs` checks that delivered items are exactly a seq range,
  once each, in order, with the published event ids;
* ``assert_*`` check snapshots, stats and subscription errors;
* :func:`secret_bearing_texts` gathers every text a token could leak into:
  errors (with their causes), reprs of the client, its settings and its
  subscriptions, state-change errors and every captured log record.
"""

from __future__ import annotations

from typing import Any

from planstream import Resync
from planstream.client import ClientStats
from planstream.errors import SubscriptionError
from planstream.schema.snapshot import PlanSnapshot
from support.client_api_support import WAIT, ClientHost, LogCapture, seqs_of
from support.server_stream_support import log_data
from support.servers import run

__all__ = [
    "assert_clean_stats",
    "assert_last_snapshot",
    "assert_seqs",
    "assert_subscription_error",
    "assert_watch_snapshots",
    "publish_events",
    "publish_plan_run",
    "secret_bearing_texts",
]


def _step(number: int, status: str) -> dict[str, Any]:
    return {
        "step_id": f"step-{number}",
        "index": number,
        "name": f"step number {number}",
        "status": status,
        "error": None,
    }


def publish_plan_run(context: Any, plan_id: str, steps: int, final: str) -> None:
    """Publish a plan that runs ``steps`` steps and ends ``final``: 3 events a step + 2.

    ``plan.status running``; per step ``step.status running``, a ``log``,
    ``step.status succeeded``; then ``plan.status <final>``.
    """
    events: list[tuple[str, dict[str, Any]]] = [
        ("plan.status", {"status": "running", "reason": None})
    ]
    for number in range(1, steps + 1):
        events.append(("step.status", _step(number, "running")))
        events.append(("log", {**log_data(number), "step_id": f"step-{number}"}))
        events.append(("step.status", _step(number, "succeeded")))
    events.append(("plan.status", {"status": final, "reason": None}))
    publish_events(context, plan_id, events)


def publish_events(context: Any, plan_id: str, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Publish ``(kind, data)`` pairs in order; recorded in ``context.published``."""

    async def publish() -> list[tuple[int, str]]:
        appended = []
        for kind, data in events:
            stored = await context.server.publish(plan_id, kind, data)
            appended.append((stored.seq, stored.event.event_id))
        return appended

    context.published.setdefault(plan_id, []).extend(run(context, publish()))


def assert_seqs(context: Any, items: list[Any], plan_id: str, first: int, last: int) -> None:
    """``items`` are exactly the events ``first..last`` of ``plan_id``, once each, in order."""
    seqs = seqs_of(items)
    expected = list(range(first, last + 1))
    if seqs != expected:
        duplicates = sorted({s for s in seqs if seqs.count(s) > 1})
        missing = sorted(set(expected) - set(seqs))
        raise AssertionError(
            f"{plan_id}: expected seq {first}..{last}, got {len(seqs)} items "
            f"(first {seqs[:5]}, last {seqs[-5:]}, duplicates {duplicates[:10]}, "
            f"missing {missing[:10]})"
        )
    published = dict(getattr(context, "published", {}).get(plan_id, []))
    for item in items:
        assert not isinstance(item, Resync), f"unexpected resync {item!r}"
        assert item.plan_id == plan_id, item
        if item.seq in published:
            assert item.event_id == published[item.seq], (item, published[item.seq])


def _error_texts(error: BaseException | None) -> list[str]:
    texts: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        texts += [str(error), repr(error), *(repr(arg) for arg in error.args)]
        error = error.__cause__ or error.__context__
    return texts


def secret_bearing_texts(context: Any) -> list[str]:
    """Every text of the scenario a token must never appear in."""
    host: ClientHost = context.api_host
    client = host.client
    texts = [repr(client), str(client.settings), repr(client.settings), repr(client.stats)]
    texts += [repr(client.settings.token), str(client.settings.token)]
    texts += _error_texts(client.error)
    texts += _error_texts(getattr(context, "api_wait_error", None))
    for change in host.changes:
        texts += [repr(change), *_error_texts(change.error)]
    for consumer in host.consumers:
        texts.append(repr(consumer.iterator))
        if isinstance(consumer.ending, BaseException):
            texts += _error_texts(consumer.ending)
    logs: LogCapture = context.api_logs
    texts += logs.texts()
    texts += [repr(record.args) for record in logs.records]
    return texts


def assert_watch_snapshots(snapshots: list[PlanSnapshot], plan_id: str, count: int) -> None:
    """One snapshot per event ``1..count`` of ``plan_id``, in order."""
    heads = [snapshot.head.seq if snapshot.head else None for snapshot in snapshots]
    assert heads == list(range(1, count + 1)), heads
    assert all(snapshot.plan_id == plan_id for snapshot in snapshots), snapshots


def assert_last_snapshot(
    snapshot: PlanSnapshot,
    head: tuple[int, str],
    status: str,
    steps: list[str],
    step_status: str,
) -> None:
    """The snapshot is ``status`` at ``head`` with exactly ``steps``, each ``step_status``."""
    assert snapshot.status is not None, snapshot
    assert snapshot.status.value == status, snapshot
    assert snapshot.head is not None, snapshot
    assert (snapshot.head.seq, snapshot.head.event_id) == head, (snapshot.head, head)
    assert [step.step_id for step in snapshot.steps] == steps, snapshot.steps
    assert all(step.status.value == step_status for step in snapshot.steps), snapshot.steps


def assert_clean_stats(
    stats: ClientStats, *, connects: int, reconnects: int, delivered: int, state: str
) -> None:
    """Counters of a healthy run: the given ones, an RTT, and no trouble counted."""
    assert (stats.connects, stats.reconnects, stats.events_delivered) == (
        connects,
        reconnects,
        delivered,
    ), stats
    assert stats.state.value == state, stats
    assert stats.last_rtt is not None, stats
    assert 0 <= stats.last_rtt < WAIT, stats
    trouble = (
        stats.duplicates_dropped,
        stats.resyncs,
        stats.frames_rejected,
        stats.callback_errors,
        stats.polls,
        stats.slow_consumer_rewinds,
    )
    assert trouble == (0,) * len(trouble), stats


def assert_subscription_error(error: object, items: list[Any], plan_id: str, code: str) -> None:
    """The iterator ended at once with ``SubscriptionError(plan_id, code)`` naming the plan."""
    assert isinstance(error, SubscriptionError), repr(error)
    assert (error.plan_id, error.code) == (plan_id, code), repr(error)
    assert plan_id in str(error), str(error)
    assert items == [], items
