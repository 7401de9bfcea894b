"""Decode and encode wire frames (pure: no I/O, no clock).

Every server frame is decoded from its raw text or bytes in ONE pydantic call
(``TypeAdapter.validate_json`` of a discriminated union); no ``json.loads``
and no second validation pass. Whatever goes wrong (not JSON, not an object,
unknown ``type``, missing or ill-typed fields) surfaces as
:class:`~planstream.errors.InvalidFrameError` with the reason and an excerpt,
never as a raw pydantic or json error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final, TypeAlias

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails, PydanticSerializationError, to_json

from planstream.errors import FrameTooLargeError, InvalidFrameError
from planstream.schema.events import Event
from planstream.schema.frames import ClientFrame, ServerFrame
from planstream.schema.limits import JSON_SAFE_INT_MAX, plan_id_problem

__all__ = [
    "RawFrame",
    "decode_client_frame",
    "decode_event",
    "decode_server_frame",
    "encode_frame",
    "event_positions",
]

#: What a WebSocket message carries: text or bytes.
RawFrame: TypeAlias = str | bytes | bytearray

# The adapters' core validators, called directly: TypeAdapter.validate_json is
# a Python wrapper that costs ~0.6 µs per call (about a tenth of decoding a
# single-event frame) for options we never pass.
_SERVER_FRAME: Final = TypeAdapter[ServerFrame](ServerFrame).validator
_CLIENT_FRAME: Final = TypeAdapter[ClientFrame](ClientFrame).validator
_EVENT: Final = TypeAdapter[Event](Event).validator

_UNKNOWN_EVENT_LABEL = "UnknownEvent"
_TAGGED_UNION_PREFIX = "tagged-union["


def decode_server_frame(raw: RawFrame, *, max_bytes: int | None = None) -> ServerFrame:
    """Decode one server frame.

    Args:
        raw: the WebSocket message, text or bytes.
        max_bytes: refuse frames larger than this (protocol §3 ``max_frame_bytes``).

    Raises:
        FrameTooLargeError: the frame is larger than ``max_bytes``.
        InvalidFrameError: anything else is wrong with it.
    """
    if max_bytes is not None:  # (the client's reader passes None: websockets checked it)
        _check_size(raw, max_bytes)
    try:
        frame: ServerFrame = _SERVER_FRAME.validate_json(raw)
    except ValidationError as exc:
        raise InvalidFrameError(_describe(exc.errors(include_input=False)), _text(raw)) from None
    return frame


def event_positions(raw: RawFrame) -> list[tuple[str, int]]:
    """``(plan_id, seq)`` of each event a frame that failed to decode seems to carry.

    Lenient on purpose, for an ``event`` or a ``batch`` that broke the schema
    (``status: "exploded"``): the client then knows which plan's stream holds
    an event it cannot read, and that plan's subscription gets a typed error
    instead of a silent stall (protocol §1). Never raises; garbage gives ``[]``.
    """
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    if not isinstance(value, dict):
        return []
    kind = value.get("type")
    events = [value] if kind == "event" else value.get("events") if kind == "batch" else None
    if not isinstance(events, list):
        return []
    positions = []
    for event in events:
        if isinstance(event, dict):
            plan_id, seq = event.get("plan_id"), event.get("seq")
            if (
                isinstance(plan_id, str)
                and type(seq) is int
                and 0 < seq <= JSON_SAFE_INT_MAX
                and plan_id_problem(plan_id) is None
            ):
                positions.append((plan_id, seq))
    return positions


def decode_client_frame(raw: RawFrame, *, max_bytes: int | None = None) -> ClientFrame:
    """Decode one client frame (the server side of :func:`decode_server_frame`)."""
    _check_size(raw, max_bytes)
    try:
        frame: ClientFrame = _CLIENT_FRAME.validate_json(raw)
    except ValidationError as exc:
        raise InvalidFrameError(_describe(exc.errors(include_input=False)), _text(raw)) from None
    return frame


def decode_event(value: Any) -> Event:
    """Validate one event given as Python data, exactly as if it came as JSON.

    Timestamps may be RFC 3339 strings or ``datetime`` objects; anything JSON
    could not carry is refused the way the wire would refuse it.
    """
    try:
        raw = to_json(value)
    except PydanticSerializationError:
        raise InvalidFrameError("not JSON-serialisable", repr(value)) from None
    return decode_event_json(raw)


# Not in __all__ (yet): the server's logs use it; whether it becomes public is
# the public-API list's decision (issue 12, item 2).
def decode_event_json(raw: RawFrame) -> Event:
    """Validate one event from its JSON text (an event as a log stored it)."""
    try:
        event: Event = _EVENT.validate_json(raw)
    except ValidationError as exc:
        raise InvalidFrameError(_describe(exc.errors(include_input=False)), _text(raw)) from None
    return event


def encode_frame(frame: Any) -> str:
    """Encode any wire model (frame, event, snapshot) as compact JSON text."""
    text: str = frame.model_dump_json(by_alias=True)
    return text


def _check_size(raw: RawFrame, max_bytes: int | None) -> None:
    if max_bytes is None:
        return
    # A character is at most 4 UTF-8 bytes: only text that might be too
    # large pays for encoding it.
    size = len(raw)
    if isinstance(raw, str) and size * 4 > max_bytes:
        size = len(raw.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise FrameTooLargeError(size, max_bytes, _text(raw))


def _text(raw: RawFrame) -> bytes | str:
    return bytes(raw) if isinstance(raw, bytearray) else raw


def _describe(errors: Sequence[ErrorDetails]) -> str:
    """Turn pydantic errors into one reason a person can act on."""
    relevant = _relevant_errors(errors)
    first = relevant[0]
    kind = first["type"]
    location = _location(first["loc"])
    if kind == "json_invalid":
        return "not valid JSON"
    if not location and kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "not a JSON object"
    if kind == "union_tag_not_found":
        where = f"{location}: " if location else ""
        return f"{where}missing discriminator field {first.get('ctx', {}).get('discriminator', '')}"
    if kind == "union_tag_invalid":
        ctx = first.get("ctx", {})
        field = str(ctx.get("discriminator", "type")).strip("'")
        where = f"{location}: " if location else ""
        return f"{where}unknown {field} {ctx.get('tag')!r}"
    details = "; ".join(f"{_location(e['loc']) or '<frame>'}: {e['msg']}" for e in relevant[:3])
    more = len(relevant) - 3
    return details + (f" (and {more} more)" if more > 0 else "")


def _relevant_errors(errors: Sequence[ErrorDetails]) -> list[ErrorDetails]:
    """Keep the errors of the branch that applied.

    An event is tried as a known kind, then as an unknown one. When the kind
    is known, the unknown branch's complaints are noise; when it is not, the
    known branch's "unknown tag" is.
    """
    known_branch = [e for e in errors if not _in_unknown_branch(e)]
    known_kind = any(e["type"] != "union_tag_invalid" for e in known_branch)
    if known_kind:
        return known_branch
    unknown_branch = [e for e in errors if _in_unknown_branch(e)]
    return unknown_branch or list(errors)


def _in_unknown_branch(error: ErrorDetails) -> bool:
    return _UNKNOWN_EVENT_LABEL in error["loc"]


def _location(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a path.

    ``('batch', 'events', 0, 'tagged-union[..]', 'log', 'data', 'level')``
    becomes ``batch.events[0].data.level``.
    """
    parts: list[str] = []
    skip_next = False
    for item in loc:
        if skip_next:
            skip_next = False
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
            continue
        if item.startswith(_TAGGED_UNION_PREFIX):
            skip_next = True  # the kind tag that follows names a branch, not a field
            continue
        if item == _UNKNOWN_EVENT_LABEL:
            continue
        parts.append(f".{item}" if parts else item)
    return "".join(parts)
