"""``planstream demo``: a reference server, a simulated plan and a live watch,
all in one process.

The demo starts :class:`~planstream.server.PlanStreamServer` on a free
loopback port, publishes a scripted multi-step plan over a few seconds and
watches it with :class:`~planstream.PlanStreamClient`. With ``--chaos`` the
server drops every connection a few times mid-plan (close 1012, a service
restart) and the view shows the client reconnect and resume. The summary is
computed, not asserted: the sequence numbers received are compared with the
ones the server assigned on publish.

The server also serves the browser dashboard; its URL is printed before the
plan starts. Anyone who reaches the loopback port may read (the page needs no
token) and nobody may publish over the network: the demo publishes in-process.
With ``open_browser`` the page is opened in the default browser
(:func:`webbrowser.open`, which honours ``$BROWSER``); with it or
``keep_serving`` the server stays up after the plan, until SIGTERM or Ctrl-C,
so the page still shows the finished plan.
"""

from __future__ import annotations

import asyncio
import errno
import webbrowser
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from planstream.cli.failures import EXIT_OK, EXIT_PLAN_FAILED
from planstream.cli.tracking import PlanTracker
from planstream.cli.watch import PlanWatcher
from planstream.client.client import PlanStreamClient
from planstream.client.stats import ClientStats
from planstream.close_codes import CloseCode
from planstream.server.auth import PlanScope, Principal
from planstream.server.runner import PlanStreamServer, stop_signals
from planstream.server.settings import ServerSettings
from planstream.settings import ClientSettings

__all__ = [
    "DEMO_PLAN_ID",
    "DEMO_STEPS",
    "DemoReaders",
    "DemoStep",
    "DemoSummary",
    "ScriptEntry",
    "demo_script",
    "run_demo",
]

DEMO_PLAN_ID = "demo-release"
#: Seconds the demo plan takes by default.
DEFAULT_SECONDS = 6.0
#: Drops with ``--chaos``, at these fractions of the script.
CHAOS_AT = (0.3, 0.55, 0.8)


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One step of the simulated plan and the log lines it prints."""

    step_id: str
    name: str
    logs: tuple[str, ...]


DEMO_STEPS = (
    DemoStep("checkout", "Check out sources", ("fetching origin", "HEAD is now at 4f2c9e1")),
    DemoStep(
        "deps",
        "Install dependencies",
        ("resolving 42 packages", "downloading wheels", "installed 42 packages"),
    ),
    DemoStep("lint", "Lint", ("ruff check: all checks passed", "mypy --strict: no issues")),
    DemoStep(
        "test",
        "Run tests",
        ("collected 318 scenarios", "slow scenario: resume after restart (2.1 s)", "318 passed"),
    ),
    DemoStep("build", "Build wheel", ("building planstream-0.1.0", "wrote dist/ (84 kB)")),
    DemoStep(
        "deploy", "Deploy to staging", ("uploading artifact", "health check ok", "traffic 100%")
    ),
)


@dataclass(frozen=True, slots=True)
class ScriptEntry:
    """One beat of the demo: publish ``kind``/``data`` after ``weight`` time units,
    or (``kind`` None) drop every connection."""

    weight: float
    kind: str | None
    data: dict[str, Any]


def _step(step: DemoStep, index: int, status: str) -> dict[str, Any]:
    return {"step_id": step.step_id, "index": index + 1, "name": step.name, "status": status}


def _log(message: str, step_id: str | None, level: str = "info") -> dict[str, Any]:
    return {"level": level, "message": message, "step_id": step_id, "stream": "stdout"}


def demo_script(
    steps: tuple[DemoStep, ...] = DEMO_STEPS, *, chaos: bool = False
) -> list[ScriptEntry]:
    """The simulated plan: queued, every step pending, then each step runs
    (logs, progress) and succeeds; with ``chaos``, drops in between."""
    total = len(steps)
    script = [ScriptEntry(0.0, "plan.status", {"status": "queued", "reason": None})]
    script += [ScriptEntry(0.0, "step.status", _step(s, i, "pending")) for i, s in enumerate(steps)]
    script.append(ScriptEntry(1.0, "plan.status", {"status": "running", "reason": None}))
    for index, step in enumerate(steps):
        script.append(ScriptEntry(0.5, "step.status", _step(step, index, "running")))
        script += [ScriptEntry(1.0, "log", _log(line, step.step_id)) for line in step.logs]
        script.append(ScriptEntry(0.5, "step.status", _step(step, index, "succeeded")))
        done = index + 1
        progress = {
            "completed_steps": done,
            "total_steps": total,
            "percent": round(100.0 * done / total, 1),
            "message": f"{step.name} done",
        }
        script.append(ScriptEntry(0.0, "plan.progress", progress))
    script.append(ScriptEntry(0.5, "log", _log("release 0.1.0 is on staging", None)))
    script.append(ScriptEntry(0.5, "plan.status", {"status": "succeeded", "reason": None}))
    if chaos:
        for fraction in sorted(CHAOS_AT, reverse=True):
            script.insert(round(len(script) * fraction), ScriptEntry(0.0, None, {}))
    return script


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo published and what its watcher received."""

    status: str
    published: tuple[int, ...]
    received: tuple[int, ...]
    stats: ClientStats
    drops: int

    @property
    def lost(self) -> int:
        """Published events never received."""
        return len(set(self.published) - set(self.received))

    @property
    def duplicated(self) -> int:
        """Events received more than once."""
        return len(self.received) - len(set(self.received))

    @property
    def ok(self) -> bool:
        """Succeeded, nothing lost, nothing twice, in order."""
        ordered = list(self.received) == sorted(set(self.received))
        return self.status == "succeeded" and not self.lost and not self.duplicated and ordered

    def line(self) -> str:
        """The closing line of the demo."""
        return (
            f"demo finished: plan {self.status}; {len(self.received)} events received, "
            f"{self.lost} lost, {self.duplicated} duplicated, {self.stats.reconnects} reconnects, "
            f"{self.stats.gaps_repaired} gaps repaired"
        )


class _DemoConsole(Console):
    """rich's console for the demo's own lines, where a reader that left
    (``planstream demo | head -2``) is a ``BrokenPipeError``: the CLI's quiet
    exit 141, as for every other line, not rich's own exit status 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError(errno.EPIPE, "the reader of stdout left")


class DemoReaders:
    """The demo server's token verifier: anyone may read, nobody may publish.

    The dashboard opens without a token, and the demo's own publishing does
    not go through HTTP (``PlanStreamServer.publish``).
    """

    async def verify(self, token: str | None) -> Principal | None:
        """Every caller, with or without a token, is a reader."""
        return Principal("demo-reader", read=PlanScope.everything())


async def _open_dashboard(url: str, console: Console) -> None:
    """Open ``url`` in the default browser; say so when none could be started."""
    # webbrowser may wait for the browser command ($BROWSER): not in the loop.
    if not await asyncio.to_thread(webbrowser.open, url):
        console.print(
            "dashboard: no browser could be started (set BROWSER to one); open the URL yourself",
            highlight=False,
            soft_wrap=True,
        )


async def _drop_connections(server: PlanStreamServer, client: PlanStreamClient) -> None:
    """Close every stream connection with 1012 (what a restarting server sends)."""
    # The client may be between two attempts: drop only a connection that is up
    # (the server registers a connection before it sends hello).
    async with asyncio.timeout(5.0):
        await client.wait_open()
    for connection in tuple(server.state.connections):
        connection.request_close(CloseCode.SERVICE_RESTART, "demo chaos: simulated restart")


async def _publish(
    server: PlanStreamServer, client: PlanStreamClient, script: list[ScriptEntry], seconds: float
) -> list[int]:
    """Play the script over ``seconds``; return the seqs the server assigned."""
    unit = seconds / max(sum(entry.weight for entry in script), 1e-9)
    published: list[int] = []
    for entry in script:
        await asyncio.sleep(entry.weight * unit)
        if entry.kind is None:
            await _drop_connections(server, client)
        else:
            stored = await server.publish(DEMO_PLAN_ID, entry.kind, entry.data)
            published.append(stored.seq)
    return published


async def run_demo(
    *,
    seconds: float = DEFAULT_SECONDS,
    chaos: bool = False,
    open_browser: bool = False,
    keep_serving: bool = False,
    console: Console | None = None,
) -> tuple[int, DemoSummary]:
    """Run the demo; return the exit status and the summary.

    Args:
        seconds: how long the simulated plan runs.
        chaos: drop every connection 3 times mid-plan.
        open_browser: open the dashboard in the default browser (implies
            ``keep_serving``).
        keep_serving: after the plan, serve until SIGTERM or SIGINT.
        console: where to print (default: stdout, live view on a terminal).
    """
    console = console if console is not None else _DemoConsole(force_terminal=None)
    settings = ServerSettings(host="127.0.0.1", port=0, dashboard=True)
    async with PlanStreamServer(settings, verifier=DemoReaders(), log_level="warning") as server:
        client = PlanStreamClient(
            settings=ClientSettings(
                url=server.url,
                connect_timeout=10.0,
                # quick but visible: the view shows "reconnecting…" for a moment
                reconnect={
                    "initial_delay": 0.25,
                    "max_delay": 1.0,
                    "jitter": "equal",
                    "reset_after": 0.5,  # each drop starts again from the first delay
                },
            )
        )
        title = f"planstream demo · server {server.url}" + (" · chaos" if chaos else "")
        watcher = PlanWatcher(client, [DEMO_PLAN_ID], title=title)
        console.print(
            f"planstream demo: reference server on {server.url}, plan {DEMO_PLAN_ID!r}"
            + (", chaos: the server drops every connection 3 times" if chaos else ""),
            highlight=False,
            soft_wrap=True,
        )
        dashboard = f"{server.http_url}/"
        console.print(f"dashboard: {dashboard}", highlight=False, soft_wrap=True)
        if open_browser:
            await _open_dashboard(dashboard, console)
        script = demo_script(chaos=chaos)
        async with client, asyncio.TaskGroup() as tasks:
            publisher = tasks.create_task(_publish(server, client, script, seconds))
            await watcher.run()
        published = publisher.result()
        plan: PlanTracker = watcher.plans[0]
        summary = DemoSummary(
            status=plan.status.value if plan.status else "unknown",
            published=tuple(published),
            received=tuple(plan.seqs),
            stats=client.stats,
            drops=watcher.connection.drops,
        )
        console.print(summary.line(), highlight=False, soft_wrap=True)
        if open_browser or keep_serving:
            with stop_signals() as stop:
                console.print(
                    f"dashboard: still serving {dashboard} with the finished plan; Ctrl-C stops it",
                    highlight=False,
                    soft_wrap=True,
                )
                await stop.wait()
    return (EXIT_OK if summary.ok else EXIT_PLAN_FAILED), summary
