"""Steps of features/server_start_failures.feature: start-up failures as one line.

The servers run for real: commands in subprocesses (``planstream serve``,
``python -m planstream.server``, an example), embedded servers in the
scenario's loop; a busy port is held by a real listening socket (the step
"a TCP port on 127.0.0.1 that is already in use" sets ``context.busy_port``).
"""

from __future__ import annotations

import ctypes
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from behave import given, then, when
from support.cli_support import CLI, ROOT, CommandResult, cli_env, start_background
from support.servers import free_port, on_cleanup, run, start_embedded

from planstream.server import MemoryEventLog, PlanStreamServer, ServerSettings, ServerStartError

#: prctl(2) constants: drop a capability from the bounding set of this process.
_PR_CAPBSET_DROP = 24
_CAP_NET_BIND_SERVICE = 10


def _fill(context: Any, text: str) -> str:
    values = {
        name: str(getattr(context, attribute))
        for name, attribute in (
            ("busy_port", "busy_port"),
            ("file", "start_file"),
            ("port", "start_port"),
        )
        if hasattr(context, attribute)
    }
    values["privileged_port"] = str(_privileged_port())
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def _privileged_port() -> int:
    """A port below the first one anybody may bind (1023 on most systems)."""
    start = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    assert start > 1, f"every port may be bound here (ip_unprivileged_port_start={start})"
    return min(start, 1024) - 1


def _argv(command: str) -> list[str]:
    words = shlex.split(command)
    if words[0] == "planstream":
        return [*CLI, *words[1:]]
    assert words[0] == "python", command
    return [sys.executable, *words[1:]]


def _run(context: Any, command: str, preexec: Any = None) -> None:
    args = _argv(_fill(context, command))
    started = time.monotonic()
    done = subprocess.run(
        args,
        env=cli_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=preexec,
        check=False,
    )
    context.start_run = CommandResult(
        tuple(args), done.returncode, done.stdout, done.stderr, time.monotonic() - started
    )


def _without_low_ports() -> None:
    """In the child: as root, give up the capability to bind ports below 1024."""
    if os.geteuid() != 0:
        return  # an ordinary user has no such right to give up
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_CAPBSET_DROP, _CAP_NET_BIND_SERVICE, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP, CAP_NET_BIND_SERVICE)")


@when('the server command "{command}" runs')
def when_server_command(context: Any, command: str) -> None:
    _run(context, command)


@when('the server command "{command}" runs without the right to bind ports below 1024')
def when_server_command_unprivileged(context: Any, command: str) -> None:
    _run(context, command, _without_low_ports)


def _check_quiet_failure(result: CommandResult, status: int) -> list[str]:
    assert result.returncode == status, str(result)
    assert result.stdout == "", str(result)
    for noise in ("Traceback", "internal error", "uvicorn"):
        assert noise not in result.stderr, str(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, str(result)
    return lines


@then('the server command exited with status {status:d} and printed only "{line}" on stderr')
def then_server_command_line(context: Any, status: int, line: str) -> None:
    lines = _check_quiet_failure(context.start_run, status)
    assert lines == [_fill(context, line)], str(context.start_run)


@then(
    'the server command exited with status {status:d} and printed one line starting "{start}" on stderr'
)
def then_server_command_line_start(context: Any, status: int, start: str) -> None:
    (line,) = _check_quiet_failure(context.start_run, status)
    assert line.startswith(_fill(context, start)), str(context.start_run)


@then(
    'the server command exited with status 0 and printed the help of "planstream serve" as "{prog}"'
)
def then_server_help(context: Any, prog: str) -> None:
    result = context.start_run
    assert result.returncode == 0, str(result)
    assert result.stderr == "", str(result)
    _run(context, "planstream serve --help")
    cli_help = context.start_run
    assert cli_help.returncode == 0, str(cli_help)
    expected = cli_help.stdout.replace("Usage: planstream serve ", f"Usage: {prog} ")
    assert result.stdout == expected, f"{result}\n--- planstream serve --help\n{cli_help.stdout}"
    assert "PLANSTREAM_SERVER_PORT" in result.stdout, result.stdout


@given('a file "{name}" holding "{text}"')
def given_file(context: Any, name: str, text: str) -> None:
    folder = tempfile.TemporaryDirectory()

    async def remove() -> None:
        folder.cleanup()

    on_cleanup(context, remove)
    path = Path(folder.name) / name
    path.write_text(text + "\n")
    context.start_file = path


@when("an embedded stream server is started with that file as its certificate, deleted just before")
def when_embedded_certificate_gone(context: Any) -> None:
    server = PlanStreamServer(ServerSettings(port=0, ssl_certfile=context.start_file))
    context.start_file.unlink()
    start_embedded(context, server)


class _LogThatCannotStart(MemoryEventLog):
    """A memory log whose start fails, as a log whose store is unreachable would."""

    async def start(self) -> None:
        raise ConnectionRefusedError("the log's store refused the connection")


@when("an embedded stream server whose event log fails to start is started on a free port")
def when_embedded_log_fails(context: Any) -> None:
    context.start_port = free_port()
    server = PlanStreamServer(ServerSettings(port=context.start_port), log=_LogThatCannotStart())
    start_embedded(context, server)


@then('starting it raised ServerStartError "{message}"')
def then_start_error(context: Any, message: str) -> None:
    error = context.stream_start_error
    assert isinstance(error, ServerStartError), repr(error)
    assert isinstance(error, OSError), repr(error)
    assert str(error) == _fill(context, message), str(error)


@then("a new socket can listen on that port")
def then_port_free(context: Any) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", context.start_port))
        sock.listen()


@given(
    '"python -m planstream.server --token {token}" runs with'
    " PLANSTREAM_SERVER_TOKENS={env_token} and PLANSTREAM_SERVER_RETENTION={retention:d}"
)
def given_module_server(context: Any, token: str, env_token: str, retention: int) -> None:
    port = free_port()
    args = [sys.executable, "-m", "planstream.server", "--port", str(port), "--token", token]
    env = {"PLANSTREAM_SERVER_TOKENS": env_token, "PLANSTREAM_SERVER_RETENTION": str(retention)}
    start_background(context, args, f"http://127.0.0.1:{port}/healthz", env=env)
    context.start_http = f"http://127.0.0.1:{port}"
    context.start_token = token


@then('the server answers GET /v1/status with 200 for the token "{good}" and 401 for "{bad}"')
def then_status_tokens(context: Any, good: str, bad: str) -> None:
    for token, status in ((good, 200), (bad, 401)):
        answer = httpx.get(
            context.start_http + "/v1/status", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == status, (token, answer.status_code, answer.text)


@then("the server keeps {count:d} events per plan, as PLANSTREAM_SERVER_RETENTION says")
def then_retention(context: Any, count: int) -> None:
    headers = {"Authorization": f"Bearer {context.start_token}"}
    url = context.start_http + "/v1/plans/kept/events"
    ids = []
    for number in range(count + 2):
        data = {"level": "info", "message": f"line {number}", "stream": "stdout"}
        answer = httpx.post(url, json={"kind": "log", "data": data}, headers=headers)
        assert answer.status_code in (200, 201), answer.text
        ids.extend(event["event_id"] for event in answer.json()["events"])
    # Seqs 3..count+2 are kept: resuming after seq 3 works, after seq 2 (gone) cannot.
    kept = httpx.get(url, params={"after": ids[2]}, headers=headers).json()
    assert [event["seq"] for event in kept["events"]] == list(range(4, count + 3)), kept
    lost = httpx.get(url, params={"after": ids[1]}, headers=headers).json()
    assert lost["resync"]["reason"] == "history_expired", lost


@given("a port on 127.0.0.1 held by a listening socket of the scenario")
def given_held_port(context: Any) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    context.busy_socket = sock
    context.busy_port = sock.getsockname()[1]

    async def close() -> None:
        sock.close()

    on_cleanup(context, close)


@when("an embedded stream server is started on that held port, and again once the socket is closed")
def when_start_twice(context: Any) -> None:
    server = PlanStreamServer(ServerSettings(port=context.busy_port))
    start_embedded(context, server)
    context.busy_socket.close()
    run(context, server.start())  # the same server, its configuration already loaded
    context.start_port = server.port


@then('the first start raised ServerStartError "{message}"')
def then_first_start_error(context: Any, message: str) -> None:
    then_start_error(context, message)


@then("the second start serves /healthz on that port")
def then_second_start_serves(context: Any) -> None:
    assert context.start_port == context.busy_port, context.start_port

    async def health() -> int:
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{context.busy_port}/healthz")
            return answer.status_code

    assert run(context, health()) == 200


@when('"{command}" runs in the background until it printed its URL')
def when_background_until_url(context: Any, command: str) -> None:
    background = start_background(context, _argv(command))
    background.wait_for_output("/v1/stream\n")
    context.start_background = background


@then(
    'it printed "planstream server listening on ws://[::1]:PORT/v1/stream"'
    " and answers /healthz at http://[::1]:PORT"
)
def then_ipv6_serves(context: Any) -> None:
    output = context.start_background.stdout
    found = re.search(r"planstream server listening on ws://\[::1\]:(\d+)/v1/stream\n", output)
    assert found, output
    answer = httpx.get(f"http://[::1]:{found.group(1)}/healthz")
    assert answer.status_code == 200, answer.text


_SERVE_PROGRAM = (
    "import asyncio, sys; from planstream.server import ServerSettings, serve; "
    "asyncio.run(serve(ServerSettings(port=int(sys.argv[1]))))"
)


@when('a program running "asyncio.run(serve(ServerSettings(port=PORT)))" serves /healthz')
def when_serve_program(context: Any) -> None:
    port = free_port()
    args = [sys.executable, "-c", _SERVE_PROGRAM, str(port)]
    context.start_background = start_background(context, args, f"http://127.0.0.1:{port}/healthz")


@when("the program gets SIGTERM")
def when_program_sigterm(context: Any) -> None:
    context.start_status = context.start_background.stop()


@then("the program exited with status {status:d}")
def then_program_status(context: Any, status: int) -> None:
    background = context.start_background
    assert context.start_status == status, (background.stdout, background.stderr)
    assert "Traceback" not in background.stderr, background.stderr
