"""Steps of browser_auth.feature: the ``planstream.bearer.*`` subprotocol (protocol §2).

A raw websockets client offers the token the way a browser's ``WebSocket``
does (a second subprotocol, no header); refused handshakes are kept in
``context.stream_refusal`` like server_stream_handshake_steps.py does, so its
"refused with HTTP N" steps apply.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from behave import given, then, when
from support.hostile_ws_support import capture_server_log
from support.server_stream_support import open_tap, stream_url
from support.servers import on_cleanup, run, start_reference_server
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from planstream.server import PlanStreamServer, ServerSettings
from planstream.server.browser_auth import BEARER_PREFIX, read_offer

GENERIC_401 = {"error": "unauthorized", "message": "missing or invalid bearer token"}


def browser_form(token: str) -> str:
    """``planstream.bearer.<base64url(token), no padding>``, as a browser offers it."""
    return BEARER_PREFIX + base64.urlsafe_b64encode(token.encode()).rstrip(b"=").decode()


def _long_token(size: int) -> str:
    """A configured reader token of ``size`` bytes (the server holds a 4096 and a 4097)."""
    return ("t" if size <= 4096 else "u") * size


def _split(offer: str) -> list[str]:
    return [part.strip() for part in offer.split(",")]


async def _handshake(
    url: str, extra: list[str], header_token: str | None
) -> tuple[int, Any, bytes] | tuple[str | None, dict[str, Any]]:
    """Offer ``planstream.v1`` plus ``extra`` (sent verbatim: websockets would refuse
    to offer a padded value itself, a hostile client need not); the refusal as
    (status, headers, body), or what an accepted connection selected and its hello."""
    headers = [("Sec-WebSocket-Protocol", ", ".join(extra))] if extra else []
    if header_token:
        headers.append(("Authorization", f"Bearer {header_token}"))
    try:
        connection = await connect(
            url,
            subprotocols=["planstream.v1"],  # type: ignore[list-item]
            additional_headers=headers,
            open_timeout=10,
        )
    except InvalidStatus as exc:
        response = exc.response
        return response.status_code, response.headers, bytes(response.body or b"")
    try:
        return connection.subprotocol, json.loads(await connection.recv(decode=True))
    finally:
        await connection.close()


def _try_open(context: Any, extra: list[str], header_token: str | None = None) -> None:
    context.offered_secrets = [*extra, header_token or ""]
    answer = run(context, _handshake(stream_url(context), extra, header_token))
    assert len(answer) == 3, f"the stream handshake was accepted: {answer}"
    context.stream_refusal = answer


# --- servers ----------------------------------------------------------------------


@given("a reference server whose reader tokens are one of 4096 bytes and one of 4097 bytes")
def given_long_tokens(context: Any) -> None:
    start_reference_server(context, tokens=[_long_token(4096), _long_token(4097)])


@given('a reference server logging at DEBUG with the reader token "{token}", its log captured')
def given_debug_server(context: Any, token: str) -> None:
    server = PlanStreamServer(ServerSettings(port=0, tokens=[token]), log_level="debug")
    run(context, server.start())
    capture_server_log(context)  # after uvicorn configured its loggers
    on_cleanup(context, server.stop)
    context.server = server
    context.published = {}


# --- opening the stream ----------------------------------------------------------------


@when('raw client "{name}" connects to the stream with the browser token "{token}"')
def when_connect_browser(context: Any, name: str, token: str) -> None:
    run(context, open_tap(context, name, subprotocols=["planstream.v1", browser_form(token)]))


@when('raw client "{name}" connects to the stream with the browser token of {size:d} bytes')
def when_connect_long(context: Any, name: str, size: int) -> None:
    protocols = ["planstream.v1", browser_form(_long_token(size))]
    run(context, open_tap(context, name, subprotocols=protocols))


@when(
    'raw client "{name}" connects to the stream with the header token "{header}" '
    'and the browser token "{token}"'
)
def when_connect_both(context: Any, name: str, header: str, token: str) -> None:
    protocols = ["planstream.v1", browser_form(token)]
    run(context, open_tap(context, name, token=header, subprotocols=protocols))


@when(
    'a raw client with the header token "{header}" and the bearer subprotocols "{offered}" '
    "opens the stream"
)
def when_open_header_malformed(context: Any, header: str, offered: str) -> None:
    context.stream_opened = run(context, _handshake(stream_url(context), _split(offered), header))


@then('that stream was opened with the subprotocol "{protocol}" and a hello')
def then_opened(context: Any, protocol: str) -> None:
    answer = context.stream_opened
    assert len(answer) == 2, f"the stream handshake was refused: {answer}"
    selected, hello = answer
    assert selected == protocol, answer
    assert hello["type"] == "hello", hello


@when('a raw client with the browser token "{token}" tries to open the stream')
def when_try_browser(context: Any, token: str) -> None:
    _try_open(context, [browser_form(token)])
    context.offered_secrets.append(token)


@when("a raw client with the browser token of {size:d} bytes tries to open the stream")
def when_try_long(context: Any, size: int) -> None:
    _try_open(context, [browser_form(_long_token(size))])


@when(
    "a raw client offering planstream.v1 and the bearer subprotocols "
    '"{offered}" tries to open the stream'
)
def when_try_malformed(context: Any, offered: str) -> None:
    _try_open(context, _split(offered))


@when(
    'a raw client with the header token "{header}" and the browser token "{token}" '
    "tries to open the stream"
)
def when_try_both(context: Any, header: str, token: str) -> None:
    _try_open(context, [browser_form(token)], header)
    context.offered_secrets.append(token)


@then("the stream handshake is refused with the generic 401, quoting nothing offered")
def then_generic_401(context: Any) -> None:
    status, headers, raw = context.stream_refusal
    assert status == 401, (status, raw)
    assert headers.get("Content-Type", "").startswith("application/json"), dict(headers)
    assert json.loads(raw) == GENERIC_401, raw
    assert headers.get("WWW-Authenticate") == "Bearer", dict(headers)
    answer = raw.decode() + json.dumps(dict(headers))
    for offered in context.offered_secrets:
        for part in (offered, offered.removeprefix(BEARER_PREFIX)):
            if part and part not in ("planstream.v1", "Bearer"):
                assert part not in answer, (part, answer)


# --- HTTP routes --------------------------------------------------------------------------


def _http(context: Any, request: str, headers: dict[str, str]) -> None:
    method, path = request.split(" ", 1)

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.request(method, context.server.http_url + path, headers=headers)

    context.http_answer = run(context, send())


@when('"{request}" is requested with the browser token "{token}" in Sec-WebSocket-Protocol only')
def when_http_browser(context: Any, request: str, token: str) -> None:
    _http(context, request, {"Sec-WebSocket-Protocol": f"planstream.v1, {browser_form(token)}"})


@when('"{request}" is requested with the header token "{header}" and the browser token "{token}"')
def when_http_both(context: Any, request: str, header: str, token: str) -> None:
    protocols = f"planstream.v1, {browser_form(token)}"
    _http(
        context,
        request,
        {"Authorization": f"Bearer {header}", "Sec-WebSocket-Protocol": protocols},
    )


@then('the HTTP route answered {status:d} with error "{code}"')
def then_http_error(context: Any, status: int, code: str) -> None:
    answer = context.http_answer
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.json()["error"] == code, answer.text


@then("the HTTP route answered {status:d}")
def then_http_status(context: Any, status: int) -> None:
    answer = context.http_answer
    assert answer.status_code == status, (answer.status_code, answer.text)


# --- logs and the parser ----------------------------------------------------------------


@then('the server\'s DEBUG log shows each offered bearer subprotocol as "{shown}" or "{scrubbed}"')
def then_debug_shows(context: Any, shown: str, scrubbed: str) -> None:
    lines = context.log_capture.lines("sec-websocket-protocol")
    bearer = [line for line in lines if "planstream.bearer." in line]
    assert len(bearer) >= 4, context.log_capture.text[-3000:]
    for line in bearer:
        rest = line.replace(shown, "").replace(scrubbed, "")
        assert "planstream.bearer." not in rest, line
    assert any(shown in line for line in bearer), bearer
    assert any(scrubbed in line for line in bearer), bearer


@then(
    'the server\'s log holds neither "{secret}" nor the base64url form of "{first}" or "{second}"'
)
def then_log_clean(context: Any, secret: str, first: str, second: str) -> None:
    text = context.log_capture.text
    assert "< GET /v1/stream" in text, text[-3000:]  # the DEBUG request lines were written
    for needle in (secret, browser_form(first), browser_form(second)):
        needle = needle.removeprefix(BEARER_PREFIX)
        assert needle not in text, (needle, text[-3000:])
    assert "dG9rLUJST1dTRVI" not in text, text[-3000:]  # any token's encoded prefix


@then('reading the offer "{offer}" gives the token "{token}", and its repr hides it')
def then_parser(context: Any, offer: str, token: str) -> None:
    offered = read_offer(_split(offer))
    assert offered.token == token, offered
    assert offered.problem is None, offered
    assert offered.protocols == ("planstream.v1",), offered
    shown = repr(offered)
    assert token not in shown, shown
    assert "token='***'" in shown, shown
    refused = read_offer(["planstream.v1", BEARER_PREFIX + "cmVhZGVyLXNlY3JldA=="])
    assert refused.token is None, refused
    assert refused.problem is not None, refused
    assert "cmVh" not in refused.problem, refused
    assert "cmVh" not in repr(refused), refused
    assert "token=None" in repr(refused), refused
