"""Steps of features/secrets_and_terminals.feature (issue 10, items 11 and 12).

``context.secret_texts`` collects every text a command or the SDK showed (stdout,
stderr, log records, exception texts, reprs) for the secret grep;
``context.sdk_outcomes`` the SDK streams; ``context.cli`` the last command.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import re
import sys
from typing import Any

import httpx
from behave import given, then, when
from support.cli_support import (
    CLI,
    run_cli,
    run_in_terminal,
    start_cli_server,
)
from support.security_support import (
    ESCAPES,
    ESCAPES_SHOWN,
    LogCapture,
    escaping_plan_events,
    start_hostile_http_server,
    stream_plan,
)
from support.servers import run

from planstream import ClientSettings, SettingsError
from planstream.errors import AuthenticationError

# The redaction and escaping functions are imported in the steps that use them,
# so that the scenarios run (and fail for their real reason) on older code.

#: A raw control, bidi or separator character (what printable() escapes).
_RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _captured(context: Any) -> list[str]:
    if not hasattr(context, "secret_texts"):
        context.secret_texts = []
    captured: list[str] = context.secret_texts
    return captured


def _keep(context: Any, result: Any) -> Any:
    _captured(context).extend([result.stdout, result.stderr])  # not the command line
    context.cli = result
    return result


# --- servers --------------------------------------------------------------------------


@given(
    '"planstream serve" runs with the reader token "{reader}" and the publish token "{publisher}"'
)
def given_serve_with_tokens(context: Any, reader: str, publisher: str) -> None:
    context.serve, context.cli_server_port = start_cli_server(
        context, "--token", reader, "--publish-token", publisher
    )
    context.publish_token = publisher
    context.http_url = f"http://127.0.0.1:{context.cli_server_port}"


@given(
    'plan "{plan_id}" was published over HTTP with a terminal-escaping reason, step name, '
    "error and log message"
)
def given_escaping_plan(context: Any, plan_id: str) -> None:
    answer = httpx.post(
        f"{context.http_url}/v1/plans/{plan_id}/events",
        json=escaping_plan_events(),
        headers={"Authorization": f"Bearer {context.publish_token}"},
    )
    assert answer.status_code == 201, answer.text


@given(
    "a hostile HTTP server that lists a plan named with escapes and refuses every other "
    "request with an escaping message"
)
def given_hostile_server(context: Any) -> None:
    context.hostile_port = start_hostile_http_server(context)


# --- running the CLI and the SDK ---------------------------------------------------------


@when('"planstream {command}" runs with the token "{token}"')
def when_cli_with_token(context: Any, command: str, token: str) -> None:
    args = command.split()
    if args[0] == "publish":
        args += ["--data", '{"level":"info","message":"m","step_id":null,"stream":"stdout"}']
    _keep(context, run_cli(context, *args, "--url", context.http_url, "--token", token))


@when('"planstream {command}" runs with the URL "{url}"')
def when_cli_with_url(context: Any, command: str, url: str) -> None:
    _keep(context, run_cli(context, *command.split(), "--url", url))


@when('"planstream {command}" runs against the hostile server')
def when_cli_hostile(context: Any, command: str) -> None:
    args = [*command.split(), "--url", f"http://127.0.0.1:{context.hostile_port}"]
    if args[0] == "watch":
        args += ["--connect-timeout", "5"]
    _keep(context, run_cli(context, *args))


@when(
    '"planstream {command}" runs with the token "{token}" in a {columns:d}x{rows:d} pseudo-terminal'
)
def when_cli_in_terminal(context: Any, command: str, token: str, columns: int, rows: int) -> None:
    args = [*CLI, *command.split(), "--url", context.http_url, "--token", token]
    context.terminal_status, context.terminal_output = run_in_terminal(
        args, columns=columns, rows=rows
    )


@when(
    'the SDK streams "{plan_id}" with the token "{token}" over WebSocket, then over polling, '
    "with the root logger at DEBUG"
)
def when_sdk_streams_both(context: Any, plan_id: str, token: str) -> None:
    _sdk_streams(context, plan_id, token, ("websocket", "polling"))


@when(
    'the SDK streams "{plan_id}" with the token "{token}" over WebSocket, with the root logger at DEBUG'
)
def when_sdk_streams_websocket(context: Any, plan_id: str, token: str) -> None:
    _sdk_streams(context, plan_id, token, ("websocket",))


def _sdk_streams(context: Any, plan_id: str, token: str, transports: tuple[str, ...]) -> None:
    outcomes = context.sdk_outcomes = getattr(context, "sdk_outcomes", {})
    url = f"ws://127.0.0.1:{context.cli_server_port}/v1/stream"
    with LogCapture() as capture:
        for transport in transports:
            settings = ClientSettings(url=url, token=token, transport=transport)
            outcome = run(context, stream_plan(plan_id, settings=settings))
            outcomes[(token, transport)] = outcome
            _captured(context).extend(outcome.texts + outcome.failures)
    _captured(context).append(capture.text)
    context.sdk_log = getattr(context, "sdk_log", "") + capture.text


# --- the secret grep ------------------------------------------------------------------


@then('no captured output, log record, exception text or repr contains "{first}" or "{second}"')
def then_no_secret(context: Any, first: str, second: str) -> None:
    captured = _captured(context)
    assert len(captured) >= 20, len(captured)
    for secret in (first, second):
        hits = [text for text in captured if secret in text]
        assert not hits, f"{secret!r} leaked in: {hits[0][:2000]}"


@then('the DEBUG log shows the handshake\'s header as "{shown}"')
def then_header_redacted(context: Any, shown: str) -> None:
    assert shown in context.sdk_log, context.sdk_log[:3000]
    cli_debug = [text for text in _captured(context) if "websockets.client DEBUG" in text]
    assert cli_debug, "the CLI wrote no websockets debug log"
    assert all(shown in text for text in cli_debug), "the CLI's header line is not redacted"


@then('the SDK received the {count:d} events of "{plan_id}" over each transport')
def then_sdk_received(context: Any, count: int, plan_id: str) -> None:
    good = [o for (token, _), o in context.sdk_outcomes.items() if not token.endswith("revoked")]
    assert len(good) == 2
    for outcome in good:
        assert outcome.error is None, outcome
        assert outcome.seqs == list(range(1, count + 1)), outcome
    (revoked,) = [o for (token, _), o in context.sdk_outcomes.items() if token.endswith("revoked")]
    assert isinstance(revoked.error, AuthenticationError), revoked


# --- URLs and tokens ------------------------------------------------------------------


@when('client settings are built with the URL "{url}"')
def when_settings_url(context: Any, url: str) -> None:
    _build_settings(context, url=url)


@when("client settings are built with a token holding a newline")
def when_settings_token(context: Any) -> None:
    _build_settings(context, token="S3cr3t-V4lue\r\nX-Injected: 1")


def _build_settings(context: Any, **values: Any) -> None:
    try:
        ClientSettings(**values)
    except SettingsError as exc:
        context.settings_error = exc
    else:
        context.settings_error = None


@then('building them fails with a SettingsError naming "{variable}" without "{secret}"')
def then_settings_refused(context: Any, variable: str, secret: str) -> None:
    error = context.settings_error
    assert isinstance(error, SettingsError), "the settings were accepted"
    assert [name for name, _ in error.problems] == [variable], error.problems
    for text in (str(error), repr(error), str(error.problems)):
        assert secret not in text, text


@then('the command failed with one error line saying "{text}" without "{secret}"')
def then_cli_refused(context: Any, text: str, secret: str) -> None:
    result = context.cli
    assert result.returncode == 2, str(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, str(result)
    assert lines[0].startswith("planstream: error: "), str(result)
    assert text in lines[0], str(result)
    assert secret not in result.stdout + result.stderr, str(result)


@then('the command failed with one error line saying "{text}" and no raw control character')
def then_cli_refused_escaped(context: Any, text: str) -> None:
    then_cli_refused(context, text, "\x1b")
    assert not _RAW.search(context.cli.stderr), repr(context.cli.stderr)


@when(
    "a client whose token provider returns a token holding a newline streams over "
    "WebSocket, then over polling"
)
def when_bad_token_provider(context: Any) -> None:
    async def bad_token() -> str:
        return "S3cr3t-V4lue\nX-Injected: 1"

    context.sdk_outcomes = {}
    for transport in ("websocket", "polling"):
        settings = ClientSettings(url="ws://127.0.0.1:9/v1/stream", transport=transport)
        outcome = run(context, stream_plan("p1", settings=settings, token_provider=bad_token))
        context.sdk_outcomes[transport] = outcome


@then("each stream fails with an AuthenticationError that does not quote the token")
def then_bad_token_fatal(context: Any) -> None:
    for outcome in context.sdk_outcomes.values():
        assert isinstance(outcome.error, AuthenticationError), outcome
        assert "header" in str(outcome.error), outcome.error
        assert not any("S3cr3t" in text for text in outcome.texts + outcome.failures), outcome


# --- redaction ------------------------------------------------------------------------


@then("these texts are redacted:")
def then_redacted(context: Any) -> None:
    from planstream.redaction import redact_secrets

    for row in context.table:
        assert redact_secrets(row["text"]) == row["redacted"], (
            row["text"],
            redact_secrets(row["text"]),
        )


@then('a log record whose traceback quotes "{secret}" reaches the handler redacted')
def then_traceback_redacted(context: Any, secret: str) -> None:
    from planstream.redaction import RedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("planstream.scenario.redaction")
    logger.addHandler(handler)
    logger.addFilter(RedactingFilter())
    logger.propagate = False
    try:
        try:
            raise RuntimeError(f"refused {secret}")
        except RuntimeError:
            logger.exception("with Authorization: %s", secret)
        logger.error("%s", "a format with too few arguments %s")  # passes as it is
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "Traceback" in text, text
    assert "Bearer ***" in text, text
    assert secret.split()[1] not in text, text
    assert "a format with too few arguments %s" in text, text


# --- terminal escapes ------------------------------------------------------------------


@then('its output holds no raw control or bidi character and shows "{shown}" {count:d} times')
def then_output_escaped(context: Any, shown: str, count: int) -> None:
    result = context.cli
    output = result.stdout + result.stderr
    assert not _RAW.search(output), repr(output)
    assert output.count(shown) == count, str(result)
    assert shown == ESCAPES_SHOWN


@then("the JSON lines hold the exact strings with their control characters, {count:d} of them")
def then_json_lossless(context: Any, count: int) -> None:
    def strings(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [text for inner in value.values() for text in strings(inner)]
        if isinstance(value, list):
            return [text for inner in value for text in strings(inner)]
        return [value] if isinstance(value, str) else []

    lines = [json.loads(line) for line in context.cli.stdout.splitlines()]
    exact = [text for line in lines for text in strings(line) if text.endswith(ESCAPES)]
    assert len(exact) == count, context.cli.stdout


@then('the terminal received no injected sequence and shows "{shown}"')
def then_terminal_safe(context: Any, shown: str) -> None:
    output: bytes = context.terminal_output
    for injected in (b"\x1b]0;", b"\x07", b"\x1b[2J", "\u202e".encode()):
        assert injected not in output, (injected, output[-3000:])
    text = output.decode("utf-8", errors="replace")
    assert text.count(shown) >= 2, text[-3000:]  # the step table and the log line


@then("printable text is escaped like this:")
def then_printable_table(context: Any) -> None:
    from planstream.cli.terminal import printable

    for row in context.table:
        text = ast.literal_eval(row["text (as a Python literal)"])
        assert printable(text) == row["shown"], (text, printable(text), row["shown"])
    # every C0 and C1 control is escaped, every other Latin-1 character kept
    for code in range(0x100):
        shown = printable(chr(code))
        assert (shown == chr(code)) == (0x20 <= code < 0x7F or code >= 0xA0), (code, shown)


@then(
    "a record already formatted with its traceback, or with a malformed format, passes the filter unharmed"
)
def then_filter_edge_records(context: Any) -> None:
    from planstream.redaction import RedactingFilter

    redacting = RedactingFilter()
    formatted = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    formatted.exc_text = "Traceback ...\nRuntimeError: Authorization: Bearer abc.def"
    assert redacting.filter(formatted)
    assert formatted.exc_text.endswith("Authorization: ***"), formatted.exc_text
    malformed = logging.LogRecord("x", logging.ERROR, __file__, 1, "%s %s", ("one",), None)
    assert redacting.filter(malformed)
    assert (malformed.msg, malformed.args) == ("%s %s", ("one",))  # left for logging to report


@then(
    "a record with a traceback and a stack, formatted for the terminal, keeps its line breaks "
    "and escapes the rest"
)
def then_escaping_formatter(context: Any) -> None:
    from planstream.cli.terminal import EscapingFormatter

    try:
        raise RuntimeError("bad \x1b[2J news")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "line\nforged \x1b]0;T\x07", None, exc_info
    )
    record.stack_info = "Stack (most recent call last):\n  frame \u202e"
    text = EscapingFormatter("%(levelname)s %(message)s").format(record)
    lines = text.splitlines()
    assert lines[0] == "ERROR line\\x0aforged \\x1b]0;T\\x07", lines[0]
    assert "Traceback (most recent call last):" in lines
    assert "RuntimeError: bad \\x1b[2J news" in lines, lines
    assert lines[-1] == "  frame \\u202e", lines[-1]
    assert not _RAW.search(text), text
