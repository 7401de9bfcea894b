"""The soak's faults: random disconnects through the proxy, restarts on a schedule.

:func:`inject_disconnects` hits one open connection of the
:class:`~support.fault_proxy.FaultProxy` at random moments until told to
stop: an abrupt drop (1006), a close with a code a server may send (1001
going away, 1011 internal error, 1012 service restart, 4008 slow consumer),
or a stall the client must notice by itself (no frame for ``heartbeat_s x
2.5``). Moments, kinds and targets all come from one seeded
``random.Random``: the seed is in the report.

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
    """How often and which disconnects: weights of drop, close and stall."""

    interval: tuple[float, float] = (0.1, 0.4)  # seconds between two, uniform
    drop: float = 0.5
    close: float = 0.35
    stall: float = 0.15


async def inject_disconnects(
    proxy: FaultProxy, rng: random.Random, stop: asyncio.Event, mix: DisconnectMix
) -> None:
    """Disconnect one connection at a time, at random moments, until ``stop`` is set."""
    kinds = (Disconnect.DROP, Disconnect.CLOSE, Disconnect.STALL)
    weights = (mix.drop, mix.close, mix.stall)
    while not stop.is_set():
        with suppress(TimeoutError):
            async with asyncio.timeout(rng.uniform(*mix.interval)):
                await stop.wait()
        if stop.is_set():
            return
        (how,) = rng.choices(kinds, weights)
        code = rng.choice(CLOSE_CODES)
        await proxy.disconnect_one(how, rng, code=code, reason="soak")


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
