"""The fuzz scenario of server_hostile_ws.feature: hypothesis drives the frame handler.

Each example builds a real :class:`~planstream.server.stream_session.StreamSession`
over a real :class:`MemoryEventLog` (plans with events, one whose snapshot is
larger than a frame) with small limits and an injected monotonic clock, feeds
it a sequence of generated and mutated client frames, and after every frame
checks that the frame was answered (or the connection closed), that every
frame it would send decodes as a server frame within ``max_frame_bytes``, and
that subscriptions and the control queue stay within their settings.
Derandomized, no example database (nothing written into the repository).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from behave import then
from hypothesis import HealthCheck, settings
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st
from support.hypothesis_runs import run_property

from planstream.codec import decode_server_frame
from planstream.server import MemoryEventLog, Principal, ServerSettings
from planstream.server.event_log import NewEvent
from planstream.server.fanout import Fanout
from planstream.server.frame_budget import BATCH_PREFIX, BATCH_SUFFIX
from planstream.server.metrics import ServerMetrics
from planstream.server.publishing import validate_new_event
from planstream.server.stream_session import StreamSession

_MAX_FRAME = 4096
_SETTINGS = ServerSettings(
    max_frame_bytes=_MAX_FRAME,
    max_subscriptions=3,
    control_queue_size=16,
    frame_rate=5,
    frame_burst=15,
)
_LONG_PLAN = "L" * 256
_PLANS = ["p", "q", "wide", "empty", _LONG_PLAN]
_BAD_PLANS = ["", "a/b", " ", "a\x00b", "a\nb", "a\u202eb", "x" * 257, 5, None, ["p"]]
_GOOD_EVENT_IDS = [None, "inc.1", "inc.3", "inc.22", "inc.99999", "inc.²", "other.1", "x" * 128]
_BAD_EVENT_IDS = ["", "e" * 129, 7]
# Half the choices valid, half not: most frames must get past validation to
# reach the handler's deeper paths (subscribe, replace, refuse, rate limit).
_PLAN_IDS = st.one_of(st.sampled_from(_PLANS), st.sampled_from(_BAD_PLANS))
_EVENT_IDS = st.one_of(st.sampled_from(_GOOD_EVENT_IDS), st.sampled_from(_BAD_EVENT_IDS))
_GOOD_REQUEST_IDS = ["r1", "é" * 128, 0, 42, 2**63 - 1, -(2**63)]
_REQUEST_IDS = st.one_of(
    st.sampled_from(_GOOD_REQUEST_IDS),
    st.one_of(
        st.text(max_size=140),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([None, True, 1.5, [1], {"a": 1}]),
    ),
)


def _valid(kind: str, data: dict[str, Any]) -> NewEvent:
    return validate_new_event(kind, data, allow_unknown_kinds=False)


def _log_data(number: int) -> dict[str, Any]:
    return {"level": "info", "message": f"line {number}", "step_id": None, "stream": "stdout"}


def _step_data(number: int) -> dict[str, Any]:
    return {
        "step_id": f"step-{number}",
        "index": number,
        "name": "n" * 120,
        "status": "running",
        "error": None,
    }


async def _filled_log() -> MemoryEventLog:
    log = MemoryEventLog(retention=20, incarnation="inc")
    ts = datetime.now(UTC)
    for plan_id in ("p", "q", _LONG_PLAN):
        await log.append(plan_id, [_valid("log", _log_data(n)) for n in range(25)], ts=ts)
    # A snapshot of 60 long steps is larger than one frame: a resync must cut it.
    await log.append("wide", [_valid("step.status", _step_data(n)) for n in range(60)], ts=ts)
    return log


@st.composite
def _good_frame(draw: Any) -> dict[str, Any]:
    """A frame valid under protocol §1 and §3, mostly subscribes."""
    kind = draw(st.sampled_from(["subscribe", "subscribe", "unsubscribe", "ping"]))
    frame: dict[str, Any] = {"type": kind, "id": draw(st.sampled_from(_GOOD_REQUEST_IDS))}
    if kind != "ping":
        frame["plan_id"] = draw(st.sampled_from(_PLANS))
    if kind == "subscribe":
        frame["last_event_id"] = draw(st.sampled_from(_GOOD_EVENT_IDS))
    return frame


@st.composite
def _valid_frame(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["subscribe", "unsubscribe", "ping"]))
    frame: dict[str, Any] = {"type": kind, "id": draw(_REQUEST_IDS)}
    if kind != "ping":
        frame["plan_id"] = draw(_PLAN_IDS)
    if kind == "subscribe":
        frame["last_event_id"] = draw(_EVENT_IDS)
    return frame


@st.composite
def _mutated(draw: Any) -> str | bytes:
    text = json.dumps(draw(_valid_frame()))
    how = draw(st.sampled_from(["cut", "insert", "nest", "surrogate", "bytes", "wrap"]))
    at = draw(st.integers(0, len(text)))
    if how == "cut":
        return text[:at]
    if how == "insert":
        return text[:at] + draw(st.text(min_size=1, max_size=8)) + text[at:]
    if how == "nest":
        depth = draw(st.integers(1, 2000))
        return text[:at] + "[" * depth + text[at:]
    if how == "surrogate":
        return text.replace('"id": "', '"id": "\\ud800', 1)
    if how == "bytes":
        return text.encode()[:at] + draw(st.binary(max_size=8))
    return "[" + text + "]"


_CLIENT_INPUT = st.one_of(
    _good_frame().map(json.dumps),
    _good_frame().map(json.dumps),
    _good_frame().map(json.dumps),
    _valid_frame().map(json.dumps),
    _mutated(),
    st.text(max_size=64),
    st.binary(max_size=64),
    st.just("[" * 1000),
)
# Pauses between frames (seconds on the injected clock): mostly none, so the
# rate limit (5/s, burst 15) is reached in many examples.
_STEP = st.tuples(_CLIENT_INPUT, st.sampled_from([0.0, 0.0, 0.0, 0.05, 0.5]), st.booleans())


class _Probe:
    """Runs one example: the session, its clock and what it asked for."""

    def __init__(self, log: MemoryEventLog) -> None:
        self.now = 0.0
        self.closes: list[tuple[int, str]] = []
        self.metrics = ServerMetrics()
        self.session = StreamSession(
            principal=Principal("fuzz"),
            log=log,
            fanout=Fanout(),
            settings=_SETTINGS,
            metrics=self.metrics,
            session_id="fuzz",
            request_close=lambda code, reason: self.closes.append((code, reason)),
            wake=lambda: None,
            clock=lambda: datetime.now(UTC),
            monotonic=lambda: self.now,
        )

    def check_bounds(self) -> None:
        session = self.session
        assert len(session.subs) <= _SETTINGS.max_subscriptions, session.subs
        assert len(session.control) <= _SETTINGS.control_queue_size, len(session.control)
        assert self.metrics.subscriptions == len(session.subs), self.metrics

    async def drain(self) -> None:
        """Send what a sender would: every queued frame, then the events."""
        session = self.session
        while session.control:
            item = session.control.popleft()
            for text in session.render(item):
                _check_sendable(text)
            if item.activates is not None:
                item.activates.active = True
        texts = await session.collect_events()
        if texts:
            frame = texts[0] if len(texts) == 1 else BATCH_PREFIX + ",".join(texts) + BATCH_SUFFIX
            _check_sendable(frame)


def _check_sendable(text: str) -> None:
    assert len(text.encode()) <= _MAX_FRAME, (len(text.encode()), text[:200])
    decode_server_frame(text, max_bytes=_MAX_FRAME)


def _frame_handler_property(context: Any) -> Any:
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @hypothesis_given(st.lists(_STEP, min_size=15, max_size=40))
    def prop(steps: list[tuple[str | bytes, float, bool]]) -> None:
        context.loop.run_until_complete(_run_example(steps))

    return prop


async def _run_example(steps: list[tuple[str | bytes, float, bool]]) -> None:
    probe = _Probe(await _filled_log())
    session = probe.session
    for raw, pause, heartbeat in steps:
        probe.now += pause
        queued = len(session.control)
        still_open = await session.handle(raw)  # never raises
        probe.check_bounds()
        assert still_open == (not probe.closes), probe.closes
        if not still_open:
            code, reason = probe.closes[0]
            assert code in (1008, 1009, 4008, 4029), probe.closes
            assert len(reason.encode()) <= 123, reason  # a close reason's limit
            return
        assert len(session.control) > queued, f"no answer to {raw[:80]!r}"
        if heartbeat:
            session.queue_heartbeat()
        await probe.drain()


@then(
    "the stream session answers any sequence of generated and mutated client frames with valid "
    "server frames within max_frame_bytes and its bounds"
)
def step_fuzz_frame_handler(context: Any) -> None:
    run_property(_frame_handler_property(context))
