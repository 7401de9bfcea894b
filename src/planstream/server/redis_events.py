"""Events as the Redis log stores them: wire JSON built once (pure: no I/O).

The appending node renders each event's JSON with a placeholder id; the
append script splices in the seq it assigns (``lua/append.lua``), so every
node reads back the exact text the publisher's node answered with, and no
node re-encodes an event it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from pydantic import TypeAdapter

from planstream.schema.events import Event, PlanStatusEvent
from planstream.server.event_log import NewEvent, StoredEvent, refuse_events_after_end

# Internal to the Redis event log (redis_log.py).
__all__: list[str] = []

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
#: The placeholder id and seq a draft is rendered with.
_MARKER: Final = '"event_id":"x","seq":1'


def stored_event(json: str) -> StoredEvent:
    """A stream entry's JSON as a :class:`StoredEvent`."""
    event = _EVENT.validate_json(json)
    return StoredEvent(event, json, len(json.encode()), event.seq)


def entry_seq(entry_id: str) -> int:
    """The seq of a stream entry id ``<seq>-0``."""
    return int(entry_id.partition("-")[0])


@dataclass(frozen=True, slots=True)
class EventTemplates:
    """A batch rendered up to its ids: ``prefix`` + id + seq + each of ``tails``.

    ``ends``: the terminal status the batch ends with ('' if none), which
    closes the plan in the same script (protocol §6).
    """

    texts: list[str]
    prefix: str
    tails: list[str]
    ends: str

    @classmethod
    def build(cls, plan_id: str, events: Sequence[NewEvent], ts: datetime) -> EventTemplates:
        """Validate ``events`` (PlanClosedError for events after a terminal status)."""
        drafts = [
            _EVENT.validate_python(
                {
                    "plan_id": plan_id,
                    "event_id": "x",
                    "seq": 1,
                    "ts": ts,
                    "kind": new.kind,
                    "data": new.data,
                }
            )
            for new in events
        ]
        refuse_events_after_end(plan_id, drafts)
        texts = [draft.model_dump_json() for draft in drafts]
        prefix = texts[0][: texts[0].index(_MARKER)] if texts else ""
        tails = [text[text.index(_MARKER) + len(_MARKER) :] for text in texts]
        last = drafts[-1] if drafts else None
        ends = ""
        if isinstance(last, PlanStatusEvent) and last.data.status.is_terminal:
            ends = last.data.status.value
        return cls(texts, prefix, tails, ends)

    def stored(self, id_prefix: str, start: int) -> list[StoredEvent]:
        """The batch as appended from ``start``, ids ``<id_prefix><seq>``."""
        return [
            stored_event(text.replace(_MARKER, f'"event_id":"{id_prefix}{seq}","seq":{seq}', 1))
            for seq, text in enumerate(self.texts, start=start)
        ]
