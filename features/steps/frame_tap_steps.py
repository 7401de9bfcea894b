"""Steps of frame_tap.feature: the tap's lines, read from real subprocesses' stderr.

The subscriber is ``features/support/frame_tap_program.py`` (settings from
the environment only, as an application builds them) or ``planstream watch``;
both run in the scenario's loop (support/cli_support.py), so the embedded
reference server and the scripted hostile one keep serving meanwhile.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from behave import given, then, when
from support.cli_support import CommandResult, run_cli, run_command
from support.frame_tap_support import (
    BINARY_SIZE,
    TokenEchoServer,
    frame_lines,
    token_forms,
)
from support.server_stream_support import publish_logs
from support.servers import on_cleanup, run, start_reference_server

from planstream.transport.frame_tap import TEXT_CAP, shown_text

_PROGRAM = "features/support/frame_tap_program.py"
#: A control character (C0, DEL, C1) or a bidirectional override, raw.
_RAW_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@given('a tapped reference server with the token "{token}"')
def given_server(context: Any, token: str) -> None:
    start_reference_server(context, tokens=[token])
    context.tap_url = context.server.url


@given('plan "{plan_id}" has {count:d} log events and succeeded')
def given_plan(context: Any, plan_id: str, count: int) -> None:
    publish_logs(context, plan_id, count)
    status = {"status": "succeeded", "reason": None}
    run(context, context.server.publish(plan_id, "plan.status", status))


@given("a token-echoing server")
def given_echo_server(context: Any) -> None:
    context.echo_token = "echo-Secret-Token-7777"
    server = TokenEchoServer(context.echo_token)
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.echo_server = server


def _follow(context: Any, plan_id: str, env: dict[str, str], *flags: str) -> None:
    context.tap_result = run_command(
        context, sys.executable, _PROGRAM, plan_id, *flags, env=env, timeout=60
    )


@when(
    'the tap program follows plan "{plan_id}" with the token "{token}"'
    " and PLANSTREAM_DEBUG_FRAMES=1"
)
def when_follow_tapped(context: Any, plan_id: str, token: str) -> None:
    env = {"PLANSTREAM_URL": context.tap_url, "PLANSTREAM_TOKEN": token}
    _follow(context, plan_id, {**env, "PLANSTREAM_DEBUG_FRAMES": "1"})


@when('the tap program follows plan "{plan_id}" with the token "{token}"')
def when_follow_untapped(context: Any, plan_id: str, token: str) -> None:
    _follow(context, plan_id, {"PLANSTREAM_URL": context.tap_url, "PLANSTREAM_TOKEN": token})


@when(
    'the tap program with its own logging follows plan "{plan_id}" with the token "{token}"'
    " and PLANSTREAM_DEBUG_FRAMES=1"
)
def when_follow_app_logging(context: Any, plan_id: str, token: str) -> None:
    env = {"PLANSTREAM_URL": context.tap_url, "PLANSTREAM_TOKEN": token}
    _follow(context, plan_id, {**env, "PLANSTREAM_DEBUG_FRAMES": "1"}, "--app-logging")


@when(
    'the tap program follows plan "{plan_id}" from the token-echoing server'
    " with PLANSTREAM_DEBUG_FRAMES=1"
)
def when_follow_echo(context: Any, plan_id: str) -> None:
    env = {
        "PLANSTREAM_URL": context.echo_server.url,
        "PLANSTREAM_TOKEN": context.echo_token,
        "PLANSTREAM_DEBUG_FRAMES": "1",
        "PLANSTREAM_CONNECT_TIMEOUT": "10",
    }
    _follow(context, plan_id, env)


def _result(context: Any) -> CommandResult:
    result: CommandResult = context.tap_result
    return result


@then("the tap program exits with status {status:d} and printed {count:d} events")
def then_exit_and_events(context: Any, status: int, count: int) -> None:
    result = _result(context)
    assert result.returncode == status, result
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(events) == count, result
    assert [event["seq"] for event in events] == list(range(1, count + 1)), result


@then("the tap program exits with status {status:d}")
def then_exit(context: Any, status: int) -> None:
    assert _result(context).returncode == status, _result(context)


@then("its frame lines show, in order:")
def then_lines_in_order(context: Any) -> None:
    lines = frame_lines(_result(context).stderr)
    position = 0
    for row in context.table:
        wanted = row["frame"].strip('"')
        found = next(
            (
                index
                for index in range(position, len(lines))
                if f"planstream.frames {row['direction']} " in lines[index]
                and wanted in lines[index]
            ),
            None,
        )
        assert found is not None, (row["direction"], wanted, lines[position:])
        position = found + 1


@then("every frame line names the server's URL and, after the hello, its session")
def then_lines_name_url(context: Any) -> None:
    lines = frame_lines(_result(context).stderr)
    assert len(lines) >= 4, lines
    for line in lines:
        assert context.tap_url in line, line
    hello = next(index for index, line in enumerate(lines) if '"hello"' in line)
    session = json.loads(lines[hello].split(": ", 1)[1])["session_id"]
    for line in lines[hello + 1 :]:
        assert f"{context.tap_url} [{session}] " in line, line


@then('the token "{token}" appears nowhere in the tap program\'s output')
def then_no_token(context: Any, token: str) -> None:
    result = _result(context)
    for form in token_forms(token):
        assert form not in result.stdout + result.stderr, (form, result)


@then("the tap program wrote no frame line")
def then_no_frame_line(context: Any) -> None:
    result = _result(context)
    assert "planstream.frames" not in result.stderr, result


@then("every frame line came through the application's handler, none twice")
def then_app_handler(context: Any) -> None:
    result = _result(context)
    lines = frame_lines(result.stderr)
    assert len(lines) >= 4, result
    for line in lines:
        assert line.startswith("APP planstream.frames "), line
    assert len(lines) == len(set(lines)), lines
    assert len([line for line in lines if '"hello"' in line]) == 1, lines


@when(
    'the tap program with its own logging follows plan "{plan_id}" from the token-echoing'
    " server, showing its error"
)
def when_follow_echo_untapped(context: Any, plan_id: str) -> None:
    env = {
        "PLANSTREAM_URL": context.echo_server.url,
        "PLANSTREAM_TOKEN": context.echo_token,
        "PLANSTREAM_CONNECT_TIMEOUT": "10",
    }
    _follow(context, plan_id, env, "--app-logging", "--show-error")


@then("its stderr shows the server's refusal and close, and no piece of the token in any form")
def then_echo_unlogged(context: Any) -> None:
    stderr = _result(context).stderr
    assert "refused" in stderr, stderr  # the error frame's message, redacted
    assert "error text: " in stderr, stderr
    assert "planstream.frames" not in stderr, stderr  # the tap is off
    pieces = {
        form[at : at + 6] for form in token_forms(context.echo_token) for at in range(len(form) - 5)
    }
    assert not [piece for piece in pieces if piece in stderr], stderr


@then("no frame line holds the token in any form, nor a control character")
def then_hostile_clean(context: Any) -> None:
    lines = frame_lines(_result(context).stderr)
    assert len(lines) >= 6, _result(context)
    # no piece of 6 characters of either form (the plan id "echo" is the token's first 4)
    pieces = {
        form[at : at + 6] for form in token_forms(context.echo_token) for at in range(len(form) - 5)
    }
    for line in lines:
        assert not [piece for piece in pieces if piece in line], line
        assert not _RAW_CONTROL.search(line), line


@then("the steering frame is logged with its control characters escaped")
def then_steering(context: Any) -> None:
    lines = frame_lines(_result(context).stderr)
    steering = [line for line in lines if '"type":"note"' in line]
    assert len(steering) == 1, lines
    shown = steering[0]
    for escape in ("\\x1b]0;pwned\\x07", "\\x1b[2J", "\\u202e", "\\x0aforged line"):
        assert escape in shown, (escape, shown)


@then(
    "the long frame is logged cut at 512 characters with its size,"
    " the token's straddling part redacted"
)
def then_long_frame(context: Any) -> None:
    lines = frame_lines(_result(context).stderr)
    size = len(context.echo_server.long_frame.encode())
    long = [line for line in lines if '"type":"heartbeat"' in line]
    assert len(long) == 1, lines
    text = long[0].split(f"text {size} B: ", 1)[1]
    assert text.endswith(f"… ({size} bytes)"), text
    assert "***" in text, text
    assert len(text) <= TEXT_CAP + len(f"… ({size} bytes)"), len(text)
    assert "y" * 10 not in text, text  # the cut came before the tail


@then("the binary frame is logged as its size")
def then_binary(context: Any) -> None:
    lines = frame_lines(_result(context).stderr)
    assert any(
        line.endswith(f"< {context.echo_server.url} [scripted] binary {BINARY_SIZE} B")
        for line in [" ".join(line.split()[2:]) for line in lines]
    ), lines


@then("the server's close is logged with its code and an escaped reason without the token")
def then_close(context: Any) -> None:
    lines = frame_lines(_result(context).stderr)
    closes = [line for line in lines if "] close 1008 " in line]
    assert len(closes) == 1, lines
    assert closes[0].endswith('close 1008 "policy \\x1b[2J ***"'), closes


@when(
    'planstream watch --json follows plan "{plan_id}" with the token "{token}",'
    " once without and once with --debug-frames"
)
def when_watch_twice(context: Any, plan_id: str, token: str) -> None:
    args = ("watch", plan_id, "--json", "--url", context.tap_url)
    env = {"PLANSTREAM_TOKEN": token}
    context.watches = (
        run_cli(context, *args, env=env, timeout=60),
        run_cli(context, *args, "--debug-frames", env=env, timeout=60),
    )


@then("both watches exit 0 with the same stdout")
def then_watches_same(context: Any) -> None:
    plain, tapped = context.watches
    assert plain.returncode == tapped.returncode == 0, (plain, tapped)
    assert plain.stdout == tapped.stdout, (plain, tapped)
    assert len(plain.stdout.splitlines()) == 3, plain


@then('only the watch with --debug-frames wrote frame lines, "{frame}" among them')
def then_watch_lines(context: Any, frame: str) -> None:
    plain, tapped = context.watches
    assert not frame_lines(plain.stderr), plain
    lines = frame_lines(tapped.stderr)
    assert any(
        f"planstream.frames > {context.tap_url}" in line and f'"{frame}"' in line for line in lines
    ), tapped


@then('the token "{token}" appears in neither watch\'s output')
def then_watch_no_token(context: Any, token: str) -> None:
    for result in context.watches:
        for form in token_forms(token):
            assert form not in result.stdout + result.stderr, (form, result)


@when('a frame of {length:d} characters with the token "{token}" at {at:d} is shown')
def when_shown(context: Any, length: int, token: str, at: int) -> None:
    if at < 0:  # -N: N characters, then the token over and over
        text = ("x" * -at + token * (length // len(token) + 1))[:length]
    else:
        text = ("x" * at + token + "x" * length)[:length]
    context.shown_token = token
    context.shown = shown_text(text, (token,))


@then(
    "the shown text is at most 530 characters, has no token part longer than 3 characters,"
    " and {ends}"
)
def then_shown(context: Any, ends: str) -> None:
    shown, token = context.shown, context.shown_token
    assert len(shown) <= 530, len(shown)
    parts = {token[start : start + 4] for start in range(len(token) - 3)}
    assert not any(part in shown for part in parts), shown
    if ends == "is not cut":
        assert "…" not in shown, shown
        assert "***" in shown, shown
    else:
        suffix = ends.removeprefix("ends with ").strip('"')
        assert shown.endswith(suffix), shown
