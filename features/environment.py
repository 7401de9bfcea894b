"""behave hooks shared by every feature.

Each scenario gets ``context.loop``: one event loop for the whole scenario
(created before it, closed after it), so a server started in one step lives
into the next. Pure-module features simply ignore it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

# features/support/ holds helpers shared by step modules (``import support...``).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.step_types import register_step_types

# Before any step module loads (behave loads environment.py first).
register_step_types()


def before_scenario(context: Any, scenario: Any) -> None:
    context.loop = asyncio.new_event_loop()
    if "redis" in scenario.effective_tags:
        from support.redis_servers import redis_available

        if not redis_available():
            # Counted as skipped in CI's closing line, never silently dropped.
            scenario.skip("redis-server is not installed")


def after_scenario(context: Any, scenario: Any) -> None:
    loop: asyncio.AbstractEventLoop = context.loop
    for cleanup in reversed(getattr(context, "async_cleanups", [])):
        loop.run_until_complete(cleanup())
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    for cleanup in reversed(getattr(context, "redis_cleanups", [])):
        cleanup()
