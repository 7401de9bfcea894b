"""A subscriber for frame_tap.feature, run as a subprocess with the environment's settings.

    python features/support/frame_tap_program.py PLAN_ID [--app-logging] [--show-error]

The client is built from ``PLANSTREAM_*`` alone (``PLANSTREAM_DEBUG_FRAMES``
included), as an application would. Every item is one JSON line on stdout;
a failed stream prints its error's type (never its text) on stderr and exits
1. ``--app-logging``: the application configures logging itself first
(``logging.basicConfig`` with an ``APP`` prefix), so the frame tap must add
no handler of its own. ``--show-error``: a failed stream prints its error's
text too (a hostile server's echo of the token must not be in it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from planstream import PlanStreamClient
from planstream.errors import PlanStreamError


async def follow(plan_id: str) -> int:
    async with PlanStreamClient() as client:
        try:
            async for item in client.subscribe(plan_id):
                print(json.dumps(item.model_dump(mode="json"), sort_keys=True), flush=True)
        except PlanStreamError as exc:
            print(f"stream failed: {type(exc).__name__}", file=sys.stderr, flush=True)
            if "--show-error" in sys.argv:  # the error's text too (the SDK redacted it)
                print(f"error text: {exc}", file=sys.stderr, flush=True)
            return 1
    return 0


def main() -> int:
    plan_id, *flags = sys.argv[1:]
    if "--app-logging" in flags:
        logging.basicConfig(
            level=logging.INFO, format="APP %(name)s %(message)s", stream=sys.stderr
        )
    return asyncio.run(follow(plan_id))


if __name__ == "__main__":
    raise SystemExit(main())
