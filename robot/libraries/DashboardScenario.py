"""Robot keywords for the dashboard suite: a real server, a publisher, proxies, page readings.

* The reference server runs as ``python -m planstream.server`` in a subprocess
  with the dashboard on, a reader token and a publish token, on a free port;
  its log is kept in ``build/dashboard/server.log``.
* Plans are published over HTTP with the publish token (protocol §6), from
  scripts written here: a six-step plan published up to a named checkpoint at
  a time (so a test can look at the page mid-run), a plan whose texts are
  hostile HTML and ANSI escapes, and a 1,000-event plan for the cost figure.
  Every log message published is remembered, in order, to compare with the
  page's log tail.
* Proxies between the browser and the server are the ``DashboardTcpProxy``
  library's.
* Page readings go through the browser of ``DashboardBrowser`` (the DOM
  contract's ids only), and the console check counts every error since the
  test's tab opened, except Chromium's own network lines for refusals the test
  provokes on purpose (a 401 for a wrong token, a 403 for a blocked upgrade):
  those are named by the test, and anything else fails.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn

__all__ = ["DashboardScenario"]

BUILD_DIR = Path(__file__).resolve().parents[2] / "build" / "dashboard"
STEP_NAMES = ("checkout", "install deps", "lint", "unit tests", "build image", "deploy")
HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMAGE = '<img src=x onerror="window.__pwned=1">'
HOSTILE_ANSI = "\x1b[31mred\x1b[0m"
_PUBLISH_CHUNK = 100  # events per POST (a list is appended atomically)
_NETWORK_SOURCE = "network"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log(message: str, level: str = "info", step_id: str | None = None) -> tuple[str, Any]:
    stream = "stderr" if level in ("warning", "error") else "stdout"
    return ("log", {"level": level, "message": message, "step_id": step_id, "stream": stream})


def _step(index: int, status: str, name: str | None = None, error: str | None = None) -> Any:
    name = STEP_NAMES[index - 1] if name is None else name
    data = {"step_id": f"s{index}", "index": index, "name": name, "status": status}
    return ("step.status", {**data, "error": error})


def _progress(done: int, total: int) -> tuple[str, Any]:
    percent = round(100.0 * done / total, 1)
    return ("plan.progress", {"completed_steps": done, "total_steps": total, "percent": percent,
                              "message": f"{done} of {total} steps done"})  # fmt: skip


def _status(status: str, reason: str | None = None) -> tuple[str, Any]:
    return ("plan.status", {"status": status, "reason": reason})


def six_step_plan() -> list[tuple[str, Any, str | None]]:
    """The six-step plan as (kind, data, checkpoint reached after it) in publishing order.

    Checkpoints: ``queued``, ``started``, ``step N running``, ``step N succeeded``
    (N = 1..6) and ``succeeded``.
    """
    script: list[tuple[str, Any, str | None]] = [(*_status("queued"), "queued")]
    started = [_status("running"), _progress(0, 6), *(_step(i, "pending") for i in range(1, 7))]
    started.append(_log("plan started: 6 steps", step_id=None))
    script += [(*event, None) for event in started[:-1]] + [(*started[-1], "started")]
    for i, name in enumerate(STEP_NAMES, start=1):
        level = "warning" if i == 4 else "info"
        script.append((*_step(i, "running"), None))
        script.append((*_log(f"step {i} ({name}) started", step_id=f"s{i}"), f"step {i} running"))
        script.append((*_log(f"{name}: 12 items checked", level, step_id=f"s{i}"), None))
        script.append((*_step(i, "succeeded"), None))
        script.append((*_progress(i, 6), f"step {i} succeeded"))
    script.append((*_log("plan finished: 6/6 steps succeeded"), None))
    script.append((*_status("succeeded"), "succeeded"))
    return script


def large_plan(events: int, steps: int = 20) -> list[tuple[str, Any]]:
    """``events`` events of one plan: ``steps`` steps with realistic log lines between them."""
    logs = events - 2 - 3 * steps  # running + succeeded + progress per step, start and end
    if logs < steps:
        raise AssertionError(f"{events} events are too few for {steps} steps")
    plan: list[tuple[str, Any]] = [_status("running")]
    for i in range(1, steps + 1):
        step_id = f"s{i}"
        plan.append(_step(i, "running", name=f"stage {i:02d}"))
        for line in range(logs // steps + (1 if i <= logs % steps else 0)):
            if line % 17 == 16:
                level, text = "warning", "retrying download after a timeout (attempt 2 of 5)"
            elif line % 53 == 52:
                level, text = "error", "test_upload_resume failed: expected 200, got 503"
            else:
                level = "info"
                text = f"compiling src/planstream/module_{line:03d}.py ({1200 + 37 * line} bytes)"
            plan.append(_log(f"[stage {i:02d}] {text}", level, step_id=step_id))
        plan.append(_step(i, "succeeded", name=f"stage {i:02d}"))
        plan.append(_progress(i, steps))
    plan.append(_status("succeeded"))
    return plan


class DashboardScenario:
    """The dashboard suite's server, publisher, proxies and page readings."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self, reader_token: str = "reader-token", publish_token: str = "pub-token"):
        self.reader_token = reader_token
        self.publish_token = publish_token
        self._process: subprocess.Popen[bytes] | None = None
        self._server_log: IO[bytes] | None = None
        self._http: httpx.Client | None = None
        self._published_logs: dict[str, list[str]] = {}
        self._script_positions: dict[str, int] = {}
        self._console_mark = 0
        self._expected_network_errors: list[str] = []
        self.port: int | None = None

    # --- the server -----------------------------------------------------------

    def start_dashboard_server(self) -> str:
        """Start the reference server with the dashboard; return its base URL (ends with '/')."""
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        env = {
            **os.environ,
            "PLANSTREAM_SERVER_DASHBOARD": "true",
            "PLANSTREAM_SERVER_PORT": str(self.port),
            "PLANSTREAM_SERVER_TOKENS": self.reader_token,
            "PLANSTREAM_SERVER_PUBLISH_TOKENS": self.publish_token,
        }
        self._server_log = (BUILD_DIR / "server.log").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "planstream.server"],
            env=env,
            stdout=self._server_log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{self.port}/"
        self._http = httpx.Client(
            base_url=base, headers={"authorization": f"Bearer {self.publish_token}"}, timeout=15
        )
        deadline = time.monotonic() + 20
        while True:
            if self._process.poll() is not None:
                raise AssertionError(f"the server exited early; see {BUILD_DIR / 'server.log'}")
            try:
                if self._http.get("/healthz", timeout=1).status_code == 200:
                    return base
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the server did not answer /healthz within 20 s")
            time.sleep(0.05)

    def stop_dashboard_server(self) -> None:
        """Stop the server (SIGTERM, so coverage data is written)."""
        if self._http is not None:
            self._http.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._server_log is not None:
            self._server_log.close()

    # --- publishing -----------------------------------------------------------

    def _publish(self, plan_id: str, events: list[tuple[str, Any]]) -> None:
        if self._http is None:
            raise AssertionError("no server: call Start Dashboard Server")
        body = [{"kind": kind, "data": data} for kind, data in events]
        answer = self._http.post(f"/v1/plans/{plan_id}/events", json=body)
        if answer.status_code != 201:
            raise AssertionError(f"publish to {plan_id}: HTTP {answer.status_code} {answer.text}")
        logs = self._published_logs.setdefault(plan_id, [])
        logs.extend(data["message"] for kind, data in events if kind == "log")

    def publish_six_step_plan(self, plan_id: str, until: str, pause: float = 0.05) -> int:
        """Publish the six-step plan's next events through checkpoint ``until``, one
        POST per event with ``pause`` seconds between them; return how many were sent."""
        script = six_step_plan()
        checkpoints = [checkpoint for *_, checkpoint in script]
        if until not in checkpoints:
            raise AssertionError(f"no checkpoint {until!r}: {[c for c in checkpoints if c]}")
        start, end = self._script_positions.get(plan_id, 0), checkpoints.index(until) + 1
        if end <= start:
            raise AssertionError(f"{plan_id} is already past {until!r}")
        for at, (kind, data, _) in enumerate(script[start:end]):
            if at:
                time.sleep(float(pause))
            self._publish(plan_id, [(kind, data)])
        self._script_positions[plan_id] = end
        return end - start

    def publish_hostile_plan(self, plan_id: str) -> dict[str, str]:
        """A plan whose step name, step error and log message carry HTML and ANSI escapes;
        return those texts (``step_name``, ``step_error``, ``message``)."""
        texts = {
            "step_name": f"{HOSTILE_SCRIPT} build",
            "step_error": f"{HOSTILE_IMAGE} exit {HOSTILE_ANSI}",
            "message": f"{HOSTILE_SCRIPT} {HOSTILE_IMAGE} {HOSTILE_ANSI}",
        }
        plan = [
            _status("running"),
            _step(1, "running", name=texts["step_name"]),
            _log(texts["message"], "error", step_id="s1"),
            _step(1, "failed", name=texts["step_name"], error=texts["step_error"]),
            _status("failed", reason="step 1 failed"),
        ]
        self._publish(plan_id, plan)
        return texts

    def publish_large_plan(self, plan_id: str, events: int = 1000) -> dict[str, int]:
        """Publish an ``events``-event plan (lists of 100); return its ``events``,
        ``log_lines`` and ``steps`` counts."""
        plan = large_plan(int(events))
        for start in range(0, len(plan), _PUBLISH_CHUNK):
            self._publish(plan_id, plan[start : start + _PUBLISH_CHUNK])
        logs = sum(1 for kind, _ in plan if kind == "log")
        return {"events": len(plan), "log_lines": logs, "steps": 20}

    def published_log_messages(self, plan_id: str) -> list[str]:
        """Every log message published to ``plan_id``, in publishing order."""
        return list(self._published_logs.get(plan_id, []))

    # --- the page -------------------------------------------------------------

    @staticmethod
    def _browser() -> Any:
        return BuiltIn().get_library_instance("DashboardBrowser")

    def open_fresh_dashboard_tab(self) -> None:
        """A new tab (its own sessionStorage), the old ones closed; the console is
        checked from here on, with no refusal expected yet."""
        driver = self._browser().driver
        driver.switch_to.new_window("tab")
        fresh = driver.current_window_handle
        for handle in driver.window_handles:
            if handle != fresh:
                driver.switch_to.window(handle)
                driver.close()
        driver.switch_to.window(fresh)
        self._console_mark = len(self._browser().browser_console_messages())
        self._expected_network_errors = []

    def expect_browser_network_error(self, pattern: str) -> None:
        """Chromium's network console lines matching ``pattern`` (a regexp) are
        expected in this test: a refusal it provokes on purpose."""
        self._expected_network_errors.append(pattern)

    @staticmethod
    def origin_pattern(url: str) -> str:
        """``host:port`` of ``url`` as a regexp, for Chromium's network lines about it."""
        return re.escape(urlsplit(url).netloc)

    def dashboard_console_should_have_no_errors(self) -> None:
        """Fail on every console error since the tab opened, except the expected
        network lines (uncaught exceptions, CSP refusals, 404s, logged errors all fail)."""
        messages = self._browser().browser_console_messages()[self._console_mark :]
        errors = []
        for message in messages:
            if message.get("level") != "SEVERE":
                continue
            text = str(message.get("message"))
            expected = message.get("source") == _NETWORK_SOURCE and any(
                re.search(pattern, text) for pattern in self._expected_network_errors
            )
            if expected:
                logger.info(f"expected network refusal: {text}")
            else:
                errors.append(text)
        if errors:
            raise AssertionError("the browser console has errors:\n" + "\n".join(errors))

    def _script(self, script: str, *args: Any) -> Any:
        return self._browser().driver.execute_script(script, *args)

    def text_content(self, css: str) -> str:
        """The ``textContent`` of the element at ``css`` (``css:`` prefix optional;
        control characters kept, unlike Selenium's rendered text)."""
        css = css.removeprefix("css:")
        text = self._script(
            "const e = document.querySelector(arguments[0]); return e && e.textContent;", css
        )
        if text is None:
            raise AssertionError(f"no element {css}")
        return str(text)

    def connection_state_should_read(self, state: str, pattern: str) -> None:
        """Fail unless ``#connection-state`` has ``data-state`` ``state`` and a text
        matching ``pattern``, read together (the state moves on its own)."""
        seen = self._script(
            "const e = document.getElementById('connection-state');"
            "return e && [e.dataset.state, e.textContent];"
        )
        if not seen or seen[0] != state or not re.search(pattern, seen[1]):
            raise AssertionError(f"connection state {seen}, expected {state!r} /{pattern}/")

    def log_tail_messages(self) -> list[str]:
        """The ``.log-message`` texts of the log tail's rows (resync markers left out)."""
        return list(
            self._script(
                "return [...document.querySelectorAll("
                "'#log-tail .log-row:not(.log-resync) .log-message')].map(e => e.textContent);"
            )
        )

    def progress_percent(self) -> float:
        """The value of ``#progress-bar``."""
        return float(self._script("return document.querySelector('#progress-bar').value;"))

    def dashboard_stats(self) -> dict[str, Any]:
        """``window.planstreamDashboard.stats()``: the protocol client's counters."""
        return dict(self._script("return window.planstreamDashboard.stats();"))

    def save_page_screenshot(self, path: str, width: int = 1280, height: int = 900) -> str:
        """A PNG of exactly ``width`` x ``height`` CSS pixels of the page (the window's
        own size leaves less to the viewport), saved to ``path``."""
        driver = self._browser().driver
        metrics = {"width": int(width), "height": int(height), "deviceScaleFactor": 1}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "mobile": False})
        try:
            # Two animation frames: the page has laid itself out at the new size.
            driver.execute_async_script(
                "const done = arguments[0];"
                "requestAnimationFrame(() => requestAnimationFrame(() => done(null)));"
            )
            return str(self._browser().save_dashboard_screenshot(path))
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # --- cost -----------------------------------------------------------------

    def start_page_cost_measurement(self) -> None:
        """Disable the cache (a first visit's bytes) and forget the network log so far."""
        driver = self._browser().driver
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        self._browser().performance_log()

    def measure_page_cost(self, plan_id: str, events: int) -> dict[str, Any]:
        """Bytes received since the measurement started (WebSocket payloads + HTTP
        encoded bodies) and the JS heap after a GC; written to ``build/dashboard/cost.json``."""
        driver = self._browser().driver
        urls: dict[str, str] = {}
        http = {"assets": 0, "api": 0}
        ws_bytes = ws_frames = 0
        for entry in self._browser().performance_log():
            method, params = entry.get("method"), entry.get("params", {})
            if method == "Network.requestWillBeSent":
                urls[params["requestId"]] = params["request"]["url"]
            elif method == "Network.webSocketFrameReceived":
                ws_frames += 1
                ws_bytes += len(params["response"]["payloadData"].encode())
            elif method == "Network.loadingFinished":
                kind = "api" if "/v1/" in urls.get(params["requestId"], "") else "assets"
                http[kind] += int(params["encodedDataLength"])
        driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
        heap = driver.execute_cdp_cmd("Runtime.getHeapUsage", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
        cost = {
            "plan_id": plan_id,
            "events": int(events),
            "websocket_frames": ws_frames,
            "websocket_bytes": ws_bytes,
            "http_asset_bytes": http["assets"],
            "http_api_bytes": http["api"],
            "total_bytes": ws_bytes + http["assets"] + http["api"],
            "js_heap_used_bytes": int(heap["usedSize"]),
            "js_heap_total_bytes": int(heap["totalSize"]),
            "dom_elements": int(self._script("return document.getElementsByTagName('*').length;")),
        }
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        (BUILD_DIR / "cost.json").write_text(json.dumps(cost, indent=2) + "\n", encoding="utf-8")
        logger.info(f"page cost of a {events}-event plan: {json.dumps(cost)}", also_console=True)
        return cost
