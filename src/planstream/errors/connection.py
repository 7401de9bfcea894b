"""Errors of the connection: close codes, refused upgrades, the network.

What :mod:`planstream.close_codes` makes of a close code, an HTTP answer to
the upgrade or a network failure: fatal ones stop the client, retryable ones
make it reconnect with backoff and resume (protocol §2-§4).
"""

from __future__ import annotations

from collections.abc import Sequence

from planstream.errors.base import FatalError, PlanStreamError, RetryableError
from planstream.redaction import redact_secrets

__all__ = [
    "AuthenticationError",
    "ConnectTimeoutError",
    "ConnectionLostError",
    "EndpointNotFoundError",
    "ForbiddenError",
    "HeartbeatTimeoutError",
    "MessageTooBigError",
    "PolicyViolationError",
    "RateLimitedError",
    "RetriesExhaustedError",
    "ServerUnavailableError",
    "SlowConsumerError",
    "TLSError",
    "UpgradeRefusedError",
]


# --- fatal: stop and tell the user (protocol §2, §4) ---------------------------------


class AuthenticationError(FatalError):
    """The token was refused (HTTP 401, close 4001) and cannot be renewed.

    Raised when there is no token provider, or when the token was refused
    again right after a refresh.
    """


class ForbiddenError(FatalError):
    """The token is valid but may not read (HTTP 403, close 4003)."""


class PolicyViolationError(FatalError):
    """The server closed the connection for a policy violation (close 1008)."""


class MessageTooBigError(FatalError):
    """A frame was too big for one side (close 1009).

    Attributes:
        refused_by: ``"server"`` (the server closed with 1009: a frame we sent
            exceeded its limit) or ``"client"`` (this client refused a frame
            larger than its ``max_frame_bytes`` and closed with 1009).
    """

    def __init__(self, message: str, *, refused_by: str = "server") -> None:
        self.refused_by = refused_by
        super().__init__(message)


class TLSError(FatalError):
    """The TLS handshake failed: retrying cannot fix a certificate or a TLS setup.

    An unknown CA, a certificate for another host name, an expired
    certificate, or TLS spoken to a plain-text port. Configure the CA
    (``PLANSTREAM_SSL__CA_FILE``, ``--ca-file``) or the URL.

    Attributes:
        reason: what the TLS library said (e.g. ``"Hostname mismatch,
            certificate is not valid for 'example.org'."``).
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"TLS failed: {reason}")


class RetriesExhaustedError(FatalError):
    """Every reconnect attempt allowed by ``max_attempts`` failed.

    Attributes:
        last_error: the failure of the last attempt (also the ``__cause__``).
        attempts: how many delayed attempts were made.
    """

    def __init__(self, last_error: PlanStreamError, attempts: int) -> None:
        self.last_error = last_error
        self.attempts = attempts
        super().__init__(f"gave up after {attempts} reconnect attempts; last error: {last_error}")
        self.__cause__ = last_error


class ConnectTimeoutError(FatalError):
    """No connection opened within ``connect_timeout`` of the client's start.

    Every waiting ``subscribe()`` iterator and ``wait_open()`` raise it. It is
    only about the *first* connection: once one opened, later outages are
    retried as ``reconnect.*`` says.

    Attributes:
        urls: the server URLs tried (credentials redacted).
        timeout: the ``connect_timeout`` that ran out, seconds.
        last_error: the last failure before the deadline (also the
            ``__cause__``), or None when none had failed (the first attempt
            was still under way: a server that accepts and never answers).
    """

    def __init__(
        self, urls: Sequence[str], timeout: float, last_error: PlanStreamError | None
    ) -> None:
        self.urls = tuple(redact_secrets(url) for url in urls)
        self.timeout = timeout
        self.last_error = last_error
        where = ", ".join(self.urls) if self.urls else "the server"
        why = (
            f"last failure: {last_error}"
            if last_error is not None
            else "no answer yet (the first attempt was still under way)"
        )
        super().__init__(f"no connection to {where} within {timeout:g} s (connect_timeout); {why}")
        self.__cause__ = last_error


# --- retryable: reconnect with backoff and resume (protocol §3, §4) ------------------


class ConnectionLostError(RetryableError):
    """The connection dropped or could not be made (1006, refused, DNS, timeout)."""


class ServerUnavailableError(RetryableError):
    """The server is going away, restarting, failing or overloaded.

    Attributes:
        retry_after: the server's hint in seconds, or None.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class RateLimitedError(RetryableError):
    """The server rate-limited this client (close 4029, HTTP 429).

    Attributes:
        retry_after: the server's hint in seconds, or None.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class SlowConsumerError(RetryableError):
    """The server dropped the connection because we fell behind (close 4008)."""


class HeartbeatTimeoutError(RetryableError):
    """No frame at all arrived for too long: the connection is dead (protocol §3).

    Attributes:
        silent_for: seconds without a frame.
        limit: the allowed silence (``heartbeat_s`` x ``dead_after_factor``).
    """

    def __init__(self, *, silent_for: float, limit: float) -> None:
        self.silent_for = silent_for
        self.limit = limit
        super().__init__(f"no frame for {silent_for:.1f} s (limit {limit:.1f} s)")


class UpgradeRefusedError(RetryableError):
    """An HTTP answer came where a WebSocket upgrade was expected.

    Typically a proxy that does not pass WebSockets; with transport ``auto``
    repeated refusals switch the client to HTTP polling (protocol §6).

    Attributes:
        status: the HTTP status.
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class EndpointNotFoundError(UpgradeRefusedError):
    """No planstream endpoint answers at the URL: something else refused the upgrade.

    A 404, or a 403 that is not a planstream refusal (a planstream server's
    403 carries its JSON error body, protocol §2/§6): typically a wrong path,
    or a server mounted under a prefix the URL does not name
    (``http://host:8001/planstream``). Retryable like every
    :class:`UpgradeRefusedError` (a proxy may answer so during a deploy); the
    ``connect_timeout`` ends the wait for a first connection.

    Attributes:
        url: the URL tried (credentials redacted).
        status: the HTTP status.
    """

    def __init__(self, status: int, url: str, detail: str = "") -> None:
        self.url = redact_secrets(url)
        suffix = f": {detail}" if detail else ""
        super().__init__(
            status,
            f"no planstream endpoint answers at {self.url} (HTTP {status}{suffix}); "
            "check the URL's host, port and path",
        )
