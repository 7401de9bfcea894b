"""The protocol's limits on ids and numbers (protocol §1, §2, §3), in one place.

Both sides check the same rules with the same words: the server on every
client frame and every HTTP route, the client on what its user passes in
before anything is sent. Pure: no I/O, no pydantic model state.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, TypeAlias

from pydantic import AfterValidator, Field, Strict

from planstream.errors import InvalidIdError

__all__ = [
    "EVENT_ID_MAX_LENGTH",
    "HEARTBEAT_S_MAX",
    "HEARTBEAT_S_MIN",
    "JSON_SAFE_INT_MAX",
    "PLAN_ID_MAX_LENGTH",
    "REQUEST_ID_MAX_LENGTH",
    "EventIdText",
    "JsonSafeInt",
    "PlanId",
    "check_stream_ids",
    "clamp_heartbeat",
    "event_id_problem",
    "plan_id_problem",
]

#: protocol §1: a plan id is 1-256 of these characters.
PLAN_ID_MAX_LENGTH: Final = 256
#: protocol §1: an event id is at most 128 characters.
EVENT_ID_MAX_LENGTH: Final = 128
#: protocol §1: a request id string is at most 128 characters.
REQUEST_ID_MAX_LENGTH: Final = 128
#: Largest integer a JavaScript client reads exactly (2**53 - 1).
JSON_SAFE_INT_MAX: Final = 2**53 - 1
#: protocol §2: the range a client clamps ``hello.heartbeat_s`` into.
HEARTBEAT_S_MIN: Final = 1.0
HEARTBEAT_S_MAX: Final = 300.0

_PLAN_ID_CHARS: Final = re.compile(r"[A-Za-z0-9._:@-]+")
_PLAN_ID_ALPHABET: Final = "ASCII letters, digits and . _ : @ -"


def plan_id_problem(plan_id: object) -> str | None:
    """What is wrong with ``plan_id`` under protocol §1, or None when it is valid.

    The text never repeats the id itself (it may be huge or hold control
    characters); it says which rule was broken.
    """
    if not isinstance(plan_id, str):
        return f"plan_id must be a string, not {type(plan_id).__name__}"
    if not plan_id:
        return "plan_id must not be empty"
    if len(plan_id) > PLAN_ID_MAX_LENGTH:
        return f"plan_id is {len(plan_id)} characters; at most {PLAN_ID_MAX_LENGTH} are allowed"
    if _PLAN_ID_CHARS.fullmatch(plan_id) is None:
        return f"plan_id may only hold {_PLAN_ID_ALPHABET}"
    return None


def event_id_problem(event_id: object) -> str | None:
    """What is wrong with ``event_id`` as a ``last_event_id``, or None when it is usable."""
    if not isinstance(event_id, str):
        return f"last_event_id must be a string, not {type(event_id).__name__}"
    if not event_id:
        return "last_event_id must not be empty (use None to start from the beginning)"
    if len(event_id) > EVENT_ID_MAX_LENGTH:
        return (
            f"last_event_id is {len(event_id)} characters; "
            f"at most {EVENT_ID_MAX_LENGTH} are allowed"
        )
    return None


def check_stream_ids(plan_id: object, last_event_id: object) -> None:
    """protocol §1: refuse a bad id before anything is sent, so that the
    server's ``bad_request`` never reaches a connection shared by other plans.

    Raises:
        InvalidIdError: which id breaks which rule (never the id itself).
    """
    problem = plan_id_problem(plan_id)
    if problem is not None:
        raise InvalidIdError("plan_id", problem)
    if last_event_id is not None:
        problem = event_id_problem(last_event_id)
        if problem is not None:
            raise InvalidIdError("last_event_id", problem)


def clamp_heartbeat(heartbeat_s: float) -> float:
    """protocol §2: a client clamps ``heartbeat_s`` into [1, 300] before using it."""
    return min(max(heartbeat_s, HEARTBEAT_S_MIN), HEARTBEAT_S_MAX)


def _valid_plan_id(plan_id: str) -> str:
    problem = plan_id_problem(plan_id)
    if problem is not None:
        raise ValueError(problem)
    return plan_id


#: A plan id as protocol §1 allows it; used where ids enter the system
#: (client frames, publish routes, the SDK's API).
PlanId: TypeAlias = Annotated[str, Strict(), AfterValidator(_valid_plan_id)]
#: An event id as it travels: 1-128 characters, opaque.
EventIdText: TypeAlias = Annotated[
    str, Strict(), Field(min_length=1, max_length=EVENT_ID_MAX_LENGTH)
]
#: An integer a JSON reader in any language keeps exactly.
JsonSafeInt: TypeAlias = Annotated[
    int, Strict(), Field(ge=-JSON_SAFE_INT_MAX, le=JSON_SAFE_INT_MAX)
]
