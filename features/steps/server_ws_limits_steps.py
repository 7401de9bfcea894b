"""Steps of the stream's heartbeats, pings, bad frames and limits (server_limits.feature)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import uvicorn
from behave import given, then, use_step_matcher, when
from starlette.applications import Starlette
from starlette.routing import Mount
from support.server_stream_support import named_tap, open_tap
from support.servers import on_cleanup, run

from planstream.server import ServerSettings, create_app

use_step_matcher("parse")


def _assert_utc(ts: str) -> None:
    parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    offset = parsed.utcoffset()
    assert offset is not None, ts
    assert offset.total_seconds() == 0, ts
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 60, ts


def _quoted(text: str) -> list[str]:
    return [part.strip().strip('"') for part in text.replace(" and ", ",").split(",") if part]


# --- heartbeats ----------------------------------------------------------------------


@then(
    'raw client "{name}" receives {count:d} stream heartbeats within {seconds:g} seconds, '
    "at least {gap:g} s apart"
)
def step_heartbeats(context: Any, name: str, count: int, seconds: float, gap: float) -> None:
    tap = named_tap(context, name)

    async def collect() -> list[tuple[float, dict[str, Any]]]:
        arrivals = []
        async with asyncio.timeout(seconds):
            while len(arrivals) < count:
                frame = await tap.next_of_type("heartbeat", timeout=seconds)
                arrivals.append((time.monotonic(), frame))
        return arrivals

    arrivals = run(context, collect())
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(arrivals)]
    assert all(g >= gap for g in gaps), gaps
    tap.last_heartbeat = arrivals[-1][1]  # type: ignore[attr-defined]


@then('the last stream heartbeat of raw client "{name}" has a UTC timestamp and heads {heads}')
def step_last_heartbeat(context: Any, name: str, heads: str) -> None:
    heartbeat = named_tap(context, name).last_heartbeat  # type: ignore[attr-defined]
    assert set(heartbeat) == {"type", "ts", "heads"}, heartbeat
    _assert_utc(heartbeat["ts"])
    assert heartbeat["heads"] == json.loads(heads), heartbeat


def _next_heartbeat(context: Any, name: str) -> dict[str, Any]:
    frame: dict[str, Any] = run(context, named_tap(context, name).next_of_type("heartbeat"))
    return frame


@then(
    'raw client "{name}" receives a stream heartbeat whose head of plan "{plan_id}" is its seq '
    "{seq:d} and whose heads of plans {others} are null"
)
def step_heartbeat_head(context: Any, name: str, plan_id: str, seq: int, others: str) -> None:
    heartbeat = _next_heartbeat(context, name)
    heads = heartbeat["heads"]
    event_id = dict(context.published[plan_id])[seq]
    assert heads[plan_id] == {"seq": seq, "event_id": event_id}, heartbeat
    for other in _quoted(others):
        assert other in heads, heartbeat
        assert heads[other] is None, heartbeat


@then('raw client "{name}" receives a stream heartbeat whose heads name only the plans {plans}')
def step_heartbeat_plans(context: Any, name: str, plans: str) -> None:
    heartbeat = _next_heartbeat(context, name)
    assert set(heartbeat["heads"]) == set(_quoted(plans)), heartbeat


# --- ping and bad frames ------------------------------------------------------------------


@when('raw client "{name}" sends the stream frame {frame}')
def step_send_raw(context: Any, name: str, frame: str) -> None:
    run(context, named_tap(context, name).send(frame))


@when('raw client "{name}" sends a binary stream frame of {size:d} bytes')
def step_send_binary(context: Any, name: str, size: int) -> None:
    run(context, named_tap(context, name).send(bytes(range(250, 256))[:size] or b"\xff"))


@then('raw client "{name}" next receives a stream pong with id {request_id} and a UTC timestamp')
def step_pong(context: Any, name: str, request_id: str) -> None:
    frame = run(context, named_tap(context, name).next_item())
    expected = json.loads(request_id)
    assert frame["type"] == "pong", frame
    assert frame["id"] == expected, frame
    assert type(frame["id"]) is type(expected), frame
    _assert_utc(frame["ts"])


@then(
    'raw client "{name}" next receives a stream error "{code}" with id {request_id} and plan {plan}'
)
def step_error(context: Any, name: str, code: str, request_id: str, plan: str) -> None:
    frame = run(context, named_tap(context, name).next_item())
    expected = json.loads(request_id)
    assert frame["type"] == "error", frame
    assert frame["code"] == code, frame
    assert frame["id"] == expected, frame
    assert type(frame["id"]) is type(expected), frame
    assert frame["plan_id"] == json.loads(plan), frame
    assert isinstance(frame["message"], str), frame
    assert frame["message"], frame


@then('raw client "{name}" still gets a pong for a stream ping')
def step_still_usable(context: Any, name: str) -> None:
    tap = named_tap(context, name)

    async def ping() -> dict[str, Any]:
        request_id = await tap.request({"type": "ping"})
        frame = await tap.next_item()
        assert frame["type"] == "pong", frame
        assert frame["id"] == request_id, frame
        return frame

    run(context, ping())


_BAD_FRAMES = [
    "not json at all",
    '{"type": "nope", "id": "b1"}',
    "[]",
    '{"type": "subscribe", "id": "b2"}',
    '{"type": "ping"}',
    '{"type": "unsubscribe", "id": 3}',
    "null",
    '{"type": "subscribe", "id": "b4", "plan_id": "p", "last_event_id": 5}',
    '{"id": "b5"}',
    "{",
    '{"type": "ping", "id": [1]}',
]


@when('raw client "{name}" sends {count:d} bad stream frames in a row')
def step_send_bad(context: Any, name: str, count: int) -> None:
    tap = named_tap(context, name)

    async def send() -> None:
        for number in range(count):
            await tap.send(_BAD_FRAMES[number % len(_BAD_FRAMES)])

    run(context, send())


def _expected_bad_id(frame: str) -> Any:
    try:
        value = json.loads(frame)
    except ValueError:
        return None
    request_id = value.get("id") if isinstance(value, dict) else None
    return request_id if isinstance(request_id, str | int) else None


@then('raw client "{name}" receives {count:d} stream errors "{code}"')
def step_errors(context: Any, name: str, count: int, code: str) -> None:
    tap = named_tap(context, name)
    for number in range(count):
        frame = run(context, tap.next_item())
        assert frame["type"] == "error", frame
        assert frame["code"] == code, frame
        assert frame["id"] == _expected_bad_id(_BAD_FRAMES[number % len(_BAD_FRAMES)]), frame


@then(
    'raw client "{name}" is closed by the server with code {code:d} after at most {count:d} '
    'stream errors "{error}"'
)
def step_closed_after_errors(context: Any, name: str, code: int, count: int, error: str) -> None:
    tap = named_tap(context, name)
    assert run(context, tap.read_until_closed()) == code
    assert len(tap.frames) <= count, tap.frames
    assert all(f["type"] == "error" for f in tap.frames), tap.frames
    assert all(f["code"] == error for f in tap.frames), tap.frames


@then(
    'raw client "{name}" is closed by the server with code {code:d} after no further stream frame'
)
def step_closed_at_once(context: Any, name: str, code: int) -> None:
    tap = named_tap(context, name)
    seen = len(tap.frames)
    assert run(context, tap.read_until_closed()) == code
    assert tap.frames[seen:] == [], tap.frames[seen:]


@then(
    "the reference server counted {rejected:d} rejected stream frames and {closes:d} abuse closes"
)
def step_rejected(context: Any, rejected: int, closes: int) -> None:
    metrics = context.server.state.metrics
    assert metrics.rejected_frames == rejected, metrics
    assert metrics.abuse_closes == closes, metrics


# --- frame size ------------------------------------------------------------------------------


@when('raw client "{name}" sends a stream ping frame padded to {size:d} bytes')
def step_send_padded(context: Any, name: str, size: int) -> None:
    bare = json.dumps({"type": "ping", "id": "padded", "pad": ""})
    frame = json.dumps({"type": "ping", "id": "padded", "pad": "x" * (size - len(bare))})
    assert len(frame.encode()) == size
    run(context, named_tap(context, name).send(frame))


class _HostServer(uvicorn.Server):
    """uvicorn for a host app in this loop, without signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@given(
    'the stream app with max_frame_bytes {limit:d} mounted at "{prefix}" in a host app served '
    "with a 1 MiB WebSocket limit"
)
def step_mounted(context: Any, limit: int, prefix: str) -> None:
    stream_app = create_app(ServerSettings(max_frame_bytes=limit))
    host = Starlette(routes=[Mount(prefix, app=stream_app)])
    config = uvicorn.Config(
        host,
        host="127.0.0.1",
        port=0,
        ws="websockets-sansio",
        ws_max_size=1 << 20,
        lifespan="off",
        log_level="warning",
    )
    server = _HostServer(config)

    async def start() -> asyncio.Task[None]:
        task = asyncio.create_task(server.serve())
        for _ in range(1000):
            if server.started:
                return task
            await asyncio.sleep(0.01)
        raise AssertionError("the host server did not start")

    task = run(context, start())

    async def stop() -> None:
        # The host's shutdown closes the mounted app's connections (app.py docstring).
        await stream_app.state.planstream.aclose()
        server.should_exit = True
        await asyncio.wait_for(task, 15)

    on_cleanup(context, stop)
    port = server.servers[0].sockets[0].getsockname()[1]
    context.stream_url = f"ws://127.0.0.1:{port}{prefix}/v1/stream"
    context.mounted_state = stream_app.state.planstream


@given('raw client "{name}" connects to the mounted stream')
def step_connect_mounted(context: Any, name: str) -> None:
    run(context, open_tap(context, name, url=context.stream_url))


@then("the mounted stream app counted {count:d} rejected stream frame")
def step_mounted_rejected(context: Any, count: int) -> None:
    assert context.mounted_state.metrics.rejected_frames == count, context.mounted_state.metrics


# --- subscriptions limit ------------------------------------------------------------------------


@then(
    'raw client "{name}" next receives a stream error "{code}" for its last subscribe to plan "{plan_id}"'
)
def step_subscribe_error(context: Any, name: str, code: str, plan_id: str) -> None:
    tap = named_tap(context, name)
    frame = run(context, tap.next_item())
    assert frame["type"] == "error", frame
    assert frame["code"] == code, frame
    assert frame["plan_id"] == plan_id, frame
    assert frame["id"] == tap.requests[plan_id], frame  # type: ignore[attr-defined]
    assert frame["message"], frame
