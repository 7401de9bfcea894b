"""Requests to the server's HTTP half (protocol §6): the one place for the bearer
token, TLS, retries and the translation of every answer into a planstream error.

:class:`HttpSession` sends one logical request as often as :class:`RequestLimits`
allows, waiting between attempts as the reconnect backoff says
(:mod:`planstream.backoff`, the client's ``ReconnectSettings``), at least as
long as a ``Retry-After`` asks, and never past the request's deadline.
Timeouts, dropped connections, 429, 502, 503 and 504 are retried; any other
refusal is raised at once, typed (:func:`refusal`). A publish carries its
``Idempotency-Key`` on every attempt, so a retry of a publish whose answer
was lost appends nothing (protocol §6).

The token is sent in the ``Authorization`` header only: never in a URL, a
log line, a repr or an error.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from planstream.backoff import BackoffPolicy, RandomSource
from planstream.client.clock import now
from planstream.client.token_source import TokenProvider, TokenSource
from planstream.close_codes import (
    Verdict,
    VerdictKind,
    classify_network_error,
    parse_retry_after,
)
from planstream.errors import (
    AuthenticationError,
    ConnectionLostError,
    ForbiddenError,
    FrameTooLargeError,
    InvalidResponseError,
    PlanEndedError,
    PlanNotFoundError,
    PlanStreamError,
    RateLimitedError,
    RequestRefusedError,
    RequestRetriesExhaustedError,
    ServerUnavailableError,
    SettingsError,
    frame_excerpt,
)
from planstream.redaction import install_redaction, token_forms, without_token
from planstream.schema.http import HttpErrorBody
from planstream.transport.websocket import TransportFailedError, bearer_headers

__all__ = ["HttpSession", "Request", "RequestLimits", "refusal"]

logger = logging.getLogger("planstream.client")

_Body = TypeVar("_Body", bound=BaseModel)

#: Statuses a later attempt may get past (protocol §6: 429 and 503 carry
#: ``Retry-After``; 502 and 504 come from a proxy whose upstream is away).
RETRIED_STATUSES: Final = frozenset({429, 502, 503, 504})
#: Longest excerpt of a server's message kept in an error.
_EXCERPT: Final = 300


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """How often one logical request is sent, and for how long.

    Attributes:
        max_attempts: requests sent at most, the first one included.
        deadline: seconds for every attempt and the waits between them; no
            attempt starts, and no wait is begun, that would end past it.
        request_timeout: seconds one attempt may take, answer included.
        max_response_bytes: the longest answer read.
    """

    max_attempts: int = 5
    deadline: float = 60.0
    request_timeout: float = 10.0
    max_response_bytes: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        problems = [
            (name, message)
            for name, message, bad in (
                ("max_attempts", "must be at least 1", self.max_attempts < 1),
                ("deadline", "must be a positive number of seconds", not self.deadline > 0),
                (
                    "request_timeout",
                    "must be a positive number of seconds",
                    not self.request_timeout > 0,
                ),
                ("max_response_bytes", "must be at least 1024", self.max_response_bytes < 1024),
            )
            if bad
        ]
        if problems:
            raise SettingsError(problems)


@dataclass(frozen=True, slots=True)
class Request:
    """One logical request.

    Attributes:
        method: ``GET`` or ``POST``.
        path: below the server's HTTP base, e.g. ``/v1/plans``.
        refused: how a refusal begins, e.g. ``"the server refused the event"``.
        what: what a give-up names, e.g. ``"publishing to plan 'p'"``.
        params: query parameters.
        body: a JSON body.
        idempotency_key: sent as ``Idempotency-Key`` on every attempt.
        plan_id: a ``404 not_found`` is :class:`PlanNotFoundError` for it.
    """

    method: str
    path: str
    refused: str
    what: str
    params: Mapping[str, str | int] | None = None
    body: bytes | None = None
    idempotency_key: str | None = None
    plan_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reason: str
    headers: httpx.Headers
    content: bytes


def refusal(
    request: Request,
    status: int,
    content: bytes,
    *,
    reason: str,
    url: str,
    retry_after: float | None = None,
) -> PlanStreamError:
    """The error a non-2xx answer means (protocol §6's error bodies).

    429, 502, 503 and 504 give a retryable error; anything else a fatal one.
    """
    try:
        parsed: HttpErrorBody | None = HttpErrorBody.model_validate_json(content)
    except (ValidationError, ValueError):
        parsed = None
    code = parsed.error if parsed is not None else None
    problem = frame_excerpt(parsed.message, _EXCERPT) if parsed and parsed.message else ""
    if parsed is None:
        # Not a planstream error body: something else answers at that URL.
        problem = reason or "no reason given"
    plan_unknown = status == 404 and code == "not_found" and request.plan_id is not None
    if status in (404, 405) and not plan_unknown:
        # Every route but a plan's own exists on a planstream server, so a 404
        # here (even in planstream's JSON) means a wrong path or mount prefix.
        problem += f" (no planstream endpoint answers at {url})"
    named = f"{code}: {problem}" if code and problem else (code or problem)
    text = f"{request.refused}: HTTP {status} {named}"
    if status == 401:
        return AuthenticationError(text)
    if status == 403:
        return ForbiddenError(text)
    if plan_unknown and request.plan_id is not None:
        return PlanNotFoundError(request.plan_id, url)
    if status == 409:
        return PlanEndedError(request.refused, status, code, problem)
    if status == 429:
        return RateLimitedError(text, retry_after)
    if status in RETRIED_STATUSES:
        return ServerUnavailableError(text, retry_after)
    return RequestRefusedError(request.refused, status, code, problem)


class HttpSession:
    """Sends requests to one server (or to several nodes sharing one event log).

    Args:
        base_urls: the HTTP bases (``http://host:8765``, ``https://host/prefix``)
            in order of preference: a retry goes to the next one.
        token: the static bearer token (None: none, or the provider's).
        token_provider: an async callable giving a token; asked before the
            first request and again once after a 401.
        ssl_context: the TLS context of ``https://`` bases (None: httpx's default).
        backoff: the delays between attempts (its ``max_attempts`` is ignored:
            ``limits.max_attempts`` bounds the attempts).
        limits: attempts, deadline and timeouts of each request.
        rng: the jitter's randomness (a seeded ``random.Random`` in tests).
    """

    def __init__(
        self,
        base_urls: Sequence[str],
        *,
        token: str | None = None,
        token_provider: TokenProvider | None = None,
        ssl_context: ssl.SSLContext | None = None,
        backoff: BackoffPolicy | None = None,
        limits: RequestLimits | None = None,
        rng: RandomSource | None = None,
    ) -> None:
        if not base_urls:
            raise SettingsError([("url", "needs at least one server URL")])
        install_redaction()  # httpx and httpcore log requests
        self._tokens = TokenSource(token_provider, None if token is None else SecretStr(token))
        self._token: str | None = None
        self._token_known = False
        self.base_urls = tuple(base_urls)
        self._node = 0
        self.limits = limits if limits is not None else RequestLimits()
        self.backoff = backoff if backoff is not None else BackoffPolicy()
        self._rng = rng
        verify: ssl.SSLContext | bool = True if ssl_context is None else ssl_context
        self._http = httpx.AsyncClient(verify=verify)

    def __repr__(self) -> str:
        return f"HttpSession(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The HTTP base the next request goes to."""
        return self.base_urls[self._node]

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def call(self, request: Request, model: type[_Body]) -> _Body:
        """Send ``request`` until it is answered, and read the answer as ``model``.

        Raises:
            RequestRetriesExhaustedError: every attempt failed with a transient
                error (its ``last_error`` says which).
            PlanStreamError: a fatal refusal, typed (:func:`refusal`), a
                :class:`~planstream.errors.TLSError`, or an answer that is no
                planstream one (:class:`~planstream.errors.InvalidResponseError`).
        """
        limits = self.limits
        schedule = self.backoff.schedule(self._rng)
        deadline = now() + limits.deadline
        refreshed = False
        attempts = 0
        while True:
            attempts += 1
            retry_after: float | None = None
            try:
                answer = await self._attempt(request, min(limits.request_timeout, deadline - now()))
            except TransportFailedError as exc:
                if exc.verdict.kind is VerdictKind.FATAL:
                    raise exc.verdict.error from None
                error: PlanStreamError = exc.verdict.error
            else:
                if 200 <= answer.status < 300:
                    return self._parse(request, answer, model)
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
                # Server text: a server echoing the token must not get it into an error.
                content = without_token(
                    answer.content.decode("utf-8", "replace"), token_forms(self._token)
                ).encode()
                error = refusal(
                    request,
                    answer.status,
                    content,
                    reason=answer.reason,
                    url=self.base_url,
                    retry_after=retry_after,
                )
                if answer.status == 401 and self._tokens.provider is not None and not refreshed:
                    # protocol §2: an expired token is refreshed once, then sent again.
                    refreshed, self._token_known = True, False
                    if attempts < limits.max_attempts:
                        continue
                if not isinstance(error, RateLimitedError | ServerUnavailableError):
                    raise error
            delay = schedule.next_delay(retry_after)
            why = self._why_stop(attempts, delay, deadline)
            if why is not None or delay is None:
                raise RequestRetriesExhaustedError(
                    request.what, error, attempts, request.idempotency_key, why=why or ""
                )
            logger.info(
                "%s: attempt %d failed (%s); next in %.2f s", request.what, attempts, error, delay
            )
            self._node = (self._node + 1) % len(self.base_urls)  # the next node, if any
            await asyncio.sleep(delay)

    def _why_stop(self, attempts: int, delay: float | None, deadline: float) -> str | None:
        limits = self.limits
        if attempts >= limits.max_attempts:
            return f"max_attempts {limits.max_attempts}"
        if delay is None:  # the backoff policy's own max_attempts (reconnect.max_attempts)
            return f"reconnect.max_attempts {self.backoff.max_attempts}"
        if now() + delay >= deadline:
            return f"the next attempt would pass the deadline of {limits.deadline:g} s"
        return None

    async def _bearer(self) -> dict[str, str]:
        if not self._token_known:
            self._token = await self._tokens.token()  # a retry verdict if the provider raised
            self._token_known = True
        return bearer_headers(self._token)  # a fatal verdict for a header-unsafe token

    async def _attempt(self, request: Request, seconds: float) -> _Answer:
        """One request, with one deadline for all of it (connect, send, whole answer)."""
        headers = await self._bearer()
        if request.body is not None:
            headers["Content-Type"] = "application/json"
        if request.idempotency_key is not None:
            headers["Idempotency-Key"] = request.idempotency_key
        url = self.base_url + request.path
        try:
            async with asyncio.timeout(seconds):
                return await self._send(request, url, headers, seconds)
        except TimeoutError:
            error = ConnectionLostError(f"no answer from {self.base_url} within {seconds:.3g} s")
            raise TransportFailedError(_retry(error)) from None
        except httpx.HTTPError as exc:
            raise TransportFailedError(classify_network_error(exc)) from None

    async def _send(
        self, request: Request, url: str, headers: dict[str, str], seconds: float
    ) -> _Answer:
        cap = self.limits.max_response_bytes
        async with self._http.stream(
            request.method,
            url,
            params=dict(request.params or {}),
            content=request.body,
            headers=headers,
            timeout=seconds,
        ) as answer:
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) > cap:
                    # No planstream answer is that long: not worth another attempt.
                    raise FrameTooLargeError(
                        len(body), cap, bytes(body[:800]), what="response body"
                    )
            return _Answer(answer.status_code, answer.reason_phrase, answer.headers, bytes(body))

    def _parse(self, request: Request, answer: _Answer, model: type[_Body]) -> _Body:
        try:
            return model.model_validate_json(answer.content)
        except ValidationError:
            raise InvalidResponseError(request.refused, answer.status, answer.content) from None


def _retry(error: PlanStreamError) -> Verdict:
    return Verdict(VerdictKind.RETRY, error)
