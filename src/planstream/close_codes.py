"""Failure classification (pure): what a connection failure means for the client.

Everything that can end a connection attempt or an open connection is turned
into a :class:`Verdict` here, in one place: a WebSocket close code and reason
(protocol §4), an HTTP status refusing the upgrade (protocol §2 and §6), a
network error, a silent connection (protocol §3). The verdict says what kind
of failure it is (retry, refresh the token, fatal, or a hint that a proxy
answered instead of the WebSocket server) and carries the
:class:`~planstream.errors.PlanStreamError` to report or raise.
:class:`~planstream.connection_state.ConnectionStateMachine` decides what
happens next from the verdict.

These functions never raise: whatever the server sends as a close reason or
an error body, the worst outcome is that a hint in it is ignored.
"""

from __future__ import annotations

import json
import math
import ssl
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from pydantic import ValidationError

from planstream.errors import (
    AuthenticationError,
    ConnectionLostError,
    EndpointNotFoundError,
    ForbiddenError,
    HeartbeatTimeoutError,
    IncompatibleProtocolError,
    MessageTooBigError,
    PlanStreamError,
    PolicyViolationError,
    RateLimitedError,
    ServerUnavailableError,
    SlowConsumerError,
    TLSError,
    UpgradeRefusedError,
    frame_excerpt,
)
from planstream.negotiation import client_versions, incompatible_subprotocols
from planstream.schema.http import HttpErrorBody

__all__ = [
    "CloseCode",
    "Verdict",
    "VerdictKind",
    "classify_close",
    "classify_frame_refused",
    "classify_heartbeat_timeout",
    "classify_http_status",
    "classify_network_error",
    "parse_retry_after",
]

#: Longest excerpt of a close reason or HTTP body kept in an error message.
_EXCERPT = 120


class CloseCode(IntEnum):
    """The WebSocket close codes of protocol §4 (and 1006, the abrupt loss)."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    ABNORMAL_CLOSURE = 1006  # never sent: the connection dropped without a close frame
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    TOKEN_EXPIRED = 4001
    FORBIDDEN = 4003
    INCOMPATIBLE = 4006
    SLOW_CONSUMER = 4008
    RATE_LIMITED = 4029


class VerdictKind(StrEnum):
    """What a failure calls for."""

    RETRY = "retry"  # reconnect with backoff, resume
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - ask the token provider, reconnect
    FATAL = "fatal"  # stop and tell the user
    FALLBACK = "fallback"  # an HTTP answer where a WebSocket was expected: maybe poll


@dataclass(frozen=True, slots=True)
class Verdict:
    """The meaning of one failure.

    Attributes:
        kind: what the failure calls for.
        error: the error to raise (``fatal``) or report (the others).
        retry_after: the server's hint, in seconds, of how long to wait before
            reconnecting (a lower bound for the backoff delay), if it gave one.
    """

    kind: VerdictKind
    error: PlanStreamError
    retry_after: float | None = None


def _seconds(value: object) -> float | None:
    """A non-negative, finite number of seconds, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _retry_after_from_reason(reason: str) -> float | None:
    # protocol §4: the reason of 1013/4029 may be JSON {"retry_after": seconds}
    try:
        payload = json.loads(reason)
    except (ValueError, RecursionError):
        return None
    return _seconds(payload.get("retry_after")) if isinstance(payload, dict) else None


def parse_retry_after(value: float | str | None) -> float | None:
    """Seconds from an HTTP ``Retry-After`` value, or None.

    Only the delta-seconds form is understood (the HTTP-date form needs a clock,
    which pure code does not read); negative, non-finite or malformed values
    are ignored.
    """
    if isinstance(value, str):
        try:
            return _seconds(float(value.strip()))
        except ValueError:
            return None
    return _seconds(value)


def _closed(code: int, reason: str) -> str:
    if code == CloseCode.ABNORMAL_CLOSURE:
        return "the connection dropped without a close frame (1006)"
    text = f"the server closed the connection with code {code}"
    return f"{text} ({frame_excerpt(reason, _EXCERPT)!r})" if reason else text


def classify_close(code: int, reason: str, *, has_token_provider: bool) -> Verdict:
    """Classify a WebSocket close (protocol §4).

    Args:
        code: the close code received, 1006 when the connection dropped without
            a close frame.
        reason: the close reason (may be JSON ``{"retry_after": seconds}``).
        has_token_provider: whether the client can refresh its token.

    Returns:
        The verdict. A 1000 is classified as a retry: the client only ends a
        connection through :meth:`ConnectionStateMachine.close`, so a normal
        closure it did not ask for is a loss like any other.
    """
    text = _closed(code, reason)
    if code in (CloseCode.GOING_AWAY, CloseCode.INTERNAL_ERROR, CloseCode.SERVICE_RESTART):
        return Verdict(VerdictKind.RETRY, ServerUnavailableError(text))
    if code == CloseCode.TRY_AGAIN_LATER:
        retry_after = _retry_after_from_reason(reason)
        return Verdict(VerdictKind.RETRY, ServerUnavailableError(text, retry_after), retry_after)
    if code == CloseCode.RATE_LIMITED:
        retry_after = _retry_after_from_reason(reason)
        return Verdict(VerdictKind.RETRY, RateLimitedError(text, retry_after), retry_after)
    if code == CloseCode.SLOW_CONSUMER:
        # protocol §3: the server dropped us for falling behind; replay is lossless
        return Verdict(VerdictKind.RETRY, SlowConsumerError(text))
    if code == CloseCode.TOKEN_EXPIRED:
        return _unauthorized(f"{text}: the token expired", has_token_provider)
    if code == CloseCode.FORBIDDEN:
        return Verdict(VerdictKind.FATAL, ForbiddenError(f"{text}: access forbidden"))
    if code == CloseCode.INCOMPATIBLE:
        server = frame_excerpt(reason, _EXCERPT) if reason else "an incompatible version"
        error = IncompatibleProtocolError(
            server=server, client=client_versions(), detail="closed with 4006"
        )
        return Verdict(VerdictKind.FATAL, error)
    if code == CloseCode.POLICY_VIOLATION:
        return Verdict(VerdictKind.FATAL, PolicyViolationError(f"{text}: policy violation"))
    if code == CloseCode.MESSAGE_TOO_BIG:
        too_big = MessageTooBigError(
            f"{text}: a frame the client sent was too big for the server", refused_by="server"
        )
        return Verdict(VerdictKind.FATAL, too_big)
    # 1000 we did not ask for, 1006 and any code the protocol does not define.
    return Verdict(VerdictKind.RETRY, ConnectionLostError(text))


def classify_frame_refused(limit: int, reason: str = "") -> Verdict:
    """Classify the client's own refusal of a frame over its ``max_frame_bytes``.

    protocol §4: 1009 is fatal, with a clear error. The error says the client
    refused the frame (not that the server closed the connection): the fix is
    this client's ``max_frame_bytes`` or the server's frame sizes.
    """
    detail = f" ({frame_excerpt(reason, _EXCERPT)})" if reason else ""
    error = MessageTooBigError(
        f"the client refused a frame from the server larger than its max_frame_bytes "
        f"of {limit} bytes{detail} and closed the connection with 1009",
        refused_by="client",
    )
    return Verdict(VerdictKind.FATAL, error)


def _unauthorized(message: str, has_token_provider: bool) -> Verdict:
    # protocol §2/§4: refresh via the provider and reconnect; fatal without one
    if has_token_provider:
        return Verdict(VerdictKind.REFRESH_TOKEN, AuthenticationError(message))
    return Verdict(
        VerdictKind.FATAL, AuthenticationError(f"{message}, and no token provider can renew it")
    )


def _error_body(body: bytes | None) -> HttpErrorBody | None:
    if not body:
        return None
    try:
        return HttpErrorBody.model_validate_json(body)
    except (ValidationError, ValueError, RecursionError):
        return None


def classify_http_status(
    status: int,
    *,
    body: bytes | None,
    has_token_provider: bool,
    retry_after: float | str | None = None,
    protocols_header: str | None = None,
    request: str = "the WebSocket upgrade",
    url: str | None = None,
) -> Verdict:
    """Classify an HTTP answer that refused the WebSocket upgrade (protocol §2, §6).

    Args:
        status: the HTTP status that answered the upgrade request.
        body: the response body, if any (JSON ``{"error", "message"}`` from a
            planstream server; anything from a proxy).
        has_token_provider: whether the client can refresh its token.
        retry_after: the ``Retry-After`` header (seconds), honoured for 429 and 503.
        protocols_header: the ``X-Planstream-Protocols`` header, if any.
        request: what was refused, for the error text (``"a poll"`` for
            protocol §6 long-polls, which share these rules).
        url: the URL requested (redacted in the error). With it, a 404, or a
            403 without a planstream ``forbidden`` body, is reported as
            :class:`~planstream.errors.EndpointNotFoundError`: no planstream
            endpoint answers there (a wrong path, a missing mount prefix).

    Returns:
        The verdict. Statuses a planstream server does not use for the upgrade
        (a 404 or 502 from a proxy, say) are ``fallback`` candidates: the
        WebSocket path may be blocked while HTTP polling works.
    """
    parsed = _error_body(body)
    text = f"the server refused {request} with HTTP {status}"
    if parsed is not None and parsed.message:
        text = f"{text}: {frame_excerpt(parsed.message, _EXCERPT)}"
    if status == 400 and (
        (parsed is not None and parsed.error == "incompatible_protocol") or protocols_header
    ):
        # protocol §2: no common subprotocol; name both sides, never retry
        if parsed is not None and parsed.supported is not None:
            supported: tuple[str, ...] = parsed.supported
        else:
            supported = tuple(p.strip() for p in (protocols_header or "").split(",") if p.strip())
        return Verdict(VerdictKind.FATAL, incompatible_subprotocols(supported))
    if status == 401:
        return _unauthorized(f"{text} (unauthorized)", has_token_provider)
    ours = parsed is not None and parsed.error == "forbidden"
    if url is not None and (status == 404 or (status == 403 and not ours)):
        # protocol §2/§6: a planstream server refuses a token with 403 and its
        # JSON body; a bare 403/404 comes from something else (a framework's
        # unknown route, a proxy): the URL is wrong, not the token.
        detail = frame_excerpt(parsed.message, _EXCERPT) if parsed and parsed.message else ""
        return Verdict(VerdictKind.FALLBACK, EndpointNotFoundError(status, url, detail))
    if status == 403:
        return Verdict(VerdictKind.FATAL, ForbiddenError(f"{text} (forbidden)"))
    if status in (429, 503):
        seconds = parse_retry_after(retry_after)
        error: PlanStreamError = (
            RateLimitedError(text, seconds)
            if status == 429
            else ServerUnavailableError(text, seconds)
        )
        return Verdict(VerdictKind.RETRY, error, seconds)
    return Verdict(VerdictKind.FALLBACK, UpgradeRefusedError(status, text))


#: ssl errors that are a dropped connection, not a TLS setup problem: retried.
_TRANSIENT_SSL_ERRORS = (
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    ssl.SSLSyscallError,
    ssl.SSLWantReadError,
    ssl.SSLWantWriteError,
)


def _tls_failure(cause: BaseException | None) -> ssl.SSLError | None:
    """The TLS handshake failure behind ``cause`` (httpx wraps it twice), if any."""
    seen = 0
    while cause is not None and seen < 8:  # a bounded walk: chains can be cyclic
        if isinstance(cause, ssl.SSLError) and not isinstance(cause, _TRANSIENT_SSL_ERRORS):
            return cause
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return None


def _tls_reason(failure: ssl.SSLError) -> str:
    if isinstance(failure, ssl.SSLCertVerificationError) and failure.verify_message:
        return f"certificate verify failed: {failure.verify_message}"
    return str(failure.reason or failure)


def classify_network_error(cause: BaseException | None = None) -> Verdict:
    """Classify a refused connection, a DNS failure or a timeout: retry.

    A failed TLS handshake (an unknown CA, a wrong host name, TLS spoken to a
    plain port) is fatal instead: retrying cannot fix a certificate.

    Args:
        cause: the foreign exception (``OSError``, ``TimeoutError``...), kept
            as the error's ``__cause__`` and named in its message.
    """
    tls = _tls_failure(cause)
    if tls is not None:
        fatal = TLSError(_tls_reason(tls))
        fatal.__cause__ = cause
        return Verdict(VerdictKind.FATAL, fatal)
    detail = f": {type(cause).__name__}: {cause}" if cause is not None else ""
    error = ConnectionLostError(f"could not reach the server{detail}")
    error.__cause__ = cause
    return Verdict(VerdictKind.RETRY, error)


def classify_heartbeat_timeout(silent_for: float, limit: float) -> Verdict:
    """Classify a connection silent for longer than ``heartbeat_s x 2.5`` (protocol §3)."""
    return Verdict(VerdictKind.RETRY, HeartbeatTimeoutError(silent_for=silent_for, limit=limit))
