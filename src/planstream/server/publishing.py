"""Validate what publishers send before anything is appended (protocol §6).

A publish body is ``{"kind","data"}`` or a list of them. Known kinds must
match their schema; unknown kinds are refused unless the server allows them.
A list is atomic: one bad item refuses the whole request. Beyond the schema
(which bounds integers to the JSON-safe range, protocol §1), what a publisher
sends must be consistent: a step's ``index`` is not negative, and
``completed_steps`` is not more than ``total_steps``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from operator import itemgetter
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, to_json

from planstream.errors import PlanStreamError
from planstream.schema.event_data import EventData, event_kind
from planstream.schema.events import (
    WireModel,
)
from planstream.schema.limits import plan_id_problem
from planstream.server.new_events import NewEvent, NewEvents
from planstream.server.publish_schema import BODY, DATA_MODELS, MAX_KIND_LENGTH, inconsistency

__all__ = [
    "MAX_EVENTS_PER_PUBLISH",
    "MAX_IDEMPOTENCY_KEY",
    "PublishError",
    "body_digest",
    "check_plan_id",
    "idempotency_key_problem",
    "parse_publish_body",
    "publish_arguments",
    "validate_new_event",
]

#: Most events one publish request may carry.
MAX_EVENTS_PER_PUBLISH: Final = 1000

#: protocol §6: an ``Idempotency-Key`` is 1-128 printable ASCII characters.
MAX_IDEMPOTENCY_KEY: Final = 128


class PublishError(PlanStreamError, ValueError):
    """A publish request is invalid; the message says what to fix."""


class _PublishItem(BaseModel):
    """An item's shape alone: how an invalid body is explained (see :func:`_explain`)."""

    model_config = ConfigDict(extra="ignore")

    kind: Annotated[str, Strict(), Field(min_length=1, max_length=MAX_KIND_LENGTH)]
    data: dict[str, Any]


# Two adapters rather than one union, so an error describes the body's own
# shape (a union would report the object branch's error for a list).
_ITEM: Final[TypeAdapter[_PublishItem]] = TypeAdapter(_PublishItem)
_LIST: Final[TypeAdapter[list[_PublishItem]]] = TypeAdapter(list[_PublishItem])


def check_plan_id(plan_id: str) -> None:
    """protocol §1: the plan id rules, the same on every route and frame."""
    problem = plan_id_problem(plan_id)
    if problem is not None:
        raise PublishError(problem)


def idempotency_key_problem(key: str) -> str | None:
    """What is wrong with an ``Idempotency-Key`` (protocol §6), None when nothing."""
    if not key:
        return "Idempotency-Key: must not be empty"
    if len(key) > MAX_IDEMPOTENCY_KEY:
        return f"Idempotency-Key: at most {MAX_IDEMPOTENCY_KEY} characters, not {len(key)}"
    # Printable ASCII is " " to "~"; isprintable() alone would take "é".
    if not (key.isascii() and key.isprintable()):
        return "Idempotency-Key: printable ASCII characters only"
    return None


def body_digest(body: bytes) -> str:
    """protocol §6: the digest kept with an idempotency key (hex SHA-256 of the body)."""
    return hashlib.sha256(body).hexdigest()


def publish_arguments(data: object, raw: object) -> tuple[str, object]:
    """The kind and data of ``publish(plan_id, model)`` or ``publish(plan_id, kind, dict)``.

    A data model names its kind (``LogData`` is a ``log``); a kind given as a
    string takes its data as a mapping, the form for data read from JSON and
    for the kinds that have no model (``allow_unknown_kinds``).

    Raises:
        PublishError: neither form: a mapping without its kind, a model with
            a kind as well, or something else.
    """
    if isinstance(data, str):
        if not isinstance(raw, Mapping):
            hint = " (a data model goes alone: publish(plan_id, data))"
            raise PublishError(
                f"data must be a JSON object (a mapping), not {type(raw).__name__}"
                + (hint if isinstance(raw, WireModel) else "")
            )
        return data, dict(raw)
    if isinstance(data, EventData):
        kind = event_kind(data).value  # the kind's plain string, not its enum member
        if raw is not None:
            raise PublishError(
                f"publish(plan_id, {type(data).__name__}(...)) takes no more data: "
                f"the model names its kind ({kind!r})"
            )
        return kind, data
    raise PublishError(
        "publish(plan_id, data) takes a LogData, StepStatusData, PlanStatusData or "
        "PlanProgressData (the model names the kind), or publish(plan_id, kind, mapping); "
        f"not {type(data).__name__}"
    )


_KIND: Final = itemgetter("kind")
_DATA: Final = itemgetter("data")


def _too_large(max_data_bytes: int) -> PublishError:
    # An event must fit in one frame of max_frame_bytes, or no client could
    # ever receive it: the server refuses data over half of it.
    return PublishError(f"event data larger than {max_data_bytes} bytes")


def validate_new_event(
    kind: str, data: Any, *, allow_unknown_kinds: bool, max_data_bytes: int | None = None
) -> NewEvent:
    """Check one event's ``data`` against its kind's schema, and encode it once.

    ``max_data_bytes``: the most bytes the encoded ``data`` may take (see
    :func:`parse_publish_body`).
    """
    model = DATA_MODELS.get(kind)
    validated: WireModel | dict[str, Any]
    if model is None:
        if not allow_unknown_kinds:
            known = ", ".join(sorted(DATA_MODELS))
            raise PublishError(f"unknown kind {kind!r} (this server accepts: {known})")
        if not isinstance(data, dict):
            raise PublishError("data must be a JSON object")
        validated = data
    else:
        try:
            validated = model.model_validate(data)
        except ValidationError as exc:
            raise PublishError(f"invalid data for {kind!r}: {_first_problem(exc)}") from None
        problem = inconsistency(validated)
        if problem is not None:
            raise PublishError(f"invalid data for {kind!r}: {problem}")
    try:
        raw = to_json(validated)
    except PydanticSerializationError:
        raise PublishError("data must be JSON-serialisable") from None
    if max_data_bytes is not None and len(raw) > max_data_bytes:
        raise _too_large(max_data_bytes)
    return NewEvent(kind, validated, raw.decode())


def parse_publish_body(
    body: bytes, *, allow_unknown_kinds: bool, max_data_bytes: int | None = None
) -> NewEvents:
    """Parse, validate and encode a publish request body into events to append.

    One ``validate_json`` call parses the body and validates every item's
    data by its kind; each ``data`` is then encoded once. Only a body that
    fails is looked at again, item by item, to say what is wrong.

    ``max_data_bytes``: the most bytes one event's ``data`` may take, measured
    one way for every publish: its compact JSON as sent on the wire, in UTF-8
    (``docs/reference/server_websocket.md``, reading 40). Checked after every
    item is found valid.
    """
    is_list = body.lstrip()[:1] == b"["
    one, many = BODY[allow_unknown_kinds]
    try:
        parsed = many.validate_json(body) if is_list else [one.validate_json(body)]
    except ValidationError as exc:
        raise _explain(body, allow_unknown_kinds, exc) from None
    if not parsed:
        raise PublishError("no events to publish")
    if len(parsed) > MAX_EVENTS_PER_PUBLISH:
        raise PublishError(f"at most {MAX_EVENTS_PER_PUBLISH} events per request")
    # The one encoding of each event's data (its bytes are its size on the wire).
    # map() with C callables throughout: no Python frame per event.
    data = list(map(_DATA, parsed))
    encoded = list(map(to_json, data))
    if max_data_bytes is not None and max(map(len, encoded)) > max_data_bytes:
        raise _too_large(max_data_bytes)
    return NewEvents(list(map(_KIND, parsed)), data, list(map(bytes.decode, encoded)))


def _explain(body: bytes, allow_unknown_kinds: bool, exc: ValidationError) -> PublishError:
    """What is wrong with a body the one-pass validation refused.

    The body's shape first (an object or a list of ``{"kind","data"}``), then
    the count, then each item against its kind, the first problem in order.
    """
    is_list = body.lstrip()[:1] == b"["
    try:
        parsed = (_LIST if is_list else _ITEM).validate_json(body)
    except ValidationError as shape:
        return PublishError(
            'body must be {"kind": ..., "data": {...}} or a list of them: ' + _first_problem(shape)
        )
    items = parsed if isinstance(parsed, list) else [parsed]  # not empty: one is invalid
    if len(items) > MAX_EVENTS_PER_PUBLISH:
        return PublishError(f"at most {MAX_EVENTS_PER_PUBLISH} events per request")
    for index, item in enumerate(items):
        try:
            validate_new_event(item.kind, item.data, allow_unknown_kinds=allow_unknown_kinds)
        except PublishError as problem:
            prefix = f"item {index}: " if is_list else ""
            return PublishError(f"{prefix}{problem}")
    # Unreachable while both agree (features/server_publish_path.feature checks that they do).
    return PublishError(f"invalid body: {_first_problem(exc)}")  # pragma: no cover


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors(include_input=False, include_url=False)[0]
    if error["type"] == "json_invalid":
        return "not valid JSON"
    loc = [part for part in error["loc"] if not str(part).startswith("function")]
    prefix = f"item {loc.pop(0)}: " if loc and isinstance(loc[0], int) else ""
    where = ".".join(str(part) for part in loc)
    return prefix + (f"{where}: {error['msg']}" if where else error["msg"])
