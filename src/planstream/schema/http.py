"""Bodies of the HTTP endpoints (protocol §6), shared by the server and the
client's polling fallback."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from planstream.schema.events import Event, Head, NonEmptyStr, PlanStatus, Seq, Timestamp, WireModel
from planstream.schema.frames import ResyncReason
from planstream.schema.snapshot import PlanSnapshot

__all__ = [
    "HttpErrorBody",
    "PlanList",
    "PlanSummary",
    "PollResponse",
    "PollResync",
    "PublishResponse",
    "PublishedEvent",
]


class PollResync(WireModel):
    """Why a poll could not replay history, and the snapshot to continue from."""

    reason: ResyncReason
    snapshot: PlanSnapshot


class PollResponse(WireModel):
    """``GET /v1/plans/{plan_id}/events``: events after ``after``, or a resync."""

    plan_id: NonEmptyStr
    events: tuple[Event, ...]
    head: Head | None
    resync: PollResync | None = None


class PlanSummary(WireModel):
    """One plan of ``GET /v1/plans``."""

    plan_id: NonEmptyStr
    status: PlanStatus | None
    head: Head | None
    updated_at: Timestamp | None


class PlanList(WireModel):
    """``GET /v1/plans``: a page of the plans with at least one event.

    ``next_cursor`` (opaque) asks for the next page; None on the last one.
    """

    plans: tuple[PlanSummary, ...]
    next_cursor: Annotated[str, Strict()] | None = None


class PublishedEvent(WireModel):
    """Where one published event landed."""

    event_id: NonEmptyStr
    seq: Seq


class PublishResponse(WireModel):
    """``POST /v1/plans/{plan_id}/events``: positions in request order."""

    events: tuple[PublishedEvent, ...]


class HttpErrorBody(WireModel):
    """Any HTTP error answer: ``{"error": code, "message": ...}``.

    The 400 refusing an incompatible WebSocket upgrade carries ``supported``
    (the server's subprotocols) instead of a message.
    """

    error: Annotated[str, Strict(), Field(min_length=1)]
    message: Annotated[str, Strict()] | None = None
    supported: tuple[str, ...] | None = None
