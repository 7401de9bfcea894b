"""Keeping every frame the server sends within ``max_frame_bytes`` (protocol §3).

Pure: no I/O, no clock. Events are bounded when they are published (an
event's data is at most half a frame); what is left to bound here is what the
server builds itself from what a client sent or subscribed to: the batches of
events, the heartbeats (one head per subscribed plan), the echoed request ids
and the error messages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from planstream.codec import encode_frame
from planstream.schema.events import Head
from planstream.schema.frames import HeartbeatFrame, RequestId, ResyncFrame
from planstream.server.event_log import ResyncNeeded, StoredEvent

#: Machinery of the stream session, imported by name; nothing here is public API.
__all__: list[str] = []

BATCH_PREFIX: Final = '{"type":"batch","events":['
BATCH_SUFFIX: Final = "]}"
#: Longest ``error.message`` sent; the reason of a bad frame may quote the frame.
ERROR_MESSAGE_MAX_CHARS: Final = 300

_REQUEST_ID: Final[TypeAdapter[RequestId]] = TypeAdapter(RequestId)


def fitting(
    stored: Sequence[StoredEvent], room: int, *, allow_oversized_first: bool
) -> tuple[int, int]:
    """How many of ``stored`` fit in ``room`` bytes (one separator each), and their size."""
    take = size = 0
    for item in stored:
        needed = item.nbytes + 1
        if size + needed > room and not (allow_oversized_first and take == 0):
            break
        take += 1
        size += needed
    return take, size


def heartbeat_frames(ts: datetime, heads: Mapping[str, Head | None], max_bytes: int) -> list[str]:
    """The heartbeat for ``heads``, split into several frames when one would be too big.

    protocol §3 asks for the heads of every subscribed plan; with many long
    plan ids one frame could exceed ``max_frame_bytes`` (64 plans of 256
    characters make 17 kB). Each part is a whole heartbeat with the same
    ``ts`` and a disjoint share of the heads; together they name every plan
    (server_websocket.md §7: a plan missing from a heartbeat tells nothing).
    """
    whole = encode_frame(HeartbeatFrame(ts=ts, heads=dict(heads)))
    if len(whole.encode()) <= max_bytes:
        return [whole]
    room = max_bytes - len(encode_frame(HeartbeatFrame(ts=ts, heads={})).encode())
    parts: list[dict[str, Head | None]] = []
    current: dict[str, Head | None] = {}
    used = 0
    for plan_id, head in heads.items():
        # `"plan_id":{...},`: the key, the colon, the head and a separator.
        needed = len(json.dumps(plan_id).encode()) + 2
        needed += len(head.model_dump_json().encode()) if head is not None else 4
        if current and used + needed > room:
            parts.append(current)
            current, used = {}, 0
        current[plan_id] = head
        used += needed
    parts.append(current)
    return [encode_frame(HeartbeatFrame(ts=ts, heads=part)) for part in parts]


def bounded_message(message: str, limit: int = ERROR_MESSAGE_MAX_CHARS) -> str:
    """``message`` cut to ``limit`` characters, saying so, with lone surrogates replaced."""
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return message.encode("utf-8", "replace").decode("utf-8")


def readable_id(raw: str | bytes) -> RequestId | None:
    """The ``id`` of a frame that failed validation, when one can be read and echoed.

    The frame is parsed by the same parser as the codec (bounded nesting: a
    frame of a thousand ``[`` is a ``ValueError``, not a ``RecursionError``),
    and the id is kept only when it is a valid request id of protocol §1 (the
    parser refuses lone surrogates: an id that could not be sent back).
    """
    try:
        value = from_json(raw, allow_inf_nan=False)
    except ValueError:
        return None
    candidate = value.get("id") if isinstance(value, dict) else None
    if candidate is None:
        return None
    try:
        request_id = _REQUEST_ID.validate_python(candidate)
    except ValidationError:
        return None
    return request_id


def resync_text(request_id: RequestId | None, position: ResyncNeeded, max_bytes: int) -> str:
    """A ``resync`` frame; a snapshot with too many steps for one frame is cut (§7)."""
    snapshot = position.snapshot
    steps = snapshot.steps
    keep = len(steps)
    while True:
        text = encode_frame(
            ResyncFrame(
                id=request_id,
                plan_id=snapshot.plan_id,
                reason=position.reason,
                snapshot=snapshot.model_copy(update={"steps": steps[:keep]}),
            )
        )
        if keep == 0 or len(text.encode()) <= max_bytes:
            return text
        keep //= 2
