"""Steps of features/dashboard_demo.feature: ``planstream demo`` with its dashboard,
run for real in a subprocess; and the dashboard line of the demo's live view
in a terminal (features/cli.feature)."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import stat
import tempfile
from pathlib import Path
from typing import Any

import httpx
from behave import then, when
from support.cli_support import CLI, start_background
from support.dashboard_http import RawResponse, raw_get
from support.servers import on_cleanup, run

_SERVER_LINE = re.compile(
    r"^planstream demo: reference server on ws://127\.0\.0\.1:(?P<port>\d+)/v1/stream, "
)
_DASHBOARD_LINE = re.compile(r"^dashboard: (?P<url>http://127\.0\.0\.1:(?P<port>\d+)/)$")
_EVENT_LINE = re.compile(r"^\[demo-release #\d+\] ")
_STILL_SERVING = "dashboard: still serving {url} with the finished plan; Ctrl-C stops it"
#: A browser for webbrowser: it appends the URL it is given to a file beside itself.
_RECORDING_BROWSER = '#!/bin/sh\nprintf "%s\\n" "$@" >> "$(dirname "$0")/opened.txt"\n'


def _start_demo(context: Any, flags: str, text: str, env: dict[str, str] | None = None) -> None:
    demo = start_background(context, [*CLI, "demo", *shlex.split(flags)], env=env)
    demo.wait_for_output(text, timeout=30)
    context.demo = demo
    lines = demo.stdout.splitlines()
    server, dashboard = _SERVER_LINE.match(lines[0]), _DASHBOARD_LINE.match(lines[1])
    assert server is not None, demo.stdout
    assert dashboard is not None, demo.stdout
    context.demo_lines = lines
    context.demo_ports = (server.group("port"), dashboard.group("port"))
    context.demo_dashboard_url = dashboard.group("url")


@when('the demo runs with "{flags}" until it says "{text}"')
def when_demo_runs(context: Any, flags: str, text: str) -> None:
    _start_demo(context, flags, text)


def _browser(context: Any, script: str) -> Path:
    """An executable ``script`` in a folder of its own (removed after the scenario)."""
    folder = Path(tempfile.mkdtemp(prefix="planstream-browser-"))

    async def remove() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    on_cleanup(context, remove)
    browser = folder / "test-browser"
    browser.write_text(script, encoding="utf-8")
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    return browser


@when(
    'the demo runs with "{flags}" and a $BROWSER that records what it is given,'
    ' until it says "{text}"'
)
def when_demo_opens(context: Any, flags: str, text: str) -> None:
    browser = _browser(context, _RECORDING_BROWSER)
    context.demo_browser_record = browser.parent / "opened.txt"
    _start_demo(context, flags, text, env={"BROWSER": str(browser)})


@when('the demo runs with "{flags}" and a $BROWSER that fails, until it says "{text}"')
def when_demo_browser_fails(context: Any, flags: str, text: str) -> None:
    browser = _browser(context, "#!/bin/sh\nexit 3\n")
    _start_demo(context, flags, text, env={"BROWSER": str(browser)})


@then('the demo said "{text}" right after its dashboard line')
def then_demo_said(context: Any, text: str) -> None:
    assert context.demo_lines[2] == text, context.demo_lines[:4]


@then(
    'the demo\'s second line is "dashboard: http://127.0.0.1:PORT/" with the port of its server,'
    " before any event"
)
def then_demo_dashboard_line(context: Any) -> None:
    server_port, dashboard_port = context.demo_ports
    assert server_port == dashboard_port, context.demo_lines[:2]
    first_event = next(n for n, line in enumerate(context.demo_lines) if _EVENT_LINE.match(line))
    assert first_event > 1, context.demo_lines[:3]


def _page(context: Any) -> RawResponse:
    return run(context, raw_get(context.demo_dashboard_url, "/"))  # type: ignore[no-any-return]


@then("the demo's dashboard URL answers the page with the Content-Security-Policy")
def then_demo_page(context: Any) -> None:
    answer = _page(context)
    assert answer.status == 200, str(answer)
    assert answer.headers["content-type"] == "text/html; charset=utf-8", str(answer)
    assert answer.headers["content-security-policy"].startswith("default-src 'none'"), str(answer)


@then('the demo\'s server lists plan "{plan_id}" as "{status}" to a reader without a token')
def then_demo_anonymous_read(context: Any, plan_id: str, status: str) -> None:
    answer = httpx.get(context.demo_dashboard_url + "v1/plans", timeout=10)
    assert answer.status_code == 200, answer.text
    plans = {plan["plan_id"]: plan["status"] for plan in answer.json()["plans"]}
    assert plans == {plan_id: status}, plans


@then('the demo\'s server answers a publish without a token with {status:d} "{code}"')
def then_demo_no_publish(context: Any, status: int, code: str) -> None:
    event = {"kind": "log", "data": {"level": "info", "message": "x", "stream": "stdout"}}
    url = context.demo_dashboard_url + "v1/plans/demo-release/events"
    answer = httpx.post(url, json=event, timeout=10)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code, answer.text


@when("the demo is stopped with {name}")
def when_demo_stopped(context: Any, name: str) -> None:
    context.demo_status = context.demo.stop(sig=signal.Signals[name])


@then(
    "the demo exited with status 0, its summary and then its still-serving line ending its output"
)
def then_demo_exit(context: Any) -> None:
    demo = context.demo
    assert context.demo_status == 0, (demo.stdout, demo.stderr)
    lines = demo.stdout.splitlines()
    assert lines[-2].startswith("demo finished: plan succeeded; "), demo.stdout
    assert lines[-1] == _STILL_SERVING.format(url=context.demo_dashboard_url), demo.stdout
    assert demo.stderr == "", demo.stderr


@then("that browser was started once, with the dashboard URL the demo printed")
def then_browser_opened(context: Any) -> None:
    opened = context.demo_browser_record.read_text(encoding="utf-8").splitlines()
    assert opened == [context.demo_dashboard_url], opened


@then("the terminal screen shows the dashboard URL under the demo's first line")
def then_terminal_dashboard(context: Any) -> None:
    lines = context.terminal_lines
    server = _SERVER_LINE.match(lines[0])
    dashboard = _DASHBOARD_LINE.match(lines[1])
    assert server is not None, context.terminal_dump
    assert dashboard is not None, context.terminal_dump
    assert server.group("port") == dashboard.group("port"), context.terminal_dump
