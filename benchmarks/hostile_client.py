"""Measure the SDK against the hostile servers of issue 10 (items 7-10).

Run from the repository root: ``python benchmarks/hostile_client.py CASE``
with CASE one of ``poll-flood``, ``poll-trickle``, ``far-seq``, ``invalid-event``,
``bad-resume-id``, ``heartbeat``, ``frame-flood``, ``oversize``. Prints one line
of figures. The hostile servers are the test suite's own
(``features/support/hostile_servers.py``). The poll flood stops the client at
1 GiB RSS so the measurement cannot exhaust the machine.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "features"))

from support.hostile_servers import HostileStreamServer, PollFloodServer

from planstream import ClientSettings, PlanStreamClient

_RSS_GUARD = 1 << 30


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _settings(url: str, **extra: Any) -> ClientSettings:
    values: dict[str, Any] = {"url": url, "reconnect": {"initial_delay": 0.05, "max_delay": 0.5}}
    return ClientSettings(**{**values, **extra})


async def _drain(stream: Any, sink: list[Any]) -> None:
    try:
        async for item in stream:
            sink.append(item)
    except Exception as exc:
        sink.append(exc)


async def poll(trickle: bool) -> str:
    server = PollFloodServer(trickle_every=0.2 if trickle else None, body_limit=4 << 30)
    await server.start()
    settings = _settings(
        server.url,
        transport="auto",
        polling={"fallback_after": 1, "wait": 1.0, "request_timeout": 2.0},
    )
    peak, started, errors = _rss(), time.monotonic(), []
    client = PlanStreamClient(settings=settings, on_state_change=errors.append)
    async with client:
        sink: list[Any] = []
        task = asyncio.ensure_future(_drain(client.subscribe("p"), sink))
        while time.monotonic() - started < (13 if trickle else 6):
            await asyncio.sleep(0.05)
            peak = max(peak, _rss())
            if peak > _RSS_GUARD:
                break
        task.cancel()
    await server.stop()
    failures = [str(c.error)[:90] for c in errors if c.error is not None]
    return (
        f"peak RSS {peak / 2**20:.0f} MiB after {time.monotonic() - started:.1f} s; "
        f"polls {server.polls_started}; "
        f"longest poll fed {max(server.poll_durations, default=0):.1f} s; "
        f"most bytes fed to a poll {max(server.bytes_sent, default=0) / 2**20:.0f} MiB; "
        f"failures {len(failures)}; last {failures[-1:]}"
    )


async def stream(case: str) -> str:
    plans = {"far-seq": "far", "invalid-event": "bad"}
    server = HostileStreamServer(
        far=frozenset({"far"}),
        invalid=frozenset({"bad"}),
        flood=20_000 if case == "frame-flood" else 0,
        oversize=2_000_000 if case == "oversize" else 0,
        silent=case == "heartbeat",
        hello={"heartbeat_s": 1e300} if case == "heartbeat" else None,
    )
    await server.start()
    for seq in range(3):
        await server.publish(
            "ok", "log", {"level": "info", "message": f"{seq}", "stream": "stdout"}
        )
    logs = _Count()
    logging.getLogger("planstream").addHandler(logs)
    logging.getLogger("planstream").setLevel(logging.INFO)
    changes: list[Any] = []
    client = PlanStreamClient(
        settings=_settings(server.url, transport="websocket"), on_state_change=changes.append
    )
    started = time.monotonic()
    healthy: list[Any] = []
    hostile: list[Any] = []
    async with client:
        tasks = [asyncio.ensure_future(_drain(client.subscribe("ok", follow=True), healthy))]
        if case in plans:
            tasks.append(asyncio.ensure_future(_drain(client.subscribe(plans[case]), hostile)))
        if case == "bad-resume-id":
            try:
                tasks.append(
                    asyncio.ensure_future(
                        _drain(client.subscribe("ok2", last_event_id="7" * 5000), hostile)
                    )
                )
            except Exception as exc:
                hostile.append(exc)
        limit = {"far-seq": 15, "invalid-event": 15, "bad-resume-id": 5, "heartbeat": 20}.get(
            case, 5
        )
        detected = None
        while time.monotonic() - started < limit:
            await asyncio.sleep(0.05)
            if case == "heartbeat" and detected is None and any(c.error for c in changes):
                detected = time.monotonic() - started
                break
            if case in plans and hostile and isinstance(hostile[-1], Exception):
                break
        for task in tasks:
            task.cancel()
        stats = client.stats
    await server.stop()
    warnings = sum(line.startswith("WARNING") for line in logs.lines)
    text = "".join(logs.lines)
    ending = hostile[-1] if hostile and isinstance(hostile[-1], Exception) else None
    errors = [str(c.error)[:100] for c in changes if c.error][:2]
    return (
        f"{time.monotonic() - started:.1f} s: subscribes {server.subscribes} "
        f"(subscribe frames {len(server.frames_of_type('subscribe'))}); "
        f"connections {len(server.connections)}; reconnects {stats.reconnects}; "
        f"log lines {len(logs.lines)} ({warnings} WARNING, {len(text)} bytes); "
        f"healthy items {len(healthy)}; hostile ending {ending!r}; "
        f"dead link detected after {detected}; errors {errors}"
    )


def main() -> None:
    case = sys.argv[1]
    if case.startswith("poll"):
        print(case, asyncio.run(poll(case == "poll-trickle")))
    else:
        print(case, asyncio.run(stream(case)))


if __name__ == "__main__":
    main()
