"""Errors of the HTTP half (protocol §6): plans, snapshots, publishing."""

from __future__ import annotations

from planstream.errors.base import (
    FatalError,
    PlanStreamError,
    ProtocolError,
    RetryableError,
    frame_excerpt,
)

__all__ = [
    "InvalidResponseError",
    "PlanEndedError",
    "PlanNotFoundError",
    "RequestRefusedError",
    "RequestRetriesExhaustedError",
]


class PlanNotFoundError(PlanStreamError, LookupError):
    """The server does not know the plan: ``GET /v1/plans/{plan_id}`` answered 404.

    Raised by ``client.snapshot()`` and by ``subscribe(plan_id, must_exist=True)``
    (checked over HTTP before subscribing). A plan is known from its first event.

    Attributes:
        plan_id: the plan asked for.
    """

    def __init__(self, plan_id: str, url: str) -> None:
        self.plan_id = plan_id
        super().__init__(
            f"the server at {url} does not know plan {plan_id!r} "
            "(a plan exists from its first event)"
        )


class RequestRefusedError(FatalError):
    """The server refused an HTTP request, and sending it again cannot help.

    A ``400`` (the event or the request is invalid: ``problem`` is the
    server's explanation), ``413``, ``422`` (an ``Idempotency-Key`` reused
    with another body), or an answer that is no planstream endpoint's (a
    ``404`` or ``405`` at a wrong URL). 401 and 403 are
    :class:`AuthenticationError` and :class:`ForbiddenError`.

    Attributes:
        status: the HTTP status.
        code: the server's ``error`` code (``bad_request``, ...), None when the
            answer was no planstream error body.
        problem: what the server said (its ``message``, else the reason phrase).
    """

    def __init__(self, what: str, status: int, code: str | None, problem: str) -> None:
        self.status = status
        self.code = code
        self.problem = problem
        named = f"{code}: {problem}" if code else problem
        super().__init__(f"{what}: HTTP {status} {named}".rstrip(": "))


class PlanEndedError(RequestRefusedError):
    """HTTP 409: the plan already has a terminal status, so its stream is closed
    and nothing more can be published to it (protocol §6)."""


class RequestRetriesExhaustedError(RetryableError):
    """An HTTP request failed with a transient error on every attempt allowed.

    Retryable: the server may answer later. A publish raised this without
    knowing whether the server appended the events; publishing again with the
    same ``idempotency_key`` is safe (protocol §6: a repeat appends nothing).

    Attributes:
        last_error: the failure of the last attempt (also the ``__cause__``).
        attempts: how many requests were sent.
        idempotency_key: the key every attempt carried (None for a read).
    """

    def __init__(
        self,
        what: str,
        last_error: PlanStreamError,
        attempts: int,
        idempotency_key: str | None = None,
        *,
        why: str = "",
    ) -> None:
        self.last_error = last_error
        self.attempts = attempts
        self.idempotency_key = idempotency_key
        message = f"{what}: gave up after {attempts} attempt{'s' if attempts != 1 else ''}"
        if why:
            message += f" ({why})"
        message += f"; last error: {last_error}"
        if idempotency_key is not None:
            message += f"; retry with idempotency_key={idempotency_key!r} to publish exactly once"
        super().__init__(message)
        self.__cause__ = last_error


class InvalidResponseError(ProtocolError):
    """An HTTP answer that is not a planstream one (another server at that URL?).

    Attributes:
        status: the HTTP status of the answer.
        excerpt: the start of its body (at most 200 characters).
    """

    def __init__(self, what: str, status: int, raw: bytes) -> None:
        self.status = status
        self.excerpt = frame_excerpt(raw)
        super().__init__(f"{what}: the server's answer is not a planstream one")
