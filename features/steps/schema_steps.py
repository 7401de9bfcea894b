"""Steps for the wire schema, the codec and version negotiation (pure, no I/O)."""

from __future__ import annotations

import builtins
import json
import re
from datetime import UTC, datetime
from typing import Any

from behave import given, then, use_step_matcher, when
from pydantic_core import to_jsonable_python
from support.schema_frames import raw_text

import planstream
import planstream.schema
from planstream.codec import decode_client_frame, decode_event, decode_server_frame, encode_frame
from planstream.schema import ErrorCode, PingFrame, SubscribeFrame, UnsubscribeFrame

use_step_matcher("parse")

_TS = "2024-05-01T12:00:00Z"
#: A valid ``data`` object per kind of schema 1.0 (protocol §5).
_VALID_DATA: dict[str, dict[str, Any]] = {
    "plan.status": {"status": "running", "reason": None},
    "plan.progress": {"completed_steps": 1, "total_steps": 4, "percent": 25.0, "message": None},
    "step.status": {"step_id": "s-1", "index": 0, "name": "Fetch", "status": "running"},
    "log": {"level": "info", "message": "", "step_id": None, "stream": "stdout"},
}
_DECODERS = {"server": decode_server_frame, "client": decode_client_frame}


def _event_object(kind: str, data: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "plan_id": "plan-7",
        "event_id": "ev-3",
        "seq": 3,
        "ts": _TS,
        "kind": kind,
        "data": data,
    }


def _valid_event(kind: str) -> dict[str, Any]:
    return _event_object(kind, json.loads(json.dumps(_VALID_DATA[kind])))


def _walk(obj: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    *parents, last = path.split(".")
    for name in parents:
        obj = obj[name]
    return obj, last


def _resolve(value: Any, path: str) -> Any:
    """Follow ``a.b[0].c`` through models (attributes), dicts (keys) and sequences."""
    for part in path.split("."):
        match = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", part)
        assert match, f"bad path {path!r}"
        name, indexes = match.groups()
        value = value[name] if isinstance(value, dict) else getattr(value, name)
        for index in re.findall(r"\[(\d+)\]", indexes):
            value = value[int(index)]
    return value


def _named_type(name: str) -> type:
    if name == "datetime":
        return datetime
    found = getattr(planstream.schema, name, None) or getattr(builtins, name, None)
    assert isinstance(found, type), f"no type named {name!r}"
    return found


def _set_raw(context: Any, raw: str | bytes | bytearray) -> None:
    context.wire_raw = raw
    context.wire_model = None
    context.wire_error = None


def _decode(context: Any, side: str, limit: int | None) -> None:
    context.wire_side = side
    try:
        context.wire_model = _DECODERS[side](context.wire_raw, max_bytes=limit)
    except Exception as exc:  # asserted on by the Then steps
        context.wire_error = exc
        context.wire_model = None
    else:
        context.wire_error = None


def _model(context: Any) -> Any:
    assert context.wire_error is None, f"decoding failed: {context.wire_error!r}"
    assert context.wire_model is not None
    return context.wire_model


# --- Given: raw frames ------------------------------------------------------------


@given("the raw wire frame:")
def given_raw_docstring(context: Any) -> None:
    _set_raw(context, context.text)


@given("the raw wire JSON {frame}")
def given_raw_inline(context: Any, frame: str) -> None:
    _set_raw(context, frame)


@given('a raw wire event of kind "{kind}" with data {data}')
def given_event_with_data(context: Any, kind: str, data: str) -> None:
    _set_raw(context, json.dumps(_event_object(kind, json.loads(data))))


@given('a valid raw wire "{kind}" event with field "{path}" set to {value}')
def given_event_with_field(context: Any, kind: str, path: str, value: str) -> None:
    event = _valid_event(kind)
    parent, name = _walk(event, path)
    parent[name] = json.loads(value)
    _set_raw(context, json.dumps(event))


@given('a valid raw wire "{kind}" event without field "{path}"')
def given_event_without_field(context: Any, kind: str, path: str) -> None:
    event = _valid_event(kind)
    parent, name = _walk(event, path)
    del parent[name]
    _set_raw(context, json.dumps(event))


def _padded(event: dict[str, Any], size: int, char: str) -> str:
    base = json.dumps(event, ensure_ascii=False)
    missing = size - len(base)
    assert missing >= 0, f"{size} characters is shorter than the bare event ({len(base)})"
    event["data"]["message"] = char * missing
    text = json.dumps(event, ensure_ascii=False)
    assert len(text) == size, (len(text), size)
    return text


@given('a raw wire "{kind}" event padded to {size:d} characters of "{char}"')
def given_padded_event(context: Any, kind: str, size: int, char: str) -> None:
    _set_raw(context, _padded(_valid_event(kind), size, char))


@given('a raw wire "{kind}" event padded to {size:d} characters with field "{path}" set to {value}')
def given_padded_bad_event(context: Any, kind: str, size: int, path: str, value: str) -> None:
    event = _valid_event(kind)
    parent, name = _walk(event, path)
    parent[name] = json.loads(value)
    _set_raw(context, _padded(event, size, "x"))


@given('the raw wire bytes in hex "{hexdigits}"')
def given_raw_bytes(context: Any, hexdigits: str) -> None:
    raw = bytes.fromhex(hexdigits)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        raise AssertionError("the bytes were meant to be invalid UTF-8")
    _set_raw(context, raw)


@given("the raw wire frame is passed as {form}")
def given_raw_form(context: Any, form: str) -> None:
    text = raw_text(context.wire_raw)
    converters = {"str": str, "bytes": str.encode, "bytearray": lambda t: bytearray(t.encode())}
    _set_raw(context, converters[form](text))
    assert type(context.wire_raw).__name__ == form


# --- When: decoding -----------------------------------------------------------------


@when("the raw wire frame is decoded as a server frame")
def when_decode_server(context: Any) -> None:
    _decode(context, "server", None)


@when("the raw wire frame is decoded as a server frame with a limit of {limit:d} bytes")
def when_decode_server_limited(context: Any, limit: int) -> None:
    _decode(context, "server", limit)


@when("the raw wire frame is decoded as a client frame")
def when_decode_client(context: Any) -> None:
    _decode(context, "client", None)


@when("the raw wire frame is decoded as a client frame with a limit of {limit:d} bytes")
def when_decode_client_limited(context: Any, limit: int) -> None:
    _decode(context, "client", limit)


def _decode_python(context: Any, value: Any) -> None:
    context.wire_side = "server"
    context.wire_raw = repr(value)
    try:
        context.wire_model = decode_event(value)
    except Exception as exc:  # asserted on by the Then steps
        context.wire_error = exc
        context.wire_model = None
    else:
        context.wire_error = None


@when("the raw wire frame is parsed with json and given to decode_event")
def when_decode_event_parsed(context: Any) -> None:
    _decode_python(context, json.loads(context.wire_raw))


@when("decode_event is given a log event whose ts is a Python datetime")
def when_decode_event_objects(context: Any) -> None:
    event = _event_object("log", {"level": "error", "message": "m", "stream": "stderr"})
    event["ts"] = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    _decode_python(context, event)


@when("decode_event is given a log event whose data holds a Python object")
def when_decode_event_unserialisable(context: Any) -> None:
    event = _event_object("log", {"level": "info", "message": object(), "stream": "stdout"})
    _decode_python(context, event)


@when("decode_event is given the Python value {value}")
def when_decode_event_value(context: Any, value: str) -> None:
    _decode_python(context, json.loads(value))


# --- Then: decoded models -------------------------------------------------------


@then("the decoded wire model is a {name}")
def then_model_class(context: Any, name: str) -> None:
    model = _model(context)
    assert type(model) is _named_type(name), f"{type(model).__name__} is not {name}: {model!r}"


@then('the decoded wire attribute "{path}" has type {type_name} and equals {expected}')
def then_attribute(context: Any, path: str, type_name: str, expected: str) -> None:
    value = _resolve(_model(context), path)
    assert type(value) is _named_type(type_name), f"{path}: {type(value).__name__} {value!r}"
    assert to_jsonable_python(value) == json.loads(expected), (path, value)


@then('the decoded wire attribute "{path}" is null')
def then_attribute_null(context: Any, path: str) -> None:
    value = _resolve(_model(context), path)
    assert value is None, (path, value)


@then("encoding the decoded wire model and decoding it again gives an equal model")
def then_round_trip(context: Any) -> None:
    model = _model(context)
    text = encode_frame(model)
    assert isinstance(text, str)
    again = _DECODERS[context.wire_side](text)
    assert type(again) is type(model)
    assert again == model, (again, model)
    # Encoding is stable: a second round gives the same text.
    assert encode_frame(again) == text


@then('the encoded decoded wire model does not mention "{text}"')
def then_encoded_lacks(context: Any, text: str) -> None:
    encoded = encode_frame(_model(context))
    assert text not in encoded, encoded
    assert text in raw_text(context.wire_raw), "the raw frame was meant to contain it"


@then('the encoded decoded wire JSON has "{key}" equal to "{value}"')
def then_encoded_key(context: Any, key: str, value: str) -> None:
    encoded = json.loads(encode_frame(_model(context)))
    assert encoded.get(key) == value, encoded


@then('the encoded decoded wire JSON has no key "{key}"')
def then_encoded_no_key(context: Any, key: str) -> None:
    encoded = json.loads(encode_frame(_model(context)))
    assert key not in encoded, encoded


@then("the decoded batch holds these events in order:")
def then_batch_events(context: Any) -> None:
    events = _model(context).events
    rows = list(context.table)
    assert len(events) == len(rows), events
    for event, row in zip(events, rows, strict=True):
        assert type(event).__name__ == row["model"], (event, row)
        assert event.plan_id == row["plan_id"], (event, row)
        assert event.seq == int(row["seq"]), (event, row)


@then("the decoded error code is a member of ErrorCode: {known}")
def then_error_code_known(context: Any, known: str) -> None:
    code = _model(context).code
    members = {member.value for member in ErrorCode}
    assert (code in members) is (known == "yes"), (code, members)
    if known == "yes":
        assert ErrorCode(code).value == code


# --- client frames built in Python ---------------------------------------------------


@when(
    'a subscribe frame with id {request_id:d} for plan "{plan_id}"'
    ' after event "{event_id}" is encoded'
)
def when_encode_subscribe(context: Any, request_id: int, plan_id: str, event_id: str) -> None:
    frame = SubscribeFrame(id=request_id, plan_id=plan_id, last_event_id=event_id)
    context.wire_encoded = encode_frame(frame)


@when('a subscribe frame with id {request_id:d} for plan "{plan_id}" from the start is encoded')
def when_encode_subscribe_start(context: Any, request_id: int, plan_id: str) -> None:
    context.wire_encoded = encode_frame(SubscribeFrame(id=request_id, plan_id=plan_id))


@when('an unsubscribe frame with id {request_id:d} for plan "{plan_id}" is encoded')
def when_encode_unsubscribe(context: Any, request_id: int, plan_id: str) -> None:
    context.wire_encoded = encode_frame(UnsubscribeFrame(id=request_id, plan_id=plan_id))


@when('a ping frame with id "{request_id}" is encoded')
def when_encode_ping(context: Any, request_id: str) -> None:
    context.wire_encoded = encode_frame(PingFrame(id=request_id))


@then("the encoded wire JSON object equals {expected}")
def then_encoded_object(context: Any, expected: str) -> None:
    assert json.loads(context.wire_encoded) == json.loads(expected), context.wire_encoded
    # What the client sends, the server side decodes back to the same frame.
    decoded = decode_client_frame(context.wire_encoded)
    assert encode_frame(decoded) == context.wire_encoded
