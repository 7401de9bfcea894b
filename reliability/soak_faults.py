"""The soak's faults: random disconnects through the proxy, restarts on a schedule.

:func:`inject_disconnects` hits one open connection of the
:class:`~support.fault_proxy.FaultProxy` at a random moment of each of
``count`` equal slots of the run (so the count does not depend on how fast
the machine is), until told to stop: an abrupt drop (1006), a close with a
code a server may send (1001 going away, 1011 internal error, 1012 service
restart, 4008 slow consumer), or a stall the client must notice by itself
(no frame for ``heartbeat_s x 2.5``). Moments, kinds and targets all come
from one seeded ``random.Random``: the seed is in the report.

:func:`restart_on_schedule` restarts the server at given offsets; before each
restart it notes how many client connections the restart closes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field

from soak_processes import SoakServer
from support.fault_proxy import Disconnect, FaultProxy

__all__ = ["DisconnectMix", "RestartLog", "inject_disconnects", "restart_on_schedule"]

#: Codes a server closes with and the client must survive (protocol §4).
CLOSE_CODES = (1001, 1011, 1012, 4008)


@dataclass(frozen=True)
class DisconnectMix:
    """How many disconnects and which: weights of drop, close and stall."""

    count: int = 150  # over the publishing time
    retry: float = 0.05  # no connection open (all reconnecting): try again after, s
    drop: float = 0.5
    close: float = 0.35
    stall: float = 0.15


async def inject_disconnects(
    proxy: FaultProxy, rng: random.Random, stop: asyncio.Event, mix: DisconnectMix, over: float
) -> None:
    """``mix.count`` disconnects, one at a random moment of each slot of
    ``over / count`` seconds, until done or ``stop`` is set."""
    kinds = (Disconnect.DROP, Disconnect.CLOSE, Disconnect.STALL)
    weights = (mix.drop, mix.close, mix.stall)
    slot = over / mix.count
    loop = asyncio.get_running_loop()
    begin = loop.time()
    for number in range(mix.count):
        (how,) = rng.choices(kinds, weights)
        code = rng.choice(CLOSE_CODES)
        due = begin + (number + rng.random()) * slot  # a late slot runs at once
        while not await _stopped_by(stop, due - loop.time()):
            if await proxy.disconnect_one(how, rng, code=code, reason="soak"):
                break
            due = loop.time() + mix.retry  # every connection is away: soon again
        if stop.is_set():
            return


async def _stopped_by(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` (or not at all); whether ``stop`` was set meanwhile."""
    if seconds > 0:
        with suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await stop.wait()
    return stop.is_set()


@dataclass
class RestartLog:
    """What the scheduled restarts did."""

    restarts: int = 0
    connections_closed: int = 0  # client connections open when a restart began
    seconds: list[float] = field(default_factory=list)  # each restart's downtime


async def restart_on_schedule(
    server: SoakServer, proxy: FaultProxy, offsets: Sequence[float], log: RestartLog
) -> None:
    """Restart ``server`` at each offset (seconds after the call)."""
    loop = asyncio.get_running_loop()
    begin = loop.time()
    for offset in offsets:
        await asyncio.sleep(max(0.0, begin + offset - loop.time()))  # the schedule
        log.connections_closed += proxy.open_links
        down = loop.time()
        await server.restart()
        log.seconds.append(round(loop.time() - down, 2))
        log.restarts += 1
