"""What a log appends: events validated and encoded once, before any log sees them.

:class:`NewEvent` is one event (``server.publish``, tests); :class:`NewEvents`
is a publish body's events kept by column (``POST``: a thousand events make
three lists, not a thousand tuples); a log reads either through
:meth:`NewEvents.of`. protocol §6: nothing may follow a terminal status in
one append (:func:`refuse_events_after_end`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import Any, Final, NamedTuple, overload

from planstream.errors import PlanStreamError
from planstream.schema.events import PlanStatusData, WireModel

__all__ = ["NewEvent", "NewEvents", "PlanClosedError", "refuse_events_after_end"]


class NewEvent(NamedTuple):
    """An event to append: validated and encoded once, before any log sees it.

    Made by :func:`~planstream.server.publishing.validate_new_event`, or
    read from the :class:`NewEvents` of
    :func:`~planstream.server.publishing.parse_publish_body`; a log trusts
    it and neither validates ``data`` again nor encodes it again.

    ``data``: the kind's validated data model, or a dict of validated values
    (a ``log`` line in a publish body, see ``publish_schema.py``; any data of
    an unknown kind); ``data_json``: its compact wire JSON, spliced as is
    into the event's JSON (protocol §5).
    """

    kind: str
    data: WireModel | dict[str, Any]
    data_json: str

    @property
    def ends_plan(self) -> str:
        """The terminal status this event gives its plan, '' if none (protocol §6)."""
        data = self.data
        if isinstance(data, PlanStatusData) and data.status.is_terminal:
            return data.status.value
        return ""


_KIND: Final = attrgetter("kind")
_DATA: Final = attrgetter("data")
_DATA_JSON: Final = attrgetter("data_json")


class NewEvents(Sequence[NewEvent]):
    """Events to append by column: ``kinds[i]``, ``data[i]``, ``data_json[i]`` are event i.

    Indexing makes the :class:`NewEvent` asked for; a log's hot path reads
    the columns instead.
    """

    __slots__ = ("data", "data_json", "kinds")

    def __init__(
        self, kinds: list[str], data: list[WireModel | dict[str, Any]], data_json: list[str]
    ) -> None:
        if not len(kinds) == len(data) == len(data_json):
            raise ValueError("the columns of NewEvents differ in length")
        self.kinds = kinds
        self.data = data
        self.data_json = data_json

    @classmethod
    def of(cls, events: Sequence[NewEvent]) -> NewEvents:
        """``events`` by column (themselves when they already are)."""
        if isinstance(events, NewEvents):
            return events
        return cls(
            list(map(_KIND, events)), list(map(_DATA, events)), list(map(_DATA_JSON, events))
        )

    def __len__(self) -> int:
        return len(self.kinds)

    @overload
    def __getitem__(self, index: int) -> NewEvent: ...
    @overload
    def __getitem__(self, index: slice) -> NewEvents: ...
    def __getitem__(self, index: int | slice) -> NewEvent | NewEvents:
        if isinstance(index, slice):
            return NewEvents(self.kinds[index], self.data[index], self.data_json[index])
        return NewEvent(self.kinds[index], self.data[index], self.data_json[index])

    def __iter__(self) -> Iterator[NewEvent]:
        return map(NewEvent, self.kinds, self.data, self.data_json)

    def __repr__(self) -> str:
        return f"NewEvents({len(self)} events)"


class PlanClosedError(PlanStreamError):
    """The plan's stream ended with a terminal status; nothing more may be appended.

    protocol §6: "Once the plan has a terminal status its stream is closed:
    any further publish is ``409 conflict``". Nothing of the refused request
    was appended.
    """

    def __init__(self, plan_id: str, message: str) -> None:
        super().__init__(message)
        self.plan_id = plan_id


def refuse_events_after_end(plan_id: str, events: Sequence[NewEvent]) -> None:
    """protocol §6: a stream ends with its terminal status; nothing may follow it."""
    # list.index finds the plan.status events before the last: no Python step per event.
    kinds = NewEvents.of(events).kinds
    index = -1
    while True:
        try:
            index = kinds.index("plan.status", index + 1, len(kinds) - 1)
        except ValueError:
            return
        status = events[index].ends_plan
        if status:
            raise PlanClosedError(
                plan_id,
                f"item {index + 1} follows the terminal status {status!r} "
                f"of item {index}: a plan's stream ends with its terminal status",
            )
