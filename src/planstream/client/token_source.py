"""Where the bearer token of each connect comes from: a provider, or the static one.

A token provider is user code, called before every connect (protocol §2: an
expired token is refreshed). When it raises, :class:`TokenSource` logs the
exception's type - never its text, which may hold a secret - at most a few
times a minute, and raises a ``retry`` verdict: the connection state machine
draws a backoff delay for it and counts it toward ``max_attempts``, so a
provider that keeps failing ends in ``RetriesExhaustedError`` whose cause is
the provider's :class:`~planstream.errors.AuthenticationError`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Final, TypeAlias

from pydantic import SecretStr

from planstream.client.clock import now
from planstream.close_codes import Verdict, VerdictKind
from planstream.errors import AuthenticationError
from planstream.log_limiter import LogLimiter
from planstream.transport.websocket import TransportFailedError

__all__ = ["TokenProvider", "TokenSource"]

logger = logging.getLogger("planstream.client")

#: An async callable returning a fresh bearer token; called before every connect.
TokenProvider: TypeAlias = Callable[[], Awaitable[str]]

#: A failing token provider is logged at most this many lines per interval (s).
_LOG_BURST: Final = 3
_LOG_INTERVAL: Final = 60.0


class TokenSource:
    """The token of each connect: ``provider()`` if there is one, else ``static``."""

    __slots__ = ("_failures", "provider", "static")

    def __init__(self, provider: TokenProvider | None, static: SecretStr | None) -> None:
        self.provider = provider
        self.static = static
        self._failures: LogLimiter | None = None  # made at the provider's first failure

    async def token(self) -> str | None:
        """The token for the next connect.

        Raises:
            TransportFailedError: the provider raised; a ``retry`` verdict.
        """
        if self.provider is None:
            return None if self.static is None else self.static.get_secret_value()
        try:
            return await self.provider()
        except Exception as exc:  # user code: its text may hold a secret
            kind = type(exc).__name__
            self._log_failure(kind)
            error = AuthenticationError(f"the token provider raised {kind}")
            raise TransportFailedError(Verdict(VerdictKind.RETRY, error)) from None

    def _log_failure(self, kind: str) -> None:
        failures = self._failures
        if failures is None:
            failures = self._failures = LogLimiter(_LOG_INTERVAL, _LOG_BURST)
        silenced = failures.allow(now())
        if silenced is None:
            return
        more = f" ({silenced} similar failures not logged)" if silenced else ""
        logger.warning("the token provider raised %s%s", kind, more)

    def flush(self) -> None:
        """Report the failures not logged yet (the client stops)."""
        failures = self._failures
        if failures is not None and failures.suppressed:
            logger.warning("%d more token provider failures were not logged", failures.suppressed)
            failures.suppressed = 0
