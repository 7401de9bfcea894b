"""Steps of features/api_keys.feature: API key files, their reload, the verifier chain.

(A key file that stops the start, and ``planstream serve``'s output: api_key_start_steps.py.)

Servers are real: the embedded reference server (with a test clock for the
once-a-second file check) or ``planstream serve`` in a subprocess (signalled
by its process id). Requests go over loopback sockets; the WebSocket clients
are the raw protocol client of ``support.wsclient``.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from behave import given, then, when
from support.api_key_support import (
    KeyEntry,
    KeyServer,
    RecordedLog,
    fill_file,
    key_file_text,
    key_folder,
    key_path,
    replace_file,
)
from support.server_http_client import LOG_EVENT, request, ws_url
from support.servers import on_cleanup, run, start_reference_server
from support.wsclient import RawClient
from websockets.exceptions import InvalidStatus

from planstream.server import ServerSettings, ServerState, StaticTokenVerifier
from planstream.server.api_keys import ApiKeyVerifier
from planstream.server.verifiers import ChainVerifier, verifier_from_settings

GENERIC_401 = {"error": "unauthorized", "message": "missing or invalid bearer token"}


def _remember(context: Any, entries: list[KeyEntry]) -> None:
    known: dict[str, str] = getattr(context, "api_keys", {})
    known.update({entry.name: entry.key for entry in entries})
    context.api_keys = known


# --- key files ------------------------------------------------------------------------


@given("an API key file with these keys:")
def given_key_file(context: Any) -> None:
    entries = [KeyEntry.from_row(row) for row in context.table]
    context.key_file = key_folder(context) / "api-keys.toml"
    context.key_file.write_text(key_file_text(entries), encoding="utf-8")
    _remember(context, entries)


@when("the API key file is replaced by one with these keys:")
def when_key_file_replaced(context: Any) -> None:
    entries = [KeyEntry.from_row(row) for row in context.table]
    replace_file(key_path(context), key_file_text(entries))
    _remember(context, entries)


@when("the API key file is replaced by a file that is not TOML")
def when_key_file_not_toml(context: Any) -> None:
    replace_file(key_path(context), '[[key]\nname = "half-written"\n')


@when("the API key file is replaced by a file whose only entry has a short hash")
def when_key_file_short_hash(context: Any) -> None:
    replace_file(key_path(context), '[[key]]\nname = "c"\nsha256 = "0123abcd"\n')


@when("the API key file is deleted")
def when_key_file_deleted(context: Any) -> None:
    key_path(context).unlink()


# --- servers ----------------------------------------------------------------------------


@given("the server's log is recorded")
def given_log_recorded(context: Any) -> None:
    context.recorded_log = RecordedLog().install(context)


@given("a reference server with that API key file")
def given_server_with_keys(context: Any) -> None:
    start_reference_server(context, api_keys_file=key_path(context))


@given('a reference server with the read token "{token}" and that API key file')
def given_server_with_token_and_keys(context: Any, token: str) -> None:
    start_reference_server(context, tokens=[token], api_keys_file=key_path(context))


@given("a reference server whose API key verifier reads that file with a test clock")
def given_server_with_test_clock(context: Any) -> None:
    context.test_clock = 0.0
    verifier = ApiKeyVerifier(key_path(context), clock=lambda: context.test_clock)
    start_reference_server(context, verifier=verifier)


@given('"planstream serve --debug" runs with the read token "{token}" and that API key file')
def given_serve_process(context: Any, token: str) -> None:
    flags = ["--debug", "--token", token, "--api-keys", str(key_path(context))]
    server = context.key_server = KeyServer(key_folder(context), flags)

    async def stop() -> None:
        server.stop()

    on_cleanup(context, stop)
    server.wait_ready()
    context.http_base = server.http_url


@when("the server gets SIGHUP")
def when_sighup(context: Any) -> None:
    context.key_server.sighup()


@when("the test clock advances {seconds:g} seconds")
def when_clock_advances(context: Any, seconds: float) -> None:
    context.test_clock += seconds


# --- the verifier and what it answers ---------------------------------------------------


@then("the server's verifier gives these principals:")
def then_principals(context: Any) -> None:
    verifier = context.server.state.verifier
    for row in context.table:
        principal = run(context, verifier.verify(row["key"]))
        if row["subject"] == "-":
            assert principal is None, (row["key"], principal)
            continue
        assert principal is not None, row["key"]
        shown = (principal.subject, str(principal.read), str(principal.publish))
        assert shown == (row["subject"], row["read"], row["publish"]), shown
        assert principal.expires_at is None


@then(
    'the key "{key}" gets the generic 401 body on GET /v1/plans, the snapshot, the poll and a publish'
)
def then_generic_401(context: Any, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    for method, path in [
        ("GET", "/v1/plans"),
        ("GET", "/v1/plans/team-a:build-1"),
        ("GET", "/v1/plans/team-a:build-1/events"),
        ("POST", "/v1/plans/team-a:build-1/events"),
    ]:
        body = {"json": LOG_EVENT} if method == "POST" else {}
        response = run(context, request(context, method, path, headers=headers, **body))
        assert response.status_code == 401, (path, response.text)
        assert response.json() == GENERIC_401, (path, response.text)


async def _open(context: Any, key: str, *, browser: bool = False) -> RawClient:
    if browser:
        encoded = base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
        offer = ["planstream.v1", f"planstream.bearer.{encoded}"]
        return await RawClient.open(ws_url(context), subprotocols=offer)
    return await RawClient.open(ws_url(context), token=key)


@then('a WebSocket opened with the key of "{name}" {where} gets its hello')
def then_ws_hello(context: Any, name: str, where: str) -> None:
    assert where in {"in the header", "in the browser subprotocol"}, where
    browser = where == "in the browser subprotocol"
    client = run(context, _open(context, context.api_keys[name], browser=browser))
    run(context, client.close())
    assert client.hello is not None
    assert client.hello["type"] == "hello", client.hello


async def _refusal(context: Any, key: str) -> InvalidStatus | None:
    """Why an upgrade with ``key`` was refused, or None when it was accepted."""
    try:
        client = await _open(context, key)
    except InvalidStatus as refused:
        return refused
    await client.close()
    return None


@then('a WebSocket opened with the key "{key}" is refused with 401')
def then_ws_refused(context: Any, key: str) -> None:
    refused = run(context, _refusal(context, key))
    assert refused is not None, f"the key {key!r} was accepted"
    assert refused.response.status_code == 401, refused.response.status_code
    assert json.loads(refused.response.body or b"null") == GENERIC_401


@then("the server's verifier is a chain of the static tokens, then the API keys")
def then_chain(context: Any) -> None:
    verifier = context.server.state.verifier
    assert isinstance(verifier, ChainVerifier), verifier
    kinds = [type(v) for v in verifier.verifiers]
    assert kinds == [StaticTokenVerifier, ApiKeyVerifier], kinds
    assert "ka-" not in repr(verifier), repr(verifier)
    assert "3 keys" in repr(verifier), repr(verifier)


@then("the server did not warn that it is open")
def then_not_open(context: Any) -> None:
    lines = context.recorded_log.lines()
    assert not [line for line in lines if "no tokens configured" in line], lines


@then("a server with no token and no key file is open, and one with only a key file is not")
def then_open_rule(context: Any) -> None:
    open_verifier = verifier_from_settings(ServerSettings())
    assert isinstance(open_verifier, StaticTokenVerifier)
    assert open_verifier.is_open
    keys_only = verifier_from_settings(ServerSettings(api_keys_file=key_path(context)))
    assert isinstance(keys_only, ApiKeyVerifier), keys_only
    assert run(context, keys_only.verify(None)) is None
    assert keys_only.names == ("team-a-dashboard", "team-a-orchestrator", "team-b-dashboard")


@then("a chain of no verifier is refused")
def then_empty_chain(context: Any) -> None:
    refused: ValueError | None = None
    try:
        ChainVerifier([])
    except ValueError as exc:
        refused = exc
    assert refused is not None, "an empty chain was built"
    assert "at least one verifier" in str(refused)


@when("a server with static tokens only is asked to reload its credentials")
def when_static_reload(context: Any) -> None:
    async def reload() -> None:
        state = ServerState(ServerSettings(tokens=["static-reader-4Rt8"]))
        try:
            state.reload_credentials()
        finally:
            await state.aclose()

    run(context, reload())


@then('the server logged "{text}"')
def then_logged(context: Any, text: str) -> None:
    lines = context.recorded_log.lines()
    assert fill_file(context, text) in lines, lines


@then('the server logged 1 error "{text}"')
def then_logged_one_error(context: Any, text: str) -> None:
    errors = context.recorded_log.lines(logging.ERROR)
    wanted = fill_file(context, text)
    assert errors == [wanted], errors
    context.recorded_log.records.clear()


@then("no record of the server's log holds a key")
def then_log_keyless(context: Any) -> None:
    text = "\n".join(context.recorded_log.lines())
    assert text, "nothing was logged"
    for key in context.api_keys.values():
        assert key not in text, key


# --- WebSocket clients and publishing ------------------------------------------------------


@given('a WebSocket client of "{name}" subscribed to "{plan_id}"')
def given_ws_client(context: Any, name: str, plan_id: str) -> None:
    async def subscribe() -> RawClient:
        client = await _open(context, context.api_keys[name])
        await client.subscribe(plan_id)
        await client.recv_until("subscribed")
        return client

    client = run(context, subscribe())
    on_cleanup(context, client.close)
    clients: dict[str, RawClient] = getattr(context, "ws_clients", {})
    clients[name] = client
    context.ws_clients = clients


@when('"{name}" publishes {count:d} events to "{plan_id}"')
def when_publishes(context: Any, name: str, count: int, plan_id: str) -> None:
    headers = {"Authorization": f"Bearer {context.api_keys[name]}"}
    path = f"/v1/plans/{plan_id}/events"
    for _ in range(count):
        response = run(context, request(context, "POST", path, headers=headers, json=LOG_EVENT))
        assert response.status_code == 201, response.text


@then('the WebSocket client of "{name}" receives events {first:d}..{last:d} of "{plan_id}"')
def then_ws_events(context: Any, name: str, first: int, last: int, plan_id: str) -> None:
    client: RawClient = context.ws_clients[name]
    events = run(context, client.events_until(plan_id, last))
    assert [event["seq"] for event in events] == list(range(first, last + 1)), events


@then('the WebSocket client of "{name}" is still on its first connection')
def then_same_connection(context: Any, name: str) -> None:
    client: RawClient = context.ws_clients[name]
    assert client.connection.close_code is None
    hellos = [frame for frame in client.frames if frame["type"] == "hello"]
    assert hellos == [client.hello], hellos
    errors = [frame for frame in client.frames if frame["type"] == "error"]
    assert not errors, errors


@when(
    'the key of "{name}" is presented {times:d} times, {seconds:g} seconds of the test clock apart'
)
def when_presented(context: Any, name: str, times: int, seconds: float) -> None:
    headers = {"Authorization": f"Bearer {context.api_keys[name]}"}
    context.presented = []
    for _ in range(times):
        context.test_clock += seconds
        response = run(context, request(context, "GET", "/v1/plans", headers=headers))
        context.presented.append(response.status_code)


@then("every one of them was accepted")
def then_all_accepted(context: Any) -> None:
    assert context.presented, "nothing was presented"
    assert set(context.presented) == {200}, context.presented
