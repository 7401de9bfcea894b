"""Steps of negotiation.feature: the client's side of version negotiation (protocol §2), pure."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when

import planstream
import planstream.schema
from planstream import FatalError, IncompatibleProtocolError, ProtocolError
from planstream.codec import decode_server_frame
from planstream.negotiation import check_hello, client_versions, incompatible_subprotocols
from planstream.schema import HelloFrame

# --- negotiation (protocol §2) -----------------------------------------------------


def _hello(protocol: int, schema: str) -> HelloFrame:
    frame = {
        "type": "hello",
        "protocol": protocol,
        "schema": schema,
        "server": "refserver/9.9",
        "session_id": "sess-1",
        "heartbeat_s": 15,
        "max_frame_bytes": 1048576,
    }
    hello = decode_server_frame(json.dumps(frame))
    assert isinstance(hello, HelloFrame)
    return hello


@given('a server hello with protocol {protocol:d} and schema "{schema}"')
def given_hello(context: Any, protocol: int, schema: str) -> None:
    context.hello = _hello(protocol, schema)


def _check(context: Any, **client: Any) -> None:
    try:
        context.hello_result = check_hello(context.hello, **client)
    except Exception as exc:  # asserted on by the Then steps
        context.hello_error = exc
    else:
        context.hello_error = None


@when("the hello is checked against this client's versions")
def when_check_hello(context: Any) -> None:
    _check(context)


@when('the hello is checked against a client of protocol {protocol:d} and schema "{schema}"')
def when_check_hello_custom(context: Any, protocol: int, schema: str) -> None:
    _check(context, protocol=protocol, schema=schema)


@then("the hello is accepted")
def then_hello_accepted(context: Any) -> None:
    assert context.hello_error is None, repr(context.hello_error)
    assert context.hello_result is None


def _incompatible(error: Any) -> IncompatibleProtocolError:
    assert isinstance(error, IncompatibleProtocolError), repr(error)
    assert isinstance(error, FatalError)
    assert isinstance(error, ProtocolError)
    assert not isinstance(error, planstream.RetryableError)
    return error


@then('the hello is refused as incompatible because the "{detail}"')
def then_hello_refused(context: Any, detail: str) -> None:
    error = _incompatible(context.hello_error)
    assert detail in str(error), str(error)


@then('the incompatibility error names the server\'s "{server}" and the client\'s "{client}"')
def then_error_names(context: Any, server: str, client: str) -> None:
    error = _incompatible(context.hello_error)
    message = str(error)
    assert server in error.server, (server, error.server)
    assert client in error.client, (client, error.client)
    assert error.server in message, message
    assert error.client in message, message


@then("the incompatibility error names this client's versions")
def then_error_names_client(context: Any) -> None:
    error = _incompatible(context.hello_error)
    versions = client_versions()
    assert (
        versions
        == f"protocol {planstream.schema.PROTOCOL_VERSION}, schema {planstream.schema.SCHEMA_VERSION}"
    )
    assert error.client == versions
    assert versions in str(error)


@when("the server refused the upgrade listing the subprotocols {supported}")
def when_subprotocols_refused(context: Any, supported: str) -> None:
    context.subprotocol_error = incompatible_subprotocols(json.loads(supported))


@then('the subprotocol error names "{server}" for the server and "{client}" for the client')
def then_subprotocol_error(context: Any, server: str, client: str) -> None:
    error = _incompatible(context.subprotocol_error)
    assert server in error.server, error.server
    assert client in error.client, error.client
    assert server in str(error)
    assert client in str(error)
    assert "no common subprotocol" in str(error)


@when(
    'an incompatibility error is built for server "{server}" and client "{client}" without a detail'
)
def when_build_incompatible(context: Any, server: str, client: str) -> None:
    context.hello_error = IncompatibleProtocolError(server=server, client=client)


@then('the incompatibility error reads "{message}"')
def then_incompatible_message(context: Any, message: str) -> None:
    error = _incompatible(context.hello_error)
    assert str(error) == message, str(error)
