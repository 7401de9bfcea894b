"""Robot keywords for the dashboard suite: real servers, a publisher, page readings.

* Reference servers run as ``python -m planstream.server`` subprocesses with the
  dashboard on, a reader token and a publish token, on free ports; the first one
  started is the suite's, later ones (e.g. one with a Redis log, to restart
  mid-plan) belong to a test (:mod:`dashboard_processes`). Logs are kept in
  ``build/dashboard/``.
* Plans are published over HTTP with the publish token (protocol §6), from the
  scripts of :mod:`dashboard_plans`: a six-step plan published up to a named
  checkpoint at a time (so a test can look at the page mid-run), a plan whose
  texts are hostile HTML and ANSI escapes, and a 1,000-event plan for the cost
  figure. Every log message published is remembered, in order, to compare with
  the page's log tail.
* Proxies between the browser and a server are the ``DashboardTcpProxy``
  library's.
* Page readings go through the browser of ``DashboardBrowser`` (the DOM
  contract's ids only), and the console check counts every error since the
  test's tab opened, except Chromium's own network lines for refusals the test
  provokes on purpose (a 401 for a wrong token, a 403 for a blocked upgrade, a
  refused reconnect): those are named by the test, and anything else fails.
"""

from __future__ import annotations

import base64
import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from dashboard_plans import Event, hostile_plan, large_plan, six_step_plan
from dashboard_processes import BUILD_DIR, RedisProcess, ServerProcess
from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn

__all__ = ["DashboardScenario"]

_PUBLISH_CHUNK = 100  # events per POST (a list is appended atomically)


class DashboardScenario:
    """The dashboard suite's servers, publisher and page readings."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self, reader_token: str = "reader-token", publish_token: str = "pub-token"):
        self.reader_token = reader_token
        self.publish_token = publish_token
        self._servers: dict[str, ServerProcess] = {}  # by base URL, the suite's first
        self._redis: list[RedisProcess] = []
        self._publishers: dict[str, httpx.Client] = {}  # by base URL, kept alive
        self._published_logs: dict[str, list[str]] = {}
        self._published_counts: dict[str, int] = {}
        self._script_positions: dict[str, int] = {}

    # --- servers --------------------------------------------------------------

    def start_dashboard_server(self, redis_url: str | None = None, name: str = "server") -> str:
        """Start a reference server with the dashboard (its event log in Redis at
        ``redis_url``, else in memory); return its base URL (ends with '/')."""
        env = {
            "PLANSTREAM_SERVER_TOKENS": self.reader_token,
            "PLANSTREAM_SERVER_PUBLISH_TOKENS": self.publish_token,
        }
        if redis_url:
            env["PLANSTREAM_SERVER_REDIS_URL"] = redis_url
        server = ServerProcess(name, env)
        server.log_path.unlink(missing_ok=True)
        self._servers[server.base_url] = server
        server.start()
        return server.base_url

    def _server(self, base: str | None) -> ServerProcess:
        if not self._servers:
            raise AssertionError("no server: call Start Dashboard Server")
        return self._servers[base] if base else next(iter(self._servers.values()))

    def stop_dashboard_server(self, base: str) -> None:
        """SIGTERM the server at ``base`` (it closes its WebSockets with 1001)."""
        self._stop_server(self._server(base))

    def _stop_server(self, server: ServerProcess) -> None:
        publisher = self._publishers.pop(server.base_url, None)
        if publisher is not None:
            publisher.close()
        server.stop()

    def start_dashboard_server_again(self, base: str) -> None:
        """Start the stopped server at ``base`` again, on the same port."""
        self._server(base).start()

    def start_redis_for_dashboard(self) -> str:
        """A Redis for a server's event log; return its URL. Skips the test when
        ``redis-server`` is not installed (``.ci/run`` installs it)."""
        if not RedisProcess.available():
            BuiltIn().skip("redis-server is not installed: the restart test is skipped")
        redis = RedisProcess()
        self._redis.append(redis)
        redis.start()
        return redis.url

    def stop_test_servers(self) -> None:
        """Stop every server but the suite's, and every Redis."""
        for base in list(self._servers)[1:]:
            self._stop_server(self._servers.pop(base))
        while self._redis:
            self._redis.pop().stop()

    def stop_dashboard_servers(self) -> None:
        """Stop every server and every Redis."""
        self.stop_test_servers()
        for server in self._servers.values():
            self._stop_server(server)
        self._servers.clear()

    def server_logs_should_not_contain_tokens(self) -> None:
        """Fail if a server log holds a token, as typed or as its bearer subprotocol
        (base64url) form."""
        secrets = {}
        for token in (self.reader_token, self.publish_token):
            secrets[token] = token
            secrets[base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")] = token
        for server in self._servers.values():
            text = server.log_path.read_text(encoding="utf-8", errors="replace")
            if not text:
                raise AssertionError(f"{server.log_path} is empty: nothing was checked")
            leaked = {secrets[form] for form in secrets if form in text}
            if leaked:
                raise AssertionError(f"{server.log_path} holds {len(leaked)} token(s)")

    # --- publishing -----------------------------------------------------------

    def _publish(self, plan_id: str, events: list[Event], server: str | None) -> None:
        base = self._server(server).base_url
        if base not in self._publishers:
            self._publishers[base] = httpx.Client(
                base_url=base, headers={"authorization": f"Bearer {self.publish_token}"}, timeout=15
            )
        body = [{"kind": kind, "data": data} for kind, data in events]
        answer = self._publishers[base].post(f"v1/plans/{plan_id}/events", json=body)
        if answer.status_code != 201:
            raise AssertionError(f"publish to {plan_id}: HTTP {answer.status_code} {answer.text}")
        self._published_counts[plan_id] = self._published_counts.get(plan_id, 0) + len(events)
        logs = self._published_logs.setdefault(plan_id, [])
        logs.extend(data["message"] for kind, data in events if kind == "log")

    def publish_six_step_plan(
        self, plan_id: str, until: str, pause: float = 0.05, server: str | None = None
    ) -> int:
        """Publish the six-step plan's next events through checkpoint ``until``, one
        POST per event with ``pause`` seconds between them, to ``server`` (a base URL;
        default: the suite's); return how many were sent."""
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
            self._publish(plan_id, [(kind, data)], server)
        self._script_positions[plan_id] = end
        return end - start

    def publish_hostile_plan(self, plan_id: str) -> dict[str, str]:
        """A plan whose step name, step error and log message carry HTML and ANSI escapes;
        return those texts (``step_name``, ``step_error``, ``message``)."""
        plan, texts = hostile_plan()
        self._publish(plan_id, plan, None)
        return texts

    def publish_large_plan(self, plan_id: str, events: int = 1000) -> dict[str, int]:
        """Publish an ``events``-event plan (lists of 100); return its ``events``,
        ``log_lines`` and ``steps`` counts."""
        plan = large_plan(int(events))
        for start in range(0, len(plan), _PUBLISH_CHUNK):
            self._publish(plan_id, plan[start : start + _PUBLISH_CHUNK], None)
        logs = sum(1 for kind, _ in plan if kind == "log")
        steps = sum(
            1 for kind, data in plan if kind == "step.status" and data["status"] == "running"
        )
        return {"events": len(plan), "log_lines": logs, "steps": steps}

    def published_event_count(self, plan_id: str) -> int:
        """How many events were published to ``plan_id``."""
        return self._published_counts.get(plan_id, 0)

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
        self._browser().mark_console_start()

    @staticmethod
    def origin_pattern(url: str) -> str:
        """``host:port`` of ``url`` as a regexp, for Chromium's network lines about it."""
        return re.escape(urlsplit(url).netloc)

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
        """Bytes received since the measurement started and the JS heap after a GC,
        written to ``build/dashboard/cost.json``.

        Bytes: the WebSocket frames' payloads (``Network.webSocketFrameReceived``)
        plus every HTTP response as received, headers included
        (``Network.loadingFinished`` ``encodedDataLength``), split into the API
        (``/v1/...``) and the page's own files. Heap: ``Runtime.getHeapUsage`` after
        ``HeapProfiler.collectGarbage`` (V8's used size; Blink's own, DOM included,
        as ``embedder_heap_used_bytes``).
        """
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
            "embedder_heap_used_bytes": int(heap.get("embedderHeapUsedSize", 0)),
            "dom_elements": int(self._script("return document.getElementsByTagName('*').length;")),
        }
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        (BUILD_DIR / "cost.json").write_text(json.dumps(cost, indent=2) + "\n", encoding="utf-8")
        logger.info(f"page cost of a {events}-event plan: {json.dumps(cost)}", also_console=True)
        return cost
