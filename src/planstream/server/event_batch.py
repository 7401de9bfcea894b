"""Appended events as every log stores them: built and encoded once (pure: no I/O).

A publish validates and encodes each event's ``data`` once
(:class:`~planstream.server.event_log.NewEvent`). At append time the log
knows the positions, and :class:`EventBatch` splices them into the wire JSON
(protocol §5, field order as the models dump it): no second validation of
``data`` and no second encoding. The Redis log sends the same pieces to its
append script (``lua/append.lua``), which splices the positions it assigns
the same way, so every node reads back the exact text the appending node
answered with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from itertools import compress, repeat
from typing import Final, cast

from pydantic_core import to_json

from planstream.codec import decode_event_json
from planstream.schema.events import (
    Event,
    EventBase,
    EventKind,
    LogEvent,
    PlanProgressEvent,
    PlanStatusEvent,
    StepStatusEvent,
    UnknownEvent,
)
from planstream.server.event_log import StoredEvent
from planstream.server.new_events import NewEvent, NewEvents

# Internal to the event logs (memory_log.py, redis_log.py).
__all__: list[str] = []

#: The event model of each known kind; any other kind is an UnknownEvent.
_EVENT_MODELS: Final[dict[str, type[EventBase]]] = {
    EventKind.PLAN_STATUS: PlanStatusEvent,
    EventKind.PLAN_PROGRESS: PlanProgressEvent,
    EventKind.STEP_STATUS: StepStatusEvent,
    EventKind.LOG: LogEvent,
}

#: Kinds that change a plan's state; the others only move its head (protocol §5).
STATE_KINDS: Final = frozenset(
    {EventKind.PLAN_STATUS, EventKind.PLAN_PROGRESS, EventKind.STEP_STATUS}
)

#: ``StoredEvent(*fields)`` without the Python frame of a named tuple's ``__new__``.
_stored: Final = partial(tuple.__new__, StoredEvent)


def _text(value: object) -> str:
    return to_json(value).decode()


def stored_event(json: str) -> StoredEvent:
    """An event's stored JSON (a Redis stream entry) as a :class:`StoredEvent`."""
    event = decode_event_json(json)
    return StoredEvent(json, len(json.encode()), event.seq, event.event_id, event)


@dataclass(frozen=True, slots=True)
class EventBatch:
    """The events of one append, rendered up to their ids.

    An event's JSON is ``head`` + its id + ``'","seq":'`` + its seq + its
    tail: ``common`` (``,"ts":..,"kind":``) + its kind's JSON +
    ``',"data":'`` + its data's JSON + ``'}'``. ``ends``: the terminal
    status the batch ends with ('' if none).
    """

    plan_id: str
    ts: datetime
    events: NewEvents
    head: str
    common: str
    ends: str

    @classmethod
    def build(cls, plan_id: str, events: Sequence[NewEvent], ts: datetime) -> EventBatch:
        """Render ``events`` up to their positions (they were validated when made)."""
        head = f'{{"type":"event","plan_id":{_text(plan_id)},"event_id":"'
        common = f',"ts":{_text(ts)},"kind":'
        ends = events[-1].ends_plan if events else ""
        return cls(plan_id, ts, NewEvents.of(events), head, common, ends)

    def tails(self) -> list[str]:
        """Each event's JSON after its seq (what the Redis append script splices)."""
        common, kinds = self.common, self._kind_texts()
        events = zip(self.events.kinds, self.events.data_json, strict=True)
        return [f'{common}{kinds[kind]},"data":{data}}}' for kind, data in events]

    def stored(self, id_prefix: str, start: int) -> tuple[list[StoredEvent], list[Event]]:
        """The batch appended from seq ``start``, with ids ``<id_prefix><seq>``.

        Also returns the events a plan state must fold to be up to date, as
        models: those of kinds that change the state and the last one (protocol
        §5: other kinds only move the head). Only these are built as models
        here; any other's model is decoded from its JSON if ever asked for.
        """
        head, common, kinds = self.head, self.common, self._kind_texts()
        count = len(self.events)
        seqs = range(start, start + count)
        # One string per event for its id and one for its JSON.
        ids = [f"{id_prefix}{seq}" for seq in seqs]
        events = zip(ids, seqs, self.events.kinds, self.events.data_json, strict=True)
        texts = [
            f'{head}{event_id}","seq":{seq}{common}{kinds[kind]},"data":{data}}}'
            for event_id, seq, kind, data in events
        ]
        sizes = [len(text) if text.isascii() else len(text.encode()) for text in texts]
        stored = list(map(_stored, zip(texts, sizes, seqs, ids, repeat(None))))
        # The events of state kinds and the last one, in order.
        folds = list(compress(range(count), map(STATE_KINDS.__contains__, self.events.kinds)))
        if count and (not folds or folds[-1] != count - 1):
            folds.append(count - 1)
        return stored, [self._fold(stored, index) for index in folds]

    def _kind_texts(self) -> dict[str, str]:
        """The JSON of each kind in the batch (one or a few)."""
        return {kind: _text(kind) for kind in set(self.events.kinds)}

    def _fold(self, stored: list[StoredEvent], index: int) -> Event:
        """The model of ``stored[index]``, built from its parts and kept with it."""
        event = stored[index]
        model = self._model(self.events[index], event.event_id, event.seq)
        stored[index] = StoredEvent(event.json, event.nbytes, event.seq, event.event_id, model)
        return model

    def _model(self, new: NewEvent, event_id: str, seq: int) -> Event:
        # The envelope is the server's own. A state kind's data is the model
        # validated on publish (an instance, so pydantic keeps it rather than
        # validating it again); another kind's is a dict of validated values
        # (publish_schema.py), made a model here only when it is a batch's last.
        model = _EVENT_MODELS.get(new.kind, UnknownEvent)
        envelope = {
            "plan_id": self.plan_id,
            "event_id": event_id,
            "seq": seq,
            "ts": self.ts,
            "kind": new.kind,
            "data": new.data,
        }
        return cast("Event", model.model_validate(envelope))
