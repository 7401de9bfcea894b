"""Steps of token_cli.feature: the real ``planstream token`` and ``serve`` commands."""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from typing import Any

import jwt
from behave import given, then, when
from support.cli_support import CLI, run_cli, run_in_terminal, start_background
from support.jwt_support import JwtKeyring
from support.servers import free_port


def _fill(context: Any, text: str) -> str:
    values = {
        "secret": str(context.jwt_keys.path("secret")),
        "short_secret": str(context.jwt_keys.path("short-secret")),
    }
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    if "{free_port}" in text:
        text = text.replace("{free_port}", str(free_port()))
    return text


def _planstream_args(context: Any, command: str) -> list[str]:
    words = shlex.split(_fill(context, command))
    assert words[0] == "planstream", words
    return words[1:]


@given("a JWT secret file and a secret file of 20 bytes")
def given_secret_files(context: Any) -> None:
    context.jwt_keys = JwtKeyring.create()
    context.jwt_keys.write("short-secret", b"0123456789abcdefghij\n")


@when('"{command}" runs')
def when_runs(context: Any, command: str) -> None:
    context.cli = run_cli(context, *_planstream_args(context, command))


@when('"{command}" mints a token')
def when_mints(context: Any, command: str) -> None:
    result = run_cli(context, *_planstream_args(context, command))
    assert result.returncode == 0, str(result)
    context.cli_token = result.stdout.strip()


@then("it exits 0 and prints one JWT that the secret verifies, with these claims:")
def then_jwt_printed(context: Any) -> None:
    result = context.cli
    assert result.returncode == 0, str(result)
    assert result.stderr == "", str(result)
    token = result.stdout.strip()
    assert result.stdout == token + "\n", str(result)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256", header
    claims = jwt.decode(
        token,
        context.jwt_keys.secret,
        algorithms=["HS256"],
        options={"verify_aud": False},
    )
    for row in context.table:
        assert claims[row["claim"]] == json.loads(row["value"]), (row["claim"], claims)
    context.jwt_claims = claims
    context.cli_token = token


@then("its exp is {seconds:d} seconds after its iat, give or take a second")
def then_lifetime(context: Any, seconds: int) -> None:
    claims = context.jwt_claims
    assert seconds <= claims["exp"] - claims["iat"] <= seconds + 1, claims
    assert abs(claims["iat"] - time.time()) < 60, claims


@then('it exits 2 with one line on stderr holding "{message}"')
def then_one_line(context: Any, message: str) -> None:
    result = context.cli
    assert result.returncode == 2, str(result)
    assert _fill(context, message) in result.stderr, str(result)
    if message.startswith("planstream: error"):
        assert result.stderr.count("\n") == 1, str(result)
    assert result.stdout == "", str(result)


@given('"{command}" runs')
def given_serve_runs(context: Any, command: str) -> None:
    port = free_port()
    args = [*CLI, *_planstream_args(context, command), "--port", str(port), "--no-dashboard"]
    context.jwt_server = start_background(context, args, f"http://127.0.0.1:{port}/healthz")
    context.cli_server_port = port


def _with_token(context: Any, command: str) -> Any:
    url = f"http://127.0.0.1:{context.cli_server_port}"
    args = [*_planstream_args(context, command), "--url", url]
    context.cli_tokens = [*getattr(context, "cli_tokens", []), context.cli_token]
    return run_cli(context, *args, env={"PLANSTREAM_TOKEN": context.cli_token})


@then('"{command}" with that token exits 0')
def then_with_token_ok(context: Any, command: str) -> None:
    result = _with_token(context, command)
    assert result.returncode == 0, str(result)


@then('"{command}" with that token exits 0 and lists "{plan_id}"')
def then_with_token_lists(context: Any, command: str, plan_id: str) -> None:
    result = _with_token(context, command)
    assert result.returncode == 0, str(result)
    assert plan_id in result.stdout, str(result)


@then('"{command}" with that token exits 2 saying "{text}"')
def then_with_token_refused(context: Any, command: str, text: str) -> None:
    result = _with_token(context, command)
    assert result.returncode == 2, str(result)
    assert text in result.stderr, str(result)


@then('the server\'s log says "{text}" and holds no token')
def then_server_log(context: Any, text: str) -> None:
    server = context.jwt_server
    assert server.stop() == 0, server.stderr
    output = server.stdout + server.stderr
    assert text in output, output
    for token in context.cli_tokens:
        assert token not in output, output
        assert token.rpartition(".")[2] not in output, output


@when('"{command}" runs with "{key}" and a newline on stdin')
def when_hash_stdin(context: Any, command: str, key: str) -> None:
    context.cli = run_cli(context, *_planstream_args(context, command), stdin=key + "\n")


@when('"{command}" runs with {what} on stdin')
def when_hash_odd_stdin(context: Any, command: str, what: str) -> None:
    stdin = {"nothing": "", "two keys": "key-one\nkey-two\n"}[what]
    context.cli = run_cli(context, *_planstream_args(context, command), stdin=stdin)


@then('it exits 0 and prints the SHA-256 of "{key}"')
def then_hash_printed(context: Any, key: str) -> None:
    result = context.cli
    assert result.returncode == 0, str(result)
    assert result.stdout == hashlib.sha256(key.encode()).hexdigest() + "\n", str(result)
    assert key not in result.stdout + result.stderr, str(result)


@when('"{command}" runs in a terminal and "{key}" is typed at its prompt')
def when_hash_terminal(context: Any, command: str, key: str) -> None:
    context.terminal_status, output = run_in_terminal(
        [*CLI, *_planstream_args(context, command)],
        columns=80,
        rows=24,
        answer=(b"API key: ", key.encode()),
    )
    context.terminal_output = output.decode(errors="replace")


@then('the terminal shows "{prompt}" and the SHA-256 of "{key}", but never the key')
def then_terminal(context: Any, prompt: str, key: str) -> None:
    output = context.terminal_output
    assert context.terminal_status == 0, output
    assert prompt in output, output
    assert hashlib.sha256(key.encode()).hexdigest() in output, output
    assert key not in output, output


@then(
    "mint_token refuses a lifetime of 0 s, of infinity, and a secret of 20 bytes, each with a ValueError"
)
def then_mint_refuses(context: Any) -> None:
    from planstream.server.jwt_auth import mint_token

    secret = context.jwt_keys.secret
    cases = [(secret, 0.0), (secret, float("inf")), (b"0123456789abcdefghij", 60.0)]
    for key, ttl in cases:
        message = ""
        try:
            mint_token(key, read=["*"], ttl=ttl, subject="s")
        except ValueError as exc:
            message = str(exc)
        assert message, f"mint_token accepted ttl={ttl} with a {len(key)}-byte secret"
        assert key.decode() not in message, message
