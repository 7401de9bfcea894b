"""The schema a publish body is validated against in one pass (protocol §6).

One ``validate_json`` call parses a body (an item or a list of them) and
validates every item's ``data`` by its ``kind``. What an item's ``data``
becomes depends on what the log does with it:

* a kind that changes a plan's state (``plan.status``, ``plan.progress``,
  ``step.status``) becomes the kind's data model, which the log folds;
* ``log`` only moves the head (protocol §5): its model would be built only
  to be encoded, so its data becomes a plain dict of the model's fields, in
  the model's order, defaults filled in, enums as their string values. The
  checks are the model's own field schemas (derived below, not written
  twice), and the dict encodes without a call back into Python (encoding an
  enum member reads its ``value`` property: half the cost of encoding a log
  line as a model, and a model costs a third more to build than a dict);
* an unknown kind (when the server allows them) keeps its data as a dict.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Union

from pydantic import AfterValidator, BaseModel, Field, GetCoreSchemaHandler, Strict, TypeAdapter
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12

from planstream.schema.events import (
    KNOWN_EVENT_KINDS,
    EventKind,
    LogData,
    PlanProgressData,
    PlanStatusData,
    StepStatusData,
    WireModel,
)
from planstream.server.event_batch import STATE_KINDS

# Internal to the publish path (publishing.py).
__all__: list[str] = []

#: The longest ``kind`` a publish may name.
MAX_KIND_LENGTH: Final = 200

#: The data model of each known kind (the schema of its ``data``).
DATA_MODELS: Final[dict[str, type[WireModel]]] = {
    EventKind.PLAN_STATUS: PlanStatusData,
    EventKind.PLAN_PROGRESS: PlanProgressData,
    EventKind.STEP_STATUS: StepStatusData,
    EventKind.LOG: LogData,
}

#: The keys of a model field this module knows how to carry over to a dict field.
_FIELD_KEYS: Final = frozenset({"type", "schema", "metadata"})


def _plain(schema: Any) -> Any:
    """``schema`` with every str enum replaced by the literal of its values."""
    if isinstance(schema, list):
        return [_plain(part) for part in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "enum":
        if schema.get("sub_type") != "str":
            raise TypeError(f"only str enums have a plain form, not {schema['cls']!r}")
        return cs.literal_schema([member.value for member in schema["members"]])
    return {key: _plain(value) for key, value in schema.items()}


def values_schema(model: type[WireModel]) -> CoreSchema:
    """``model``'s validation, producing a dict of plain values instead of the model.

    The dict's keys are the model's fields in its order, a missing optional
    field gets its default, and str enums are their values: ``to_json`` of
    the dict is ``to_json`` of the model. Refuses (at import) a model this
    derivation does not cover, such as one with model validators or aliases.
    """
    schema: Any = model.__pydantic_core_schema__
    fields_schema = schema["schema"]
    if schema["type"] != "model" or fields_schema["type"] != "model-fields":
        raise TypeError(f"{model.__name__}: only a plain model has a values schema")
    if fields_schema.get("computed_fields") or fields_schema.get("extras_schema"):
        raise TypeError(f"{model.__name__}: computed or typed extra fields are not covered")
    fields: dict[str, cs.TypedDictField] = {}
    for name, field in fields_schema["fields"].items():
        if not field.keys() <= _FIELD_KEYS:
            raise TypeError(f"{model.__name__}.{name}: {sorted(field.keys() - _FIELD_KEYS)}")
        inner = _plain(field["schema"])
        fields[name] = cs.typed_dict_field(inner, required=inner["type"] != "default")
    config = schema.get("config", {})
    return cs.typed_dict_schema(
        fields, extra_behavior=config.get("extra_fields_behavior", "ignore")
    )


class _ValuesOf:
    """``Annotated`` metadata: validate as :func:`values_schema` of a model."""

    def __init__(self, model: type[WireModel]) -> None:
        self.model = model

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return values_schema(self.model)


def inconsistency(data: BaseModel) -> str | None:
    """What the schema lets through but no plan can mean (issue 10, item 5)."""
    if isinstance(data, StepStatusData) and data.index < 0:
        return f"index: must be 0 or more, not {data.index}"
    if isinstance(data, PlanProgressData) and data.completed_steps > data.total_steps:
        return (
            f"completed_steps: {data.completed_steps} is more than total_steps ({data.total_steps})"
        )
    return None


#: The data models :func:`inconsistency` looks into.
_CHECKED: Final = frozenset({StepStatusData, PlanProgressData})


def _consistent(data: WireModel) -> WireModel:
    problem = inconsistency(data)
    if problem is not None:
        raise ValueError(problem)
    return data


def _data_type(kind: str, model: type[WireModel]) -> Any:
    """The type an item's ``data`` validates to (see the module docstring)."""
    if model in _CHECKED:
        # The consistency checks run in the one pass too: no loop over the items after it.
        return Annotated[model, AfterValidator(_consistent)]
    if kind in STATE_KINDS:
        return model
    return Annotated[dict[str, Any], _ValuesOf(model)]


def _known_item(kind: str, model: type[WireModel]) -> Any:
    """``{"kind": kind, "data": ...}`` as a TypedDict: half the cost of a model item."""
    make: Any = TypedDict  # the functional form, with names known only at run time
    data = _data_type(kind, model)
    return make(f"_{model.__name__}Item", {"kind": Literal[str(kind)], "data": data})


def _unknown_kind(kind: str) -> str:
    if kind in KNOWN_EVENT_KINDS:  # a known kind with bad data is not "unknown"
        raise ValueError("known kind")
    return kind


class _UnknownItem(TypedDict):
    kind: Annotated[
        str,
        Strict(),
        Field(min_length=1, max_length=MAX_KIND_LENGTH),
        AfterValidator(_unknown_kind),
    ]
    data: dict[str, Any]


_KnownItem: Any = Annotated[
    Union[tuple(_known_item(kind, model) for kind, model in DATA_MODELS.items())],  # noqa: UP007
    Field(discriminator="kind"),
]
_AnyItem: Any = Annotated[_KnownItem | _UnknownItem, Field(union_mode="left_to_right")]

#: A whole body in one validate_json call, data typed by kind: (one item, a
#: list) for known kinds only, and with unknown kinds allowed.
BODY: Final[dict[bool, tuple[TypeAdapter[Any], TypeAdapter[list[Any]]]]] = {
    False: (TypeAdapter(_KnownItem), TypeAdapter(list[_KnownItem])),
    True: (TypeAdapter(_AnyItem), TypeAdapter(list[_AnyItem])),
}
