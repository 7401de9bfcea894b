"""Issue 10, items 1, 2, 5 and 6 measured: the HTTP half of the server under hostile input.

Runs ``python -m planstream.server`` (whatever planstream this interpreter
imports, so the same script measures the code before and after a change) and
prints, per request, the status, the content type and the start of the body;
the server's RSS for 3,000 finished plans, after their ``plan_ttl`` (15 s
here) and after 3,000 more; the 429s of a token past its publish rate (a
second server with ``publish_rate=5``, ``publish_burst=10``); and the size of
the server's log and the tracebacks in it. Takes about a minute::

    python benchmarks/hostile_http.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

TOKEN = "measure-publisher"
BULK_TOKEN = "measure-bulk-publisher"
LOG_LINE = {"kind": "log", "data": {"level": "info", "message": "m", "stream": "stdout"}}
WIDTH = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def status(value: str) -> dict[str, Any]:
    return {"kind": "plan.status", "data": {"status": value}}


def step(index: int) -> dict[str, Any]:
    data = {"step_id": "s", "index": index, "name": "n", "status": "running"}
    return {"kind": "step.status", "data": data}


def progress(completed: int, total: int) -> dict[str, Any]:
    data = {"completed_steps": completed, "total_steps": total, "percent": 1}
    return {"kind": "plan.progress", "data": data}


def show(label: str, send: Callable[[], httpx.Response]) -> None:
    try:
        response = send()
    except httpx.TransportError as exc:
        print(f"{label:{WIDTH}} transport error {exc!r}")
        return
    kind = response.headers.get("content-type", "-")
    retry = response.headers.get("retry-after")
    extra = f" Retry-After={retry}" if retry else ""
    body = response.text[:110].replace("\n", " ")
    print(f"{label:{WIDTH}} {response.status_code} [{kind}]{extra} {body}")


def figure(label: str, text: str) -> None:
    print(f"{label:{WIDTH}} {text}")


def requests(http: httpx.Client, rows: list[tuple[str, str, str, Any]]) -> None:
    """Each row: label, method, path, and the query (GET) or JSON body (POST)."""
    for label, method, path, extra in rows:
        if method == "GET":
            show(label, lambda path=path, extra=extra: http.get(path, params=extra))
        else:
            show(label, lambda path=path, extra=extra: http.post(path, json=extra))


class Server:
    """``python -m planstream.server`` on a free port, its output in a temporary file."""

    def __init__(self, **settings: str) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLANSTREAM_SERVER_")}
        env["PLANSTREAM_SERVER_PORT"] = str(self.port)
        env |= {f"PLANSTREAM_SERVER_{key.upper()}": value for key, value in settings.items()}
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log")  # noqa: SIM115
        command = [sys.executable, "-m", "planstream.server"]
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def client(self, token: str) -> httpx.Client:
        # No keep-alive: after a 500 the server drops the connection.
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        for _ in range(300):
            try:
                if http.get("/healthz").status_code == 200:
                    return http
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(15)
        self.log.seek(0)
        text = self.log.read()
        self.log.close()
        return text


def ids_and_bodies(http: httpx.Client) -> None:
    print("== items 1-2: ids and bodies over HTTP")
    answer = http.post("/v1/plans/p/events", json=LOG_LINE).json()
    prefix = answer["events"][0]["event_id"].rpartition(".")[0]
    events, long_id = "/v1/plans/p/events", "x" * 300
    requests(
        http,
        [
            ("after=<prefix>.<5000 digits>", "GET", events, {"after": f"{prefix}.{'9' * 5000}"}),
            ("after=<prefix>.² (non-ASCII digit)", "GET", events, {"after": f"{prefix}.²"}),
            ("after=<200 chars>", "GET", events, {"after": "x" * 200}),
            ("GET /v1/plans/a%2Fb/events", "GET", "/v1/plans/a%2Fb/events", {}),
            ("GET /v1/plans/a/b/events", "GET", "/v1/plans/a/b/events", {}),
            ("POST /v1/plans/a%2Fb/events", "POST", "/v1/plans/a%2Fb/events", LOG_LINE),
            ("POST /v1/plans/%20/events (blank)", "POST", "/v1/plans/%20/events", LOG_LINE),
            ("POST /v1/plans/a%00b/events (NUL)", "POST", "/v1/plans/a%00b/events", LOG_LINE),
            ("POST /v1/plans/<300 x>/events", "POST", f"/v1/plans/{long_id}/events", LOG_LINE),
            ("GET /v1/plans/<300 x>", "GET", f"/v1/plans/{long_id}", {}),
        ],
    )
    huge = b"[" + b" " * (9 << 20) + b"]"
    show("POST body of 9 MiB", lambda: http.post(events, content=huge))


def finished_plans(http: httpx.Client) -> None:
    print("== item 5: a finished plan, bounds")
    done, bounds = "/v1/plans/done/events", "/v1/plans/b/events"
    ended = [status("failed"), LOG_LINE]
    requests(
        http,
        [
            ("POST succeeded", "POST", done, status("succeeded")),
            ("POST running after succeeded", "POST", done, status("running")),
            ("GET snapshot after that", "GET", "/v1/plans/done", {}),
            ("POST [failed, log] (a log after the end)", "POST", "/v1/plans/d2/events", ended),
            ("POST step index 2**63", "POST", bounds, step(2**63)),
            ("POST step index -1", "POST", bounds, step(-1)),
            ("POST progress 10**30 of 10**30", "POST", bounds, progress(10**30, 10**30)),
            ("POST progress 5 of 2", "POST", bounds, progress(5, 2)),
        ],
    )


def rate_limits() -> None:
    server = Server(publish_tokens=f"{TOKEN},{BULK_TOKEN}", publish_rate="5", publish_burst="10")
    try:
        for token in (TOKEN, BULK_TOKEN):
            http = server.client(token)
            codes: dict[int, int] = {}
            for _ in range(100):
                code = http.post("/v1/plans/rate/events", json=LOG_LINE).status_code
                codes[code] = codes.get(code, 0) + 1
            figure(f"100 POSTs back to back, {token} (5/s, burst 10)", str(codes))
            requests(http, [("one more", "POST", "/v1/plans/rate/events", LOG_LINE)])
            http.close()
    finally:
        server.stop()


def plan_memory(server: Server, http: httpx.Client) -> None:
    print("== item 6: 3,000 finished plans, pagination")
    events = [status("running"), *[LOG_LINE] * 3, status("succeeded")]
    before = rss_kib(server.process.pid)
    for n in range(3000):
        http.post(f"/v1/plans/plan-{n}/events", json=events)
    loaded = rss_kib(server.process.pid)
    figure(
        "RSS before / after 3,000 finished plans", f"{before} / {loaded} KiB (+{loaded - before})"
    )
    time.sleep(17)
    later = rss_kib(server.process.pid)
    held = http.get("/v1/status").json()["plans"]
    figure("RSS 17 s later (plan_ttl=15 s)", f"{later} KiB; plans held: {held}")
    for n in range(3000, 6000):
        http.post(f"/v1/plans/plan-{n}/events", json=events)
    again = rss_kib(server.process.pid)
    held = http.get("/v1/status").json()["plans"]
    figure("RSS after 3,000 more finished plans", f"{again} KiB (+{again - later}); held: {held}")
    show("GET /v1/plans/plan-0 after the ttl", lambda: http.get("/v1/plans/plan-0"))
    page = http.get("/v1/plans", params={"limit": 2}).json()
    cursor = page.get("next_cursor", "absent")
    figure("GET /v1/plans?limit=2", f"{len(page['plans'])} plans, next_cursor={cursor!r}")


def main() -> None:
    # A publish rate far above this script's, so only the rate_limits() server limits.
    server = Server(publish_tokens=TOKEN, plan_ttl="15", publish_rate="100000")
    try:
        http = server.client(TOKEN)
        ids_and_bodies(http)
        finished_plans(http)
        rate_limits()
        plan_memory(server, http)
        http.close()
    finally:
        text = server.stop()
        lines, size = len(text.splitlines()), len(text.encode())
        print(f"== server log: {lines} lines, {size} bytes; tracebacks: {text.count('Traceback')}")


if __name__ == "__main__":
    main()
