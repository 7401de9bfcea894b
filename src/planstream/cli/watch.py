"""``planstream watch``: stream plans with the SDK into the live view, plain
lines or JSON lines, and exit with what happened to them.

:class:`PlanWatcher` is shared with ``planstream demo``: it owns the trackers
and the output, listens to the client's state changes, and streams every plan
until each one ends (a terminal status, unless following).
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Sequence
from typing import IO

from planstream.cli.endpoints import client_settings
from planstream.cli.failures import EXIT_OK, EXIT_PLAN_FAILED, CommandError
from planstream.cli.output import LIVE_REFRESH_S, WatchOutput, choose_output
from planstream.cli.plan_check import note_unknown_plan, subscription
from planstream.cli.terminal import printable
from planstream.cli.tracking import DEFAULT_LOG_LINES, ConnectionTracker, LogLine, PlanTracker
from planstream.client.client import PlanStreamClient
from planstream.client.stats import ClientStats, StateChange
from planstream.errors import ConnectTimeoutError, PlanStreamError
from planstream.schema.events import PlanStatus
from planstream.settings import ClientSettings

__all__ = ["PlanWatcher", "exit_status", "run_watch"]


class PlanWatcher:
    """Streams plans from a client into trackers and an output.

    Create it before entering the client, so it sees the first connect.
    """

    def __init__(
        self,
        client: PlanStreamClient,
        plan_ids: Sequence[str],
        *,
        title: str,
        as_json: bool = False,
        output: WatchOutput | None = None,
        state_log: IO[str] | None = None,
    ) -> None:
        self.client = client
        # --json keeps stdout for events; the connection's story goes to stderr.
        self.state_log = state_log if state_log is not None else (sys.stderr if as_json else None)
        self.logs: deque[LogLine] = deque(maxlen=DEFAULT_LOG_LINES)
        self.plans = [PlanTracker(plan_id, logs=self.logs) for plan_id in plan_ids]
        self.connection = ConnectionTracker(self.plans)
        self.output = output or choose_output(
            as_json=as_json,
            title=title,
            plans=self.plans,
            logs=self.logs,
            connection=self.connection,
            stats=self.stats,
        )
        client.on_state_change(self._state_changed)

    def __repr__(self) -> str:
        return f"PlanWatcher(plans={[plan.plan_id for plan in self.plans]})"

    def stats(self) -> ClientStats:
        """The client's counters now."""
        return self.client.stats

    def _state_changed(self, change: StateChange) -> None:
        if self.state_log is not None:
            # One line per change, reason and retry delay included: an outage
            # is never silent, even when stdout is pure JSON.
            self.state_log.write(f"planstream: connection {printable(str(change))}\n")
            self.state_log.flush()
        self.output.notices(self.connection.change(change))

    async def run(
        self,
        *,
        last_event_id: str | None = None,
        follow: bool = False,
        must_exist: bool = False,
        note_unknown: bool = False,
    ) -> None:
        """Wait for the connection, then stream every plan until each ends.

        ``must_exist``: fail for a plan the server does not know; else, with
        ``note_unknown``, say once on stderr that the watch waits for it.

        Raises:
            ExceptionGroup: of :class:`CommandError` when there is no
                connection within the client's ``connect_timeout`` or the
                server refused us; of :class:`~planstream.errors.PlanStreamError`
                when a stream failed for good (``run_command`` reports the first).
        """
        try:
            async with asyncio.TaskGroup() as tasks:
                ticker = tasks.create_task(self._tick())
                try:
                    await self._wait_open()
                    async with asyncio.TaskGroup() as streams:
                        for plan in self.plans:
                            streams.create_task(
                                self._stream(plan, last_event_id, follow, must_exist)
                            )
                            if note_unknown and not must_exist:
                                streams.create_task(note_unknown_plan(self.client, plan.plan_id))
                finally:
                    ticker.cancel()
        finally:
            self.output.close()

    async def _wait_open(self) -> None:
        url = _servers(self.client.settings)
        try:
            await self.client.wait_open()  # bounded by the settings' connect_timeout
        except ConnectTimeoutError as exc:
            why = exc.last_error or "no answer"
            raise CommandError(
                f"cannot reach {url}: {why} (gave up after {exc.timeout:g} s)"
            ) from None
        except PlanStreamError as exc:
            raise CommandError(f"{url}: {exc}") from exc

    async def _stream(
        self, plan: PlanTracker, last_event_id: str | None, follow: bool, must_exist: bool
    ) -> None:
        output, connection = self.output, self.connection
        async with subscription(
            self.client,
            plan.plan_id,
            last_event_id=last_event_id,
            follow=follow,
            must_exist=must_exist,
        ) as stream:
            async for item in stream:
                notices = plan.apply(item)
                connection.note(notices)
                output.item(plan, item, notices)
            if stream.already_ended is not None:  # --from was the plan's last event
                notices = plan.ended_before(stream.already_ended)
                connection.note(notices)
                output.notices(notices)

    async def _tick(self) -> None:
        while True:
            self.output.tick()
            await asyncio.sleep(LIVE_REFRESH_S)


def _servers(settings: ClientSettings) -> str:
    """The server, or the first node and how many more, for titles and errors."""
    first, *others = settings.endpoints
    return f"{first} (+{len(others)} more)" if others else first


def exit_status(plans: Sequence[PlanTracker]) -> int:
    """0 when every plan succeeded, else 1 (failed, cancelled or unfinished)."""
    if all(plan.status is PlanStatus.SUCCEEDED for plan in plans):
        return EXIT_OK
    return EXIT_PLAN_FAILED


async def run_watch(
    plan_ids: Sequence[str],
    *,
    url: str | Sequence[str],
    token: str | None,
    last_event_id: str | None,
    follow: bool,
    as_json: bool,
    connect_timeout: float | None,
    ca_file: str | None = None,
    url_given: bool = True,
    must_exist: bool = False,
    debug_frames: bool = False,
) -> int:
    """The ``watch`` command: stream, show, and return the exit status.

    ``url``: one server, or several nodes sharing one event log;
    ``connect_timeout``: ``ClientSettings.connect_timeout`` (0: wait for ever;
    None: the SDK's, from ``PLANSTREAM_CONNECT_TIMEOUT`` or its default);
    ``debug_frames``: log every frame on stderr (``--debug-frames``; without it
    ``PLANSTREAM_DEBUG_FRAMES`` decides).
    """
    if last_event_id is not None and len(plan_ids) != 1:
        raise CommandError("--from needs exactly one PLAN_ID (an event id belongs to one plan)")
    settings = client_settings(
        url, token, ca_file, url_given=url_given, connect_timeout=connect_timeout
    )
    if debug_frames:
        settings = settings.model_copy(update={"debug_frames": True})
    client = PlanStreamClient(settings=settings)
    names = ", ".join(plan_ids)
    watcher = PlanWatcher(
        client, plan_ids, title=f"planstream watch {names} · {_servers(settings)}", as_json=as_json
    )
    async with client:
        await watcher.run(
            last_event_id=last_event_id,
            follow=follow,
            must_exist=must_exist,
            note_unknown=True,
        )
    return exit_status(watcher.plans)
