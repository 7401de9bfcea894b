"""Errors of the stream's protocol (§1-§3): frames and subscriptions.

A frame the codec cannot read or that is too large, a server speaking
another protocol or schema major, a subscription the server refused, and a
plan's stream that stayed broken through every repair.
"""

from __future__ import annotations

from planstream.errors.base import FatalError, PlanStreamError, ProtocolError, frame_excerpt

__all__ = [
    "FrameTooLargeError",
    "IncompatibleProtocolError",
    "InvalidFrameError",
    "RepairFailedError",
    "SubscriptionError",
]


class InvalidFrameError(ProtocolError):
    """A frame could not be decoded.

    Attributes:
        reason: what is wrong, e.g. ``"not valid JSON"`` or
            ``"event.seq: Input should be a valid integer"``.
        excerpt: the start of the frame (at most 200 characters).
    """

    def __init__(self, reason: str, raw: bytes | str) -> None:
        self.reason = reason
        self.excerpt = frame_excerpt(raw)
        super().__init__(f"invalid frame: {reason} (frame: {self.excerpt!r})")


class FrameTooLargeError(ProtocolError):
    """A frame exceeded the negotiated ``max_frame_bytes`` (or a poll answer the
    client's ``polling.max_response_bytes``: ``what`` says which; ``size`` is then
    what was read before the client stopped reading)."""

    def __init__(self, size: int, limit: int, raw: bytes | str, *, what: str = "frame") -> None:
        self.size = size
        self.limit = limit
        self.what = what
        self.excerpt = frame_excerpt(raw)
        if what == "frame":
            message = f"frame of {size} bytes exceeds the limit of {limit} bytes"
        else:
            message = (
                f"the client refused a {what} of more than {limit} bytes "
                f"(stopped reading at {size} bytes)"
            )
        super().__init__(message)


class IncompatibleProtocolError(FatalError, ProtocolError):
    """The server speaks a protocol or schema major this client does not.

    Attributes:
        server: the server's versions as text (e.g. ``"protocol 2, schema 2.0"``).
        client: this client's versions as text.
    """

    def __init__(self, *, server: str, client: str, detail: str = "") -> None:
        self.server = server
        self.client = client
        message = f"incompatible server: server has {server}, client supports {client}"
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message)


class SubscriptionError(PlanStreamError):
    """The server refused or ended one subscription (an ``error`` frame, protocol §3).

    The connection and the other subscriptions carry on.

    Attributes:
        plan_id: the plan whose subscription failed.
        code: the server's ``error.code`` (``not_found``, ``forbidden``,
            ``too_many_subscriptions``, ...).
    """

    def __init__(self, plan_id: str, code: str, message: str) -> None:
        self.plan_id = plan_id
        self.code = code
        super().__init__(f"subscription to plan {plan_id!r} failed ({code}): {message}")


class RepairFailedError(SubscriptionError):
    """One plan's stream stayed broken through every repair (protocol §1).

    The client re-subscribed the plan from its last delivered event, backing
    off as the reconnect policy says, ``attempts`` times without the stream
    making progress (e.g. the server always answers with an event far ahead,
    or keeps sending an event the client cannot read). That subscription ends
    with this error; the connection and the other plans carry on. ``code`` is
    ``"repair_failed"``.

    Attributes:
        attempts: the re-subscriptions made without progress.
        last_seq: the seq last delivered (None: not known).
        cause: why the last repair was needed, in words.
    """

    def __init__(self, plan_id: str, *, attempts: int, last_seq: int | None, cause: str) -> None:
        self.attempts = attempts
        self.last_seq = last_seq
        self.cause = cause
        where = "its start" if last_seq is None else f"seq {last_seq}"
        super().__init__(
            plan_id,
            "repair_failed",
            f"the client gave up after {attempts} re-subscriptions without progress "
            f"past {where}; last cause: {cause}",
        )
