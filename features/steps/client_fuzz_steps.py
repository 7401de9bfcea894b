"""The fuzz step of client_hostile.feature: hypothesis drives generated and
mutated server frames through the client's decode -> router -> sequencer path.

Frames are built as JSON-like values (every frame type of protocol §3, with
fields sometimes replaced by random JSON, dropped, or pushed out of range),
serialised, and sometimes mutated as text (cut short, a character replaced,
deep nesting, a lone surrogate, padding past ``max_frame_bytes``). Each one is
fed the way the reader feeds it: ``decode_server_frame`` may only raise
``InvalidFrameError`` or ``FrameTooLargeError`` (then ``event_positions`` and
``on_invalid_event`` run), and the router never raises. After every frame the
memory bounds hold: per plan at most ``reorder_window`` buffered events and
``dedup_window`` remembered ids, every inbox within its capacity, and a plan
with buffered events always has a deadline (no silent stall).
"""

from __future__ import annotations

import json
import random
from typing import Any

from behave import then
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hypothesis_runs import run_property

from planstream.backoff import BackoffPolicy
from planstream.client.inbox import SubscriptionInbox
from planstream.client.router_signals import ConnectionSignals
from planstream.codec import decode_server_frame, event_positions
from planstream.errors import FrameTooLargeError, InvalidFrameError
from planstream.router import StreamRouter
from planstream.sequencer import Sequencer

_PLANS = ("p1", "p2", "x9")  # x9 is never subscribed
_MAX_BYTES = 4096
_REORDER, _DEDUP, _QUEUE = 8, 16, 16

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _mostly(common: Any, rare: Any) -> Any:
    """``common`` about nine times in ten, else ``rare``."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 0 else common)


_seq = _mostly(st.integers(1, 30), st.one_of(st.integers(-3, 2**64), st.just(2**53 - 1)))
_event_id = _mostly(st.sampled_from(["e1", "e2", "e3", "e5", "e9"]), st.text(max_size=140))
_plan = _mostly(st.sampled_from(_PLANS), st.text(max_size=4))
_ts = _mostly(st.just("2026-01-01T00:00:00Z"), st.sampled_from(["yesterday", 5]))
_DATA = {
    "plan.status": st.fixed_dictionaries(
        {"status": _mostly(st.sampled_from(["queued", "running", "succeeded"]), st.just("bad"))}
    ),
    "plan.progress": st.fixed_dictionaries(
        {"completed_steps": _seq, "total_steps": _seq, "percent": st.floats(-1, 101)}
    ),
    "step.status": st.fixed_dictionaries(
        {
            "step_id": st.text(max_size=3),
            "index": _seq,
            "name": st.just("s"),
            "status": _mostly(st.sampled_from(["pending", "failed"]), st.just("exploded")),
        }
    ),
    "log": st.fixed_dictionaries(
        {
            "level": _mostly(st.just("info"), st.just("loud")),
            "message": st.text(max_size=10),
            "stream": st.just("stdout"),
        }
    ),
    "future.kind": _json,
}


@st.composite
def _event(draw: Any) -> dict[str, Any]:
    seq = draw(_seq)
    kind = draw(st.sampled_from(sorted(_DATA)))
    event = {
        "type": "event",
        "plan_id": draw(_plan),
        "event_id": draw(_mostly(st.just(f"e{seq}"), _event_id)),
        "seq": seq,
        "ts": draw(_ts),
        "kind": kind,
        "data": draw(_DATA[kind]),
    }
    return draw(_mutated(event))


@st.composite
def _mutated(draw: Any, value: dict[str, Any]) -> dict[str, Any]:
    """Sometimes drop a field or replace one with random JSON."""
    if value and draw(st.integers(0, 9)) == 0:
        key = draw(st.sampled_from(sorted(value)))
        if draw(st.booleans()):
            value = {k: v for k, v in value.items() if k != key}
        else:
            value = {**value, key: draw(_json)}
    return value


def _head(draw: Any) -> dict[str, Any] | None:
    if draw(st.booleans()):
        return None
    seq = draw(_seq)
    return {"seq": seq, "event_id": draw(st.one_of(st.just(f"e{seq}"), _event_id))}


@st.composite
def _frame(draw: Any) -> Any:
    kind = draw(st.sampled_from(["event", "batch", "subscribed", "resync", "heartbeat", "other"]))
    if kind == "event":
        return draw(_event())
    plan_id = draw(_plan)
    if kind == "batch":
        return {"type": "batch", "events": draw(st.lists(_event(), max_size=6))}
    if kind == "subscribed":
        frame = {"type": "subscribed", "id": draw(st.integers(0, 6)), "plan_id": plan_id}
        return draw(_mutated({**frame, "head": _head(draw)}))
    if kind == "resync":
        snapshot = {"plan_id": plan_id, "status": None, "steps": [], "head": _head(draw)}
        frame = {"type": "resync", "id": draw(st.integers(0, 6)), "plan_id": plan_id}
        reason = draw(st.sampled_from(["retention_expired", "unknown_event_id", "bogus"]))
        return draw(_mutated({**frame, "reason": reason, "snapshot": snapshot}))
    if kind == "heartbeat":
        heads = {p: _head(draw) for p in draw(st.lists(_plan, max_size=3))}
        return draw(_mutated({"type": "heartbeat", "ts": "2026-01-01T00:00:00Z", "heads": heads}))
    return draw(
        st.one_of(
            _json,
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["error", "pong", "hello", "unsubscribed", "nope"]),
                    "id": st.one_of(st.integers(), st.text(max_size=4)),
                    "plan_id": _plan,
                    "code": st.sampled_from(["not_found", "internal", "weird"]),
                    "message": st.text(max_size=8),
                }
            ),
        )
    )


@st.composite
def _raw(draw: Any) -> str:
    text = json.dumps(draw(_frame()))
    mutation = draw(st.integers(0, 19))
    if mutation == 0 and text:
        return text[: draw(st.integers(0, len(text) - 1))]
    if mutation == 1 and text:
        at = draw(st.integers(0, len(text) - 1))
        return (
            text[:at]
            + draw(st.sampled_from(['"', "\\", "{", "]", "\ud800", "\x00"]))
            + text[at + 1 :]
        )
    if mutation == 2:
        return "[" * draw(st.integers(100, 5000))
    if mutation == 3:
        return text[:-1] + ', "pad": "' + "x" * _MAX_BYTES + '"}' if text.endswith("}") else text
    return text


_op = st.one_of(
    st.tuples(st.just("frame"), _raw(), st.floats(0, 3)),
    st.tuples(st.just("frame"), _raw(), st.floats(0, 0.1)),
    st.tuples(st.just("answer"), st.sampled_from(_PLANS), st.one_of(st.none(), _seq)),
    st.tuples(st.just("run"), st.sampled_from(_PLANS), st.integers(-2, 12), st.integers(1, 12)),
    st.tuples(st.just("tick"), st.floats(0, 5)),
    st.tuples(st.just("reconnect")),
)


def _router() -> StreamRouter:
    sequencer = Sequencer(
        reorder_window=_REORDER,
        dedup_window=_DEDUP,
        gap_timeout=1.0,
        resubscribe_timeout=2.0,
        repair_backoff=BackoffPolicy(initial_delay=0.1, max_delay=1.0),
        max_failed_repairs=3,
        rng=random.Random(1),
    )
    router = StreamRouter(sequencer, ConnectionSignals())
    router.go_online()
    router.attach(SubscriptionInbox("p1", last_event_id=None, follow=True, capacity=_QUEUE))
    router.attach(SubscriptionInbox("p2", last_event_id="e5", follow=False, capacity=_QUEUE))
    return router


def _feed(router: StreamRouter, raw: str, now: float) -> None:
    try:
        frame = decode_server_frame(raw, max_bytes=_MAX_BYTES)
    except (InvalidFrameError, FrameTooLargeError) as exc:
        reason = getattr(exc, "reason", str(exc))
        for plan_id, seq in event_positions(raw):
            router.on_invalid_event(plan_id, seq, reason, now)
        return
    router.on_frame(frame, now)


def _answer(router: StreamRouter, plan_id: str, head_seq: int | None) -> str:
    """A ``subscribed`` answering the plan's pending request, if any (so the
    sequencer tracks it), as the server would send it."""
    channel = router.channels.get(plan_id)
    request_id = 0 if channel is None or channel.pending_id is None else channel.pending_id
    head = None if head_seq is None else {"seq": head_seq, "event_id": f"e{head_seq}"}
    return json.dumps({"type": "subscribed", "id": request_id, "plan_id": plan_id, "head": head})


def _run(router: StreamRouter, plan_id: str, offset: int, length: int) -> str:
    """A batch of ``length`` well-formed events of ``plan_id`` from ``offset``
    past its position: the sequencer's ordinary work between the attacks."""
    position = 0
    if plan_id in router.sequencer._cursors:
        position = router.sequencer.position(plan_id).seq or 0
    first = max(1, position + offset)
    events = [
        {
            "type": "event",
            "plan_id": plan_id,
            "event_id": f"e{seq}",
            "seq": seq,
            "ts": "2026-01-01T00:00:00Z",
            "kind": "log",
            "data": {"level": "info", "message": "m", "stream": "stdout"},
        }
        for seq in range(first, first + length)
    ]
    return json.dumps({"type": "batch", "events": events})


def _check_bounds(router: StreamRouter) -> None:
    sequencer = router.sequencer
    for plan, cursor in sequencer._cursors.items():
        assert plan in router.channels, plan  # nothing tracked without a subscriber
        assert len(cursor.buffer) <= _REORDER, (plan, sorted(cursor.buffer))
        assert len(cursor.recent_ids) <= _DEDUP + 1, (plan, len(cursor.recent_ids))
        assert len(cursor.recent_order or ()) <= _DEDUP + 1, plan
        if cursor.buffer:
            due = (cursor.gap_deadline, cursor.repair_deadline, cursor.repair_due)
            assert any(d is not None for d in due), plan  # never a silent stall
    for channel in router.channels.values():
        for inbox in channel.inboxes:
            queued = len(inbox.items or ())
            assert queued <= _QUEUE, (channel.plan_id, queued)


def _fuzz_property(examples: int) -> Any:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(_op, min_size=1, max_size=40))
    def prop(ops: list[tuple[Any, ...]]) -> None:
        router = _router()
        now = 0.0
        for op in ops:
            if op[0] == "frame":
                now += op[2]
                _feed(router, op[1], now)
            elif op[0] == "run":
                _feed(router, _run(router, op[1], op[2], op[3]), now)
            elif op[0] == "answer":
                _feed(router, _answer(router, op[1], op[2]), now)
            elif op[0] == "tick":
                now += op[1]
                router.tick(now)
            else:
                router.go_offline()
                router.go_online()
            router.take_outbox()
            _check_bounds(router)

    return prop


@then(
    "any generated or mutated server frame fed through decode, router and sequencer raises "
    "only InvalidFrameError or FrameTooLargeError and keeps memory bounded ({examples:d} examples)"
)
def step_fuzz(context: Any, examples: int) -> None:
    run_property(_fuzz_property(examples))
