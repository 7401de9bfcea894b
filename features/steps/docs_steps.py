"""Steps checking that the protocol reference's examples are real frames."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from behave import given, then

from planstream import PlanSnapshot
from planstream.codec import decode_client_frame, decode_server_frame
from planstream.schema import HttpErrorBody, PlanList, PollResponse, PublishResponse
from planstream.server import ServerSettings, create_app
from planstream.server.metrics import ServerMetrics
from planstream.server.settings import SERVER_ENV_PREFIX

ROOT = Path(__file__).resolve().parents[2]
_CLIENT_TYPES = {"subscribe", "unsubscribe", "ping"}
_SERVER_TYPES = {
    "hello",
    "subscribed",
    "resync",
    "unsubscribed",
    "event",
    "batch",
    "heartbeat",
    "pong",
    "error",
}


@given('the JSON examples of "{path}"')
def given_examples(context: Any, path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    context.examples = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


@given('the text of "{path}"')
def given_text(context: Any, path: str) -> None:
    context.doc_text = (ROOT / path).read_text(encoding="utf-8")


@then("there are at least {count:d} JSON examples")
def then_example_count(context: Any, count: int) -> None:
    assert len(context.examples) >= count, len(context.examples)


def _validate(example: dict[str, Any]) -> str:
    """Validate one example by what it is; returns what it was taken for."""
    raw = json.dumps(example)
    if "type" in example:
        if example["type"] in _CLIENT_TYPES:
            decode_client_frame(raw)
        else:
            decode_server_frame(raw)
        return str(example["type"])
    if "error" in example:
        HttpErrorBody.model_validate_json(raw)
        return "http error"
    if "resync" in example:
        PollResponse.model_validate_json(raw)
        return "poll"
    if "steps" in example:
        PlanSnapshot.model_validate_json(raw)
        return "snapshot"
    if set(example) == set(ServerMetrics().status()):
        assert all(isinstance(value, int) for value in example.values())
        return "status"
    if "plans" in example:
        PlanList.model_validate_json(raw)
        return "plans"
    if "events" in example:
        PublishResponse.model_validate_json(raw)
        return "publish"
    raise AssertionError(f"an example of no known shape: {raw[:200]}")


@then("every JSON example validates as the frame or HTTP body it shows")
def then_examples_validate(context: Any) -> None:
    context.example_kinds = [_validate(example) for example in context.examples]


@then("the examples show every server frame type and every client frame type")
def then_examples_complete(context: Any) -> None:
    shown = set(context.example_kinds)
    missing = (_SERVER_TYPES | _CLIENT_TYPES | {"poll", "snapshot", "plans", "publish"}) - shown
    assert not missing, missing


@then("the text mentions close codes {codes}")
def then_close_codes(context: Any, codes: str) -> None:
    missing = [
        code
        for code in codes.split(", ")
        if not re.search(rf"^\| [0-9, ]*\b{code}\b", context.doc_text, re.M)
    ]
    assert not missing, missing


@then("the text mentions every route of the reference server")
def then_routes(context: Any) -> None:
    paths = {route.path for route in create_app().routes}  # type: ignore[attr-defined]
    missing = [path for path in paths if path not in context.doc_text]
    assert not missing, missing


@then("every ServerSettings field has its PLANSTREAM_SERVER_ variable in the text")
def then_server_settings_documented(context: Any) -> None:
    names = [f"`{SERVER_ENV_PREFIX}{field.upper()}`" for field in ServerSettings.model_fields]
    missing = [name for name in names if name not in context.doc_text]
    assert len(names) >= 15, names
    assert not missing, missing
