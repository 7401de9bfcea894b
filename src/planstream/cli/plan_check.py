"""``planstream watch``: what it says about plans the server does not know.

A plan exists from its first event (protocol §6), and ``watch`` may start
before it, so by default it waits; it says so once on stderr, so a typo in a
plan id does not look like a silent hang. ``--must-exist`` fails instead
(exit 2), through the SDK's ``subscribe(plan_id, must_exist=True)``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import IO

from planstream.cli.failures import CommandError
from planstream.cli.terminal import printable
from planstream.client.client import PlanStreamClient
from planstream.client.inbox import Subscription
from planstream.errors import PlanNotFoundError, PlanStreamError

__all__ = ["note_unknown_plan", "subscription", "waiting_line"]


def waiting_line(plan_id: str) -> str:
    """The one line ``watch`` writes while it waits for an unknown plan."""
    return printable(
        f"planstream: waiting for plan {plan_id!r}: the server does not know it yet "
        "(a plan appears with its first event; --must-exist fails instead)"
    )


async def note_unknown_plan(
    client: PlanStreamClient, plan_id: str, err: IO[str] | None = None
) -> None:
    """Write :func:`waiting_line` on stderr if the server does not know ``plan_id``.

    Any other failure of the look-up is left to the stream, which reports it.
    """
    try:
        await client.snapshot(plan_id)
    except PlanNotFoundError:
        err = err if err is not None else sys.stderr
        err.write(waiting_line(plan_id) + "\n")
        err.flush()
    except PlanStreamError:
        return


@asynccontextmanager
async def subscription(
    client: PlanStreamClient,
    plan_id: str,
    *,
    last_event_id: str | None,
    follow: bool,
    must_exist: bool,
) -> AsyncIterator[Subscription]:
    """``client.subscribe(...)``; an unknown plan with ``must_exist`` is one error line."""
    stream = client.subscribe(
        plan_id, last_event_id=last_event_id, follow=follow, must_exist=must_exist
    )
    try:
        async with stream:
            yield stream
    except PlanNotFoundError as exc:
        raise CommandError(f"{exc}; --must-exist was given, so watch does not wait") from None
