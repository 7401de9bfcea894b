"""Steps of server_publish_path.feature on the publish schema and the columns it yields.

No ``from __future__ import annotations``: the models below are built while
behave executes this file, where pydantic cannot look their names up later.
"""

import json
from enum import IntEnum
from typing import Any

from behave import then
from pydantic import Field, computed_field, model_validator
from pydantic_core import SchemaValidator, to_json

from planstream.schema.events import Head, LogData, LogLevel, LogStream, WireModel
from planstream.server.http_publish import _created
from planstream.server.new_events import NewEvent, NewEvents
from planstream.server.publish_schema import values_schema


class _Union(WireModel):
    """A field whose schema holds a list (a union's choices) with enums inside."""

    where: LogLevel | LogStream
    note: str | None = None


class _Aliased(WireModel):
    level: LogLevel = Field(alias="lvl")


class _Checked(WireModel):
    level: LogLevel

    @model_validator(mode="after")
    def _never(self) -> "_Checked":
        return self


class _Computed(WireModel):
    level: LogLevel

    @computed_field  # type: ignore[prop-decorator]
    @property
    def loud(self) -> bool:
        return self.level is LogLevel.ERROR


class _Number(IntEnum):
    ONE = 1


class _Numbered(WireModel):
    number: _Number


@then("a model's values schema validates to a dict that encodes as the model does")
def then_values_schema(context: Any) -> None:
    cases: list[tuple[type[WireModel], dict[str, Any]]] = [
        (LogData, {"stream": "stderr", "message": "m", "level": "error", "extra": 1}),
        (LogData, {"level": "debug", "message": "", "step_id": "s", "stream": "system"}),
        (_Union, {"where": "stdout"}),
        (_Union, {"where": "warning", "note": "n"}),
    ]
    for model, data in cases:
        values = SchemaValidator(values_schema(model)).validate_json(json.dumps(data))
        assert type(values) is dict, values
        assert to_json(values) == to_json(model.model_validate(data)), (values, data)
        assert all(type(value) in (str, type(None)) for value in values.values()), values


@then(
    "a values schema is refused for a model with an alias, a model validator, "
    "a computed field or an int enum"
)
def then_values_schema_refused(context: Any) -> None:
    for model in (_Aliased, _Checked, _Computed, _Numbered):
        refusal = ""
        try:
            values_schema(model)
        except TypeError as exc:
            refusal = str(exc)
        assert model.__name__ in refusal or "enum" in refusal, (model, refusal)


@then("a publish body's events by column read as the NewEvents they hold")
def then_columns(context: Any) -> None:
    events = [NewEvent("log", {"n": n}, f'{{"n":{n}}}') for n in range(3)]
    columns = NewEvents.of(events)
    assert NewEvents.of(columns) is columns
    assert len(columns) == 3
    assert list(columns) == events
    assert columns[-1] == events[-1]
    assert list(columns[1:]) == events[1:]
    assert isinstance(columns[1:], NewEvents)
    assert repr(columns) == "NewEvents(3 events)"
    refusal = ""
    try:
        NewEvents(["log"], [], [])
    except ValueError as exc:
        refusal = str(exc)
    assert "length" in refusal, refusal


@then("a 201 answer for ids JSON must escape is what the encoder writes")
def then_created_escapes(context: Any) -> None:
    for ids in (["a.1.1", "a.1.2"], ['q"uote', "back\\slash", "é\u2028", "c\x01"]):
        heads = [Head(seq=seq, event_id=event_id) for seq, event_id in enumerate(ids, 1)]
        expected = {"events": [{"event_id": h.event_id, "seq": h.seq} for h in heads]}
        answer = _created(heads)
        assert answer.status_code == 201
        assert answer.body == to_json(expected), answer.body
        assert json.loads(answer.body) == expected
