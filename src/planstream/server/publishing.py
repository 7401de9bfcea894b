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
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError

from planstream.errors import PlanStreamError
from planstream.schema.events import (
    EventKind,
    LogData,
    PlanProgressData,
    PlanStatusData,
    StepStatusData,
)
from planstream.schema.limits import plan_id_problem
from planstream.server.event_log import NewEvent

__all__ = [
    "MAX_EVENTS_PER_PUBLISH",
    "MAX_IDEMPOTENCY_KEY",
    "PublishError",
    "body_digest",
    "check_plan_id",
    "idempotency_key_problem",
    "parse_publish_body",
    "validate_new_event",
]

#: Most events one publish request may carry.
MAX_EVENTS_PER_PUBLISH: Final = 1000

#: protocol §6: an ``Idempotency-Key`` is 1-128 printable ASCII characters.
MAX_IDEMPOTENCY_KEY: Final = 128

_DATA_MODELS: Final[dict[str, type[BaseModel]]] = {
    EventKind.PLAN_STATUS: PlanStatusData,
    EventKind.PLAN_PROGRESS: PlanProgressData,
    EventKind.STEP_STATUS: StepStatusData,
    EventKind.LOG: LogData,
}


class PublishError(PlanStreamError, ValueError):
    """A publish request is invalid; the message says what to fix."""


class _PublishItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Annotated[str, Strict(), Field(min_length=1, max_length=200)]
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


def _inconsistency(data: BaseModel) -> str | None:
    """What the schema lets through but no plan can mean (issue 10, item 5)."""
    if isinstance(data, StepStatusData) and data.index < 0:
        return f"index: must be 0 or more, not {data.index}"
    if isinstance(data, PlanProgressData) and data.completed_steps > data.total_steps:
        return (
            f"completed_steps: {data.completed_steps} is more than total_steps ({data.total_steps})"
        )
    return None


def validate_new_event(kind: str, data: Any, *, allow_unknown_kinds: bool) -> NewEvent:
    """Check one event's ``data`` against its kind's schema."""
    model = _DATA_MODELS.get(kind)
    if model is None:
        if not allow_unknown_kinds:
            known = ", ".join(sorted(_DATA_MODELS))
            raise PublishError(f"unknown kind {kind!r} (this server accepts: {known})")
        if not isinstance(data, dict):
            raise PublishError("data must be a JSON object")
        return NewEvent(kind, data)
    try:
        validated = model.model_validate(data)
    except ValidationError as exc:
        raise PublishError(f"invalid data for {kind!r}: {_first_problem(exc)}") from None
    problem = _inconsistency(validated)
    if problem is not None:
        raise PublishError(f"invalid data for {kind!r}: {problem}")
    return NewEvent(kind, validated.model_dump(mode="json"))


def parse_publish_body(body: bytes, *, allow_unknown_kinds: bool) -> list[NewEvent]:
    """Parse and validate a publish request body into events to append."""
    adapter: TypeAdapter[_PublishItem] | TypeAdapter[list[_PublishItem]]
    adapter = _LIST if body.lstrip()[:1] == b"[" else _ITEM
    try:
        parsed = adapter.validate_json(body)
    except ValidationError as exc:
        raise PublishError(
            'body must be {"kind": ..., "data": {...}} or a list of them: ' + _first_problem(exc)
        ) from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise PublishError("no events to publish")
    if len(items) > MAX_EVENTS_PER_PUBLISH:
        raise PublishError(f"at most {MAX_EVENTS_PER_PUBLISH} events per request")
    events = []
    for index, item in enumerate(items):
        try:
            events.append(
                validate_new_event(item.kind, item.data, allow_unknown_kinds=allow_unknown_kinds)
            )
        except PublishError as exc:
            prefix = f"item {index}: " if isinstance(parsed, list) else ""
            raise PublishError(f"{prefix}{exc}") from None
    return events


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors(include_input=False, include_url=False)[0]
    if error["type"] == "json_invalid":
        return "not valid JSON"
    loc = [part for part in error["loc"] if not str(part).startswith("function")]
    prefix = f"item {loc.pop(0)}: " if loc and isinstance(loc[0], int) else ""
    where = ".".join(str(part) for part in loc)
    return prefix + (f"{where}: {error['msg']}" if where else error["msg"])
