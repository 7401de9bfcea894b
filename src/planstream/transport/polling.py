"""The HTTP long-polling transport (protocol §6), the fallback when WebSocket
upgrades are refused. It uses httpx and translates its failures, like the
WebSocket transport, into a :class:`~planstream.transport.websocket.TransportFailedError`.

Whatever answers the poll may be hostile (a proxy, a misconfigured server):
each answer is read as a stream, refused past ``max_response_bytes``, and the
whole poll — connect, headers and body — has ONE deadline (``wait`` +
``request_timeout``). httpx's own timeouts are per read: a body trickling a
few bytes at a time would otherwise keep a poll alive for ever.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from planstream.close_codes import (
    Verdict,
    VerdictKind,
    classify_http_status,
    classify_network_error,
)
from planstream.closing import AsyncClosing
from planstream.endpoints import ServerEndpoints
from planstream.errors import ConnectionLostError, FrameTooLargeError, InvalidFrameError
from planstream.redaction import install_redaction, token_forms, without_token
from planstream.schema.http import PollResponse
from planstream.transport.websocket import TransportFailedError, bearer_headers

__all__ = ["PollResult", "PollingSession", "http_base_url"]

_DEFAULT_POLL_INTERVAL: Final = 1.0
_MAX_POLL_INTERVAL: Final = 60.0
#: The default cap of one poll answer, bytes (``polling.max_response_bytes``).
DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024


def http_base_url(stream_url: str) -> str:
    """The HTTP base of a server URL (:class:`~planstream.endpoints.ServerEndpoints`).

    ``ws://host:8765/v1/stream`` → ``http://host:8765``;
    ``wss://host/planstream/v1/stream`` → ``https://host/planstream``.

    Raises:
        InvalidUrlError: ``stream_url`` is no server URL.
    """
    return ServerEndpoints.from_url(stream_url).http_base


@dataclass(frozen=True, slots=True)
class PollResult:
    """One poll's answer and how long the server asks pollers to pause."""

    response: PollResponse
    poll_interval: float


class PollingSession(AsyncClosing):
    """Long-polls ``GET /v1/plans/{plan_id}/events`` with the bearer token.

    Args:
        base_url: the server's HTTP base (see :func:`http_base_url`).
        token: the bearer token, or None.
        has_token_provider: whether a 401 can be cured by a new token.
        request_timeout: seconds a request may take beyond its ``wait``
            (one deadline for the whole poll, body included).
        max_response_bytes: the largest poll answer read; a longer one is
            refused (:class:`~planstream.errors.FrameTooLargeError`, retried).
        ssl_context: the TLS context of an ``https://`` base (None: httpx's default).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        has_token_provider: bool,
        request_timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        install_redaction()  # httpx and httpcore log requests
        self._token_error: TransportFailedError | None = None
        self._secrets = token_forms(token)  # kept out of the server's error texts
        try:
            headers = bearer_headers(token)
        except TransportFailedError as exc:  # reported by the first poll
            headers, self._token_error = {}, exc
        verify: ssl.SSLContext | bool = True if ssl_context is None else ssl_context
        self._http = httpx.AsyncClient(base_url=base_url, headers=headers, verify=verify)
        self._has_token_provider = has_token_provider
        self._request_timeout = request_timeout
        self._max_response_bytes = max_response_bytes
        self.base_url = base_url

    def __repr__(self) -> str:
        return f"PollingSession(base_url={self.base_url!r})"

    def set_token(self, token: str | None) -> None:
        """Use ``token`` from the next request on (after a refresh).

        Raises:
            TransportFailedError: fatal, when the token cannot be a header value.
        """
        self._http.headers.pop("Authorization", None)
        self._http.headers.update(bearer_headers(token))
        self._secrets = token_forms(token)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    async def poll(
        self, plan_id: str, *, after: str | None, wait: float, limit: int = 500
    ) -> PollResult:
        """Events of ``plan_id`` after ``after`` (None: from seq 1), waiting up to ``wait`` s.

        Raises:
            TransportFailedError: the request failed; its verdict classifies why.
        """
        if self._token_error is not None:
            raise self._token_error
        params: dict[str, str | int | float] = {"limit": limit, "wait": wait}
        if after is not None:
            params["after"] = after
        deadline = wait + self._request_timeout
        path = f"/v1/plans/{quote(plan_id, safe='')}/events"
        try:
            async with asyncio.timeout(deadline):
                status, headers, content = await self._get(path, params, deadline)
        except TimeoutError:
            error = ConnectionLostError(
                f"the client gave up on a poll after {deadline:g} s "
                f"(wait {wait:g} s + request_timeout {self._request_timeout:g} s)"
            )
            raise TransportFailedError(Verdict(VerdictKind.RETRY, error)) from None
        except httpx.HTTPError as exc:
            raise TransportFailedError(classify_network_error(exc)) from None
        if status != httpx.codes.OK:
            raise TransportFailedError(
                classify_http_status(
                    status,
                    body=without_token(content.decode("utf-8", "replace"), self._secrets).encode(),
                    has_token_provider=self._has_token_provider,
                    retry_after=headers.get("Retry-After"),
                    request="a poll",
                    url=self.base_url + path,
                )
            )
        try:
            response = PollResponse.model_validate_json(content)
        except ValidationError as exc:
            invalid = InvalidFrameError(f"invalid poll answer: {exc.errors()[0]['msg']}", content)
            raise TransportFailedError(Verdict(VerdictKind.RETRY, invalid)) from None
        return PollResult(response, _poll_interval(headers.get("X-Poll-Interval")))

    async def _get(
        self, path: str, params: dict[str, str | int | float], seconds: float
    ) -> tuple[int, httpx.Headers, bytes]:
        """Status, headers and body of one GET, reading at most ``max_response_bytes``."""
        cap = self._max_response_bytes
        async with self._http.stream("GET", path, params=params, timeout=seconds) as answer:
            declared = answer.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise self._too_large(int(declared), b"")
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > cap:
                    raise self._too_large(len(body), body)
            return answer.status_code, answer.headers, bytes(body)

    def _too_large(self, size: int, body: bytearray | bytes) -> TransportFailedError:
        # The answer is refused, not the server: retried with backoff (a proxy
        # may be at fault), and memory stays bounded by the cap.
        error = FrameTooLargeError(
            size, self._max_response_bytes, bytes(body[:800]), what="poll answer"
        )
        return TransportFailedError(Verdict(VerdictKind.RETRY, error))


def _poll_interval(header: str | None) -> float:
    try:
        value = float(header) if header is not None else _DEFAULT_POLL_INTERVAL
    except ValueError:
        return _DEFAULT_POLL_INTERVAL
    if value != value:  # NaN
        return _DEFAULT_POLL_INTERVAL
    return min(max(value, 0.0), _MAX_POLL_INTERVAL)
