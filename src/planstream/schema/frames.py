"""Frames of the wire protocol (protocol §3): JSON objects with a ``type``.

Server frames are decoded by :mod:`planstream.codec` in one pydantic call
through :data:`ServerFrame`; client frames through :data:`ClientFrame`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import Field, GetCoreSchemaHandler, Strict
from pydantic_core import CoreSchema, core_schema

from planstream.schema.events import (
    Event,
    Head,
    NonEmptyStr,
    Timestamp,
    WireModel,
)
from planstream.schema.limits import EVENT_ID_MAX_LENGTH, REQUEST_ID_MAX_LENGTH, PlanId
from planstream.schema.snapshot import PlanSnapshot

__all__ = [
    "PROTOCOL_VERSION",
    "SCHEMA_VERSION",
    "SUBPROTOCOL",
    "BatchFrame",
    "ClientFrame",
    "ErrorCode",
    "ErrorFrame",
    "HeartbeatFrame",
    "HelloFrame",
    "PingFrame",
    "PongFrame",
    "RequestId",
    "ResyncFrame",
    "ResyncReason",
    "ServerFrame",
    "SubscribeFrame",
    "SubscribedFrame",
    "UnsubscribeFrame",
    "UnsubscribedFrame",
]

#: The wire protocol version this package speaks (protocol §2).
PROTOCOL_VERSION = 1
#: ``MAJOR.MINOR`` of the event payload schema this package knows (protocol §5).
SCHEMA_VERSION = "1.0"
#: The WebSocket subprotocol offered and accepted (protocol §2).
SUBPROTOCOL = "planstream.v1"
#: The WebSocket endpoint's path under a server's base URL (protocol §2). The
#: one place it is written; not in __all__ until the public-API list (issue 12,
#: item 2) takes it.
STREAM_PATH = "/v1/stream"

#: A client-chosen request id, echoed in the answer (protocol §1): a string of
#: at most 128 characters or a signed 64-bit integer.
RequestId: TypeAlias = (
    Annotated[str, Strict(), Field(max_length=REQUEST_ID_MAX_LENGTH)]
    | Annotated[int, Strict(), Field(ge=-(2**63), le=2**63 - 1)]
)


class ResyncReason(StrEnum):
    """Why the server could not replay history (protocol §3)."""

    HISTORY_EXPIRED = "history_expired"
    UNKNOWN_EVENT_ID = "unknown_event_id"
    STREAM_RESET = "stream_reset"


class ErrorCode(StrEnum):
    """``error.code`` values of protocol §3. Other codes are kept as text."""

    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
    INTERNAL = "internal"


# --- server -> client -------------------------------------------------------


class HelloFrame(WireModel):
    """First frame after the upgrade (protocol §2)."""

    type: Literal["hello"] = "hello"
    protocol: Annotated[int, Strict(), Field(ge=1)]
    schema_version: Annotated[str, Strict(), Field(alias="schema", pattern=r"^\d+\.\d+$")]
    server: Annotated[str, Strict()]
    session_id: NonEmptyStr
    heartbeat_s: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
    max_frame_bytes: Annotated[int, Strict(), Field(ge=1)]


class SubscribedFrame(WireModel):
    """A subscription was accepted; replay (if any) follows."""

    type: Literal["subscribed"] = "subscribed"
    id: RequestId
    plan_id: NonEmptyStr
    head: Head | None


class ResyncFrame(WireModel):
    """History could not be replayed; live events after ``snapshot.head`` follow."""

    type: Literal["resync"] = "resync"
    id: RequestId | None = None
    plan_id: NonEmptyStr
    reason: ResyncReason
    snapshot: PlanSnapshot


class UnsubscribedFrame(WireModel):
    """A subscription ended at the client's request."""

    type: Literal["unsubscribed"] = "unsubscribed"
    id: RequestId
    plan_id: NonEmptyStr


class BatchFrame(WireModel):
    """Several events in one frame; each plan's events keep their ``seq`` order."""

    type: Literal["batch"] = "batch"
    events: tuple[Event, ...]


class HeartbeatFrame(WireModel):
    """Sent every ``heartbeat_s``: the newest event sent per subscribed plan."""

    type: Literal["heartbeat"] = "heartbeat"
    ts: Timestamp
    heads: dict[str, Head | None]


class PongFrame(WireModel):
    """Answer to a ``ping``."""

    type: Literal["pong"] = "pong"
    id: RequestId
    ts: Timestamp


class ErrorFrame(WireModel):
    """A request failed; tied to ``plan_id`` it fails that subscription only."""

    type: Literal["error"] = "error"
    id: RequestId | None = None
    plan_id: Annotated[str | None, Strict()] = None
    code: Annotated[str, Strict()]
    message: Annotated[str, Strict()]


# --- client -> server -------------------------------------------------------


class SubscribeFrame(WireModel):
    """Subscribe to a plan, resuming after ``last_event_id`` (null: from seq 1)."""

    type: Literal["subscribe"] = "subscribe"
    id: RequestId
    plan_id: PlanId
    # protocol §1: longer than 128 is bad_request; any other unknown id (even
    # an empty one) is a resync, section 3.
    last_event_id: Annotated[str | None, Strict(), Field(max_length=EVENT_ID_MAX_LENGTH)] = None


class UnsubscribeFrame(WireModel):
    """End a subscription."""

    type: Literal["unsubscribe"] = "unsubscribe"
    id: RequestId
    plan_id: PlanId


class PingFrame(WireModel):
    """Application-level ping, answered by ``pong`` (measures RTT)."""

    type: Literal["ping"] = "ping"
    id: RequestId


class _TaggedByType:
    """Build a tagged union on ``type`` from explicit ``{tag: type}`` choices.

    pydantic's inferred discriminator flattens nested unions, so the ``event``
    choice (itself a union on ``kind``) is wired in by hand here.
    """

    def __init__(self, choices: dict[str, Any]) -> None:
        self.choices = choices

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.tagged_union_schema(
            choices={tag: handler.generate_schema(tp) for tag, tp in self.choices.items()},
            discriminator="type",
        )


#: Any frame a server sends, discriminated by ``type``.
ServerFrame: TypeAlias = Annotated[
    HelloFrame
    | SubscribedFrame
    | ResyncFrame
    | UnsubscribedFrame
    | Event
    | BatchFrame
    | HeartbeatFrame
    | PongFrame
    | ErrorFrame,
    _TaggedByType(
        {
            "hello": HelloFrame,
            "subscribed": SubscribedFrame,
            "resync": ResyncFrame,
            "unsubscribed": UnsubscribedFrame,
            "event": Event,
            "batch": BatchFrame,
            "heartbeat": HeartbeatFrame,
            "pong": PongFrame,
            "error": ErrorFrame,
        }
    ),
]

#: Any frame a client sends, discriminated by ``type``.
ClientFrame: TypeAlias = Annotated[
    SubscribeFrame | UnsubscribeFrame | PingFrame,
    Field(discriminator="type"),
]
