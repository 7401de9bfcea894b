"""A program with a callback that raises, run in a process of its own.

``python callback_program.py URL PLAN_ID SETUP`` streams ``PLAN_ID`` with
``client.run`` into a ``LogEvent`` handler that raises on every event and an
every-item handler that counts; it prints ``delivered N`` at the end. SETUP:

* ``bare``: no logging configured, no ``on_error`` hook;
* ``logging``: ``logging.basicConfig`` printing on stdout;
* ``not-propagating``: ``logging`` configured likewise, but the ``planstream``
  logger does not propagate to it;
* ``hook``: an ``on_error`` hook printing ``HOOK ...`` on stdout;
* ``no-last-resort``: no logging, no hook, and ``logging.lastResort = None``.

callback_dispatch.feature reads what reached stdout and stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from planstream import Event, LogEvent, PlanStreamClient, Resync


def report(error: Exception, item: Event | Resync) -> None:
    print(f"HOOK {type(error).__name__} on {type(item).__name__}")


async def main(url: str, plan_id: str, setup: str) -> int:
    if setup in {"logging", "not-propagating"}:
        logging.basicConfig(stream=sys.stdout, format="LOGGED %(levelname)s %(name)s %(message)s")
        logging.getLogger("planstream").propagate = setup == "logging"
    elif setup == "no-last-resort":
        logging.lastResort = None
    client = PlanStreamClient(url, on_error=report if setup == "hook" else None)
    delivered = 0

    @client.on(LogEvent)
    def refuse_logs(event: LogEvent) -> None:
        raise RuntimeError(f"refused log seq {event.seq}")

    @client.on_any
    def count(item: Event | Resync) -> None:
        nonlocal delivered
        delivered += 1

    async with asyncio.timeout(20), client:
        await client.run(plan_id)
    print(f"delivered {delivered}")
    return 0


if __name__ == "__main__":
    url, plan_id, setup = sys.argv[1:]
    raise SystemExit(asyncio.run(main(url, plan_id, setup)))
