"""Around every call of the Redis event log: its duration, and redis-py's errors translated.

:func:`redis_calls` times a block of Redis calls into an
:class:`~planstream.server.latency.OperationLatency` (``/metrics``:
``planstream_redis_seconds{op}``) and turns redis-py's exceptions into
:class:`~planstream.server.event_log.LogUnavailableError`, whose message
names no URL (a password may be in it, issue 11 item 2).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from redis.exceptions import RedisError

from planstream.server.event_log import LogUnavailableError
from planstream.server.latency import OperationLatency

# Internal to the Redis event log (redis_log.py).
__all__: list[str] = []


def redacted_url(url: str) -> str:
    """``url`` without its user and password (never logged, issue 11 item 2)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@contextlib.asynccontextmanager
async def redis_calls(latency: OperationLatency, operation: str) -> AsyncIterator[None]:
    """Time the calls (a failed one too) as ``operation``; redis-py's exceptions
    become :class:`LogUnavailableError` (no URL in it)."""
    started = time.perf_counter()
    try:
        yield
    except RedisError as exc:
        raise LogUnavailableError(
            f"the Redis event log is unavailable ({type(exc).__name__})"
        ) from None
    finally:
        latency.observe(operation, time.perf_counter() - started)
