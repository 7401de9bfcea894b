"""Steps of jwt_auth.feature: JWTs presented to a real reference server."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from behave import given, then, when
from support.jwt_support import (
    AUDIENCE,
    ISSUER,
    ServerLog,
    claims_for,
    forged,
    keyring,
    other_keys,
    signed,
)
from support.security_support import LogCapture, stream_plan
from support.servers import run, start_reference_server
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from planstream import AuthenticationError, ClientSettings, LogData, LogLevel, LogStream

GENERIC_401 = {"error": "unauthorized", "message": "missing or invalid bearer token"}


def _source_settings(context: Any, source: str) -> dict[str, Any]:
    ring = keyring(context)
    if source == "the shared secret":
        return {"jwt_secret_file": str(ring.path("secret"))}
    if source == "the RSA public key":
        return {"jwt_public_key_file": str(ring.path("rsa.pem"))}
    if source == "the EC public key":
        return {"jwt_public_key_file": str(ring.path("ec.pem"))}
    if source == "the JWKS":
        return {"jwks_file": str(ring.path("jwks.json"))}
    assert source == "a JWKS of the EC key without kid", source
    # One key without a kid: a token naming no key gets it.
    lone = {name: value for name, value in ring.jwk("ec").items() if name != "kid"}
    path = ring.write("jwks-ec.json", json.dumps({"keys": [lone]}).encode())
    return {"jwks_file": str(path)}


@given("a reference server accepting JWTs from {source}")
def given_jwt_server(context: Any, source: str) -> None:
    extra: dict[str, Any] = {}
    if source.endswith(", with jwt_allow_no_exp"):
        source = source.removesuffix(", with jwt_allow_no_exp")
        extra["jwt_allow_no_exp"] = True
    context.server_log = ServerLog()
    context.server_log.attach(context)
    start_reference_server(
        context,
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        **_source_settings(context, source),
        **extra,
    )


_SIGNED = re.compile(
    r"(?P<alg>[RE]S256) with the (?P<which>RSA|EC) key(?: as kid \"(?P<kid>[^\"]+)\"| without kid)?"
)


def make_token(context: Any, claims: dict[str, Any], how: str) -> str:
    """A token of ``claims`` made as ``how`` says."""
    ring = keyring(context)
    if how == "HS256 with the secret":
        return signed(claims, ring.secret, "HS256")
    if how == "HS256 with another secret":
        return signed(claims, b"another secret of at least thirty-two bytes", "HS256")
    if how == "with alg none":
        return forged(claims, alg="none")
    if how == "as a string that is no JWT":
        return "not-a-jwt-at-all"
    confusion = re.fullmatch(r"HS256 with the (RSA|EC) public key's PEM(?: as kid \"(.+)\")?", how)
    if confusion:
        pem = ring.public_pem("rsa" if confusion.group(1) == "RSA" else "ec")
        return forged(claims, alg="HS256", hmac_key=pem, kid=confusion.group(2))
    if how == "RS256 with another RSA key":
        return signed(claims, other_keys()["rsa"], "RS256")
    match = _SIGNED.fullmatch(how)
    assert match, how
    key = ring.signing_key(match["alg"])
    if match["which"] == "EC":
        key = ring.signing_key("ES256")
    return signed(claims, key, match["alg"], kid=match["kid"])


@when('a client presents a "{case}" token signed {how}')
def when_present(context: Any, case: str, how: str) -> None:
    # One set of claims for the token and the checks: two clock readings may
    # straddle a second (an RSA signature takes a while) and differ in exp.
    context.jwt_claims = claims_for(case)
    context.jwt_token = make_token(context, context.jwt_claims, how)


async def _upgrade(url: str, token: str) -> tuple[int, dict[str, Any] | None, Any]:
    """101 (and the connection, left open) or the refusal's status and JSON body."""
    try:
        connection = await connect(
            url,
            subprotocols=["planstream.v1"],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=10,
        )
    except InvalidStatus as refused:
        response = refused.response
        return response.status_code, json.loads(response.body or b"null"), response.headers
    await connection.recv()  # hello
    return 101, None, connection


async def _http(context: Any, token: str) -> tuple[httpx.Response, httpx.Response]:
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "kind": "log",
        "data": {"level": "info", "message": "hi", "step_id": None, "stream": "system"},
    }
    async with httpx.AsyncClient(base_url=context.server.http_url, timeout=10) as client:
        read = await client.get("/v1/plans", headers=headers)
        publish = await client.post("/v1/plans/team-a:build-1/events", headers=headers, json=body)
    return read, publish


_LOG_BODY = {
    "kind": "log",
    "data": {"level": "info", "message": "hi", "step_id": None, "stream": "system"},
}


def _scoped_http(context: Any, method: str, path: str, token: str | None = None) -> httpx.Response:
    """One request as the scenario's JWT (``token``: another one, e.g. the server's own)."""
    headers = {"Authorization": f"Bearer {token or context.jwt_token}"}

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(base_url=context.server.http_url, timeout=10) as client:
            body = _LOG_BODY if method == "POST" else None
            return await client.request(method, path, headers=headers, json=body)

    response: httpx.Response = run(context, send())
    return response


@then('over HTTP the token publishes to "{allowed}" but not to "{other}" or "{foreign}"')
def then_publish_scoped(context: Any, allowed: str, other: str, foreign: str) -> None:
    ok = _scoped_http(context, "POST", f"/v1/plans/{allowed}/events")
    assert ok.status_code == 201, ok.text
    # team-b's plan exists (published by the server itself), so 403 is about the scope
    run(
        context,
        context.server.publish(
            foreign, LogData(level=LogLevel.INFO, message="b", stream=LogStream.SYSTEM)
        ),
    )
    for plan_id in (other, foreign):
        refused = _scoped_http(context, "POST", f"/v1/plans/{plan_id}/events")
        assert refused.status_code == 403, (plan_id, refused.text)
        assert refused.json()["error"] == "forbidden", refused.text


@then(
    'over HTTP the token reads "{allowed}" and is refused "{foreign}" with 403, both as'
    " snapshot and poll"
)
def then_read_scoped(context: Any, allowed: str, foreign: str) -> None:
    for path in (f"/v1/plans/{allowed}", f"/v1/plans/{allowed}/events?wait=0"):
        assert _scoped_http(context, "GET", path).status_code == 200, path
    for path in (f"/v1/plans/{foreign}", f"/v1/plans/{foreign}/events?wait=0"):
        refused = _scoped_http(context, "GET", path)
        assert refused.status_code == 403, (path, refused.text)


@then('the token\'s plan list holds "{allowed}" and not "{foreign}"')
def then_list_scoped(context: Any, allowed: str, foreign: str) -> None:
    listed = _scoped_http(context, "GET", "/v1/plans").json()
    ids = [plan["plan_id"] for plan in listed["plans"]]
    assert allowed in ids, listed
    assert foreign not in ids, listed


@then("the token is accepted on the WebSocket and over HTTP")
def then_accepted(context: Any) -> None:
    status, _, connection = run(context, _upgrade(context.server.url, context.jwt_token))
    assert status == 101, status
    context.jwt_principals = [c.principal for c in context.server.state.connections]

    async def close() -> None:
        await connection.close()

    run(context, close())
    read, _ = run(context, _http(context, context.jwt_token))
    assert read.status_code == 200, read.text


@then(
    'the connection\'s principal is "{subject}", reading "{read}", publishing "{publish}", until the token\'s exp'
)
def then_principal(context: Any, subject: str, read: str, publish: str) -> None:
    (principal,) = context.jwt_principals
    assert principal.subject == subject, principal
    assert principal.read.patterns == (read,), principal
    assert principal.publish.patterns == (publish,), principal
    assert principal.expires_at == float(context.jwt_claims["exp"]), principal


@then("the connection's principal never expires")
def then_never_expires(context: Any) -> None:
    (principal,) = context.jwt_principals
    assert principal.expires_at is None, principal


@then('the connection\'s principal is named like "{pattern}"')
def then_named_like(context: Any, pattern: str) -> None:
    (principal,) = context.jwt_principals
    assert re.search(pattern, principal.subject), principal.subject


@then(
    "the token is refused with 401 and the generic body on the WebSocket upgrade, a read and a publish"
)
def then_refused(context: Any) -> None:
    status, body, headers = run(context, _upgrade(context.server.url, context.jwt_token))
    assert (status, body) == (401, GENERIC_401), (status, body)
    assert headers["WWW-Authenticate"] == "Bearer", headers
    for answer in run(context, _http(context, context.jwt_token)):
        assert answer.status_code == 401, answer.text
        assert answer.json() == GENERIC_401, answer.text


@then('the server logged at INFO "{text}" without the token')
def then_logged(context: Any, text: str) -> None:
    lines = context.server_log.lines
    assert any(line.startswith(text) for line in lines), lines
    token = context.jwt_token
    signature = token.rpartition(".")[2]
    for line in lines:
        assert token not in line, line
        assert not signature or signature not in line, line


@then('the WebSocket upgrade is refused with 403 "{message}"')
def then_upgrade_403(context: Any, message: str) -> None:
    status, body, _ = run(context, _upgrade(context.server.url, context.jwt_token))
    assert (status, body) == (403, {"error": "forbidden", "message": message}), (status, body)


@then('a publish over HTTP is refused with 403 "{message}"')
def then_publish_403(context: Any, message: str) -> None:
    _, publish = run(context, _http(context, context.jwt_token))
    assert publish.status_code == 403, publish.text
    assert publish.json() == {"error": "forbidden", "message": message}, publish.text


# --- no token in any log -----------------------------------------------------------------


@given('plan "{plan_id}" has 3 events, the last one terminal')
def given_plan(context: Any, plan_id: str) -> None:
    async def publish() -> None:
        state = context.server.state
        await state.publish(plan_id, "plan.status", {"status": "running", "reason": None})
        await state.publish(
            plan_id,
            "log",
            {"level": "info", "message": "working", "step_id": None, "stream": "system"},
        )
        await state.publish(plan_id, "plan.status", {"status": "succeeded", "reason": None})

    run(context, publish())


@when(
    'the SDK streams "{plan_id}" at DEBUG with a valid token, then with an expired one, then with one of another secret'
)
def when_sdk_streams(context: Any, plan_id: str) -> None:
    ring = keyring(context)
    context.jwt_tokens = [
        signed(claims_for("valid"), ring.secret, "HS256"),
        signed(claims_for("expired"), ring.secret, "HS256"),
        signed(claims_for("valid"), b"another secret of at least thirty-two bytes", "HS256"),
    ]
    context.jwt_outcomes = []
    with LogCapture() as capture:
        for token in context.jwt_tokens:
            settings = ClientSettings(url=context.server.url, token=token)
            context.jwt_outcomes.append(run(context, stream_plan(plan_id, settings=settings)))
    context.jwt_log_text = capture.text


@then(
    "the SDK received the 3 events with the valid token and an AuthenticationError with each other"
)
def then_sdk_received(context: Any) -> None:
    valid, *refused = context.jwt_outcomes
    assert valid.seqs == [1, 2, 3], valid.seqs
    assert valid.error is None, valid.error
    for outcome in refused:
        assert isinstance(outcome.error, AuthenticationError), outcome.error


@then("no log line, error or repr holds any of the tokens or their signatures")
def then_no_token(context: Any) -> None:
    texts = [context.jwt_log_text, *context.server_log.lines]
    for outcome in context.jwt_outcomes:
        texts += outcome.texts + outcome.failures
    assert "JWT refused" in context.jwt_log_text, "the server's INFO lines were captured"
    for token in context.jwt_tokens:
        signature = token.rpartition(".")[2]
        for text in texts:
            assert token not in text, text
            assert signature not in text, text
