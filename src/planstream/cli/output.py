"""Where a watch goes: a rich live view, plain lines, or JSON lines.

:func:`choose_output` picks the live view when stdout is an interactive
terminal (rich's own detection: ``Console(force_terminal=None)``) and plain
lines otherwise, so ``planstream watch ... | tee log`` stays readable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import IO, Protocol

from rich.console import Console
from rich.live import Live

from planstream.cli.terminal import printable
from planstream.cli.tracking import ConnectionTracker, LogLine, PlanTracker
from planstream.cli.view import describe_item, render_view
from planstream.client.stats import ClientStats
from planstream.codec import encode_frame
from planstream.delivery import Delivery, Resync

__all__ = ["JsonOutput", "LiveOutput", "PlainOutput", "WatchOutput", "choose_output"]

#: Seconds between two renders of the live view at most (it also re-renders
#: on this tick to show the counters move).
LIVE_REFRESH_S = 0.1


class WatchOutput(Protocol):
    """What a watch reports to; every method returns quickly."""

    def item(self, plan: PlanTracker, item: Delivery, notices: Sequence[str]) -> None:
        """A plan delivered ``item`` (already folded into ``plan``)."""

    def notices(self, notices: Sequence[str]) -> None:
        """The connection changed (notices may be empty)."""

    def tick(self) -> None:
        """Called every ``LIVE_REFRESH_S`` while the watch runs."""

    def close(self) -> None:
        """The watch ended: leave the final state on screen."""


def _write_line(stream: IO[str], line: str) -> None:
    stream.write(line + "\n")
    stream.flush()  # one line at a time: a pipe reader sees it now


class PlainOutput:
    """One line per event and per connection change."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def item(self, plan: PlanTracker, item: Delivery, notices: Sequence[str]) -> None:
        self.notices(notices)
        _write_line(self.stream, describe_item(item))

    def notices(self, notices: Sequence[str]) -> None:
        for line in notices:  # they quote errors, and errors quote the server
            _write_line(self.stream, printable(line))

    def tick(self) -> None:
        """Nothing to redraw."""

    def close(self) -> None:
        """Nothing to leave on screen."""


class JsonOutput:
    """One JSON object per event (its wire form), ``{"resync": {...}}`` per marker."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def item(self, plan: PlanTracker, item: Delivery, notices: Sequence[str]) -> None:
        if isinstance(item, Resync):
            marker = item.model_dump(mode="json", by_alias=True, exclude={"type"})
            line = json.dumps({"resync": marker}, separators=(",", ":"))
        else:
            line = encode_frame(item)
        _write_line(self.stream, line)

    def notices(self, notices: Sequence[str]) -> None:
        """Connection notices are not events: stdout stays pure JSON."""

    def tick(self) -> None:
        """Nothing to redraw."""

    def close(self) -> None:
        """Nothing to leave on screen."""


class LiveOutput:
    """The rich live view, redrawn on every tick."""

    def __init__(
        self,
        console: Console,
        title: str,
        plans: Sequence[PlanTracker],
        logs: Sequence[LogLine],
        connection: ConnectionTracker,
        stats: Callable[[], ClientStats],
    ) -> None:
        self.console = console
        self.title = title
        self.plans = plans
        self.logs = logs
        self.connection = connection
        self.stats = stats
        self._live = Live(
            console=console,
            auto_refresh=False,  # redrawn from the event loop: no thread reads our state
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._started = False

    def _render(self) -> None:
        if not self._started:
            self._live.start()
            self._started = True
        view = render_view(self.title, self.plans, self.logs, self.stats(), self.connection)
        self._live.update(view, refresh=True)

    def item(self, plan: PlanTracker, item: Delivery, notices: Sequence[str]) -> None:
        """Shown at the next tick (at most ``LIVE_REFRESH_S`` later)."""

    def notices(self, notices: Sequence[str]) -> None:
        self._render()

    def tick(self) -> None:
        self._render()

    def close(self) -> None:
        self._render()
        self._live.stop()


def choose_output(
    *,
    as_json: bool,
    title: str,
    plans: Sequence[PlanTracker],
    logs: Sequence[LogLine],
    connection: ConnectionTracker,
    stats: Callable[[], ClientStats],
    console: Console | None = None,
    stream: IO[str] | None = None,
) -> WatchOutput:
    """JSON lines if asked, else the live view on a terminal, else plain lines."""
    console = console if console is not None else Console(force_terminal=None)
    out = stream if stream is not None else console.file
    if as_json:
        return JsonOutput(out)
    if console.is_interactive:
        return LiveOutput(console, title, plans, logs, connection, stats)
    return PlainOutput(out)
