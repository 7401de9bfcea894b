"""``planstream publish``: append events to a plan over HTTP (protocol §6).

``planstream publish PLAN KIND --data JSON`` publishes one event;
``planstream publish PLAN --stdin`` publishes one event per JSON line
(``{"kind": ..., "data": {...}}``) as each line is read, so a running job can
pipe its progress in. The first bad line stops the command, naming the line.

``--idempotency-key KEY`` makes a rerun harmless (protocol §6): the event is
sent with ``Idempotency-Key: KEY`` (line N of ``--stdin`` with ``KEY.N``), so
what the server already appended is answered again, not appended twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from planstream.cli.failures import EXIT_OK, CommandError
from planstream.cli.http_api import ServerApi
from planstream.cli.terminal import printable

__all__ = ["parse_event_line", "parse_json_object", "run_publish"]


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """Parse ``text`` as a JSON object, or fail naming ``what``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(value, dict):
        raise CommandError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def parse_event_line(line: str, number: int) -> dict[str, Any]:
    """One ``--stdin`` line: ``{"kind": "...", "data": {...}}``."""
    what = f"stdin line {number}"
    event = parse_json_object(line, what)
    kind, data = event.get("kind"), event.get("data")
    if not isinstance(kind, str) or not kind:
        raise CommandError(f'{what} needs "kind": a non-empty string')
    if not isinstance(data, dict):
        raise CommandError(f'{what} needs "data": a JSON object')
    return {"kind": kind, "data": data}


def _publish_one(
    api: ServerApi, plan_id: str, event: dict[str, Any], out: IO[str], key: str | None
) -> None:
    (placed,) = api.publish(plan_id, event, idempotency_key=key).events
    line = f"published {event['kind']} to {plan_id} as seq {placed.seq} ({placed.event_id})"
    out.write(printable(line) + "\n")
    out.flush()


def run_publish(
    api: ServerApi,
    plan_id: str,
    *,
    kind: str | None,
    data: str | None,
    lines: Iterable[str] | None,
    out: IO[str],
    idempotency_key: str | None = None,
) -> int:
    """The ``publish`` command; returns the exit status."""
    if not plan_id.strip():
        raise CommandError("PLAN_ID must not be blank")
    if lines is not None:
        if kind is not None or data is not None:
            raise CommandError("--stdin reads kind and data from each line: give no KIND or --data")
        published = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            before = f"{published} events published before it"
            try:
                event = parse_event_line(line, number)
            except CommandError as exc:
                raise CommandError(f"{exc} ({before})") from None
            try:
                key = None if idempotency_key is None else f"{idempotency_key}.{number}"
                _publish_one(api, plan_id, event, out, key)
            except CommandError as exc:
                if exc.http_status == 400:  # the server found the line's event invalid
                    raise CommandError(f"stdin line {number}: {exc} ({before})") from None
                raise CommandError(f"{exc} (at stdin line {number}; {before})") from None
            published += 1
        if not published:
            raise CommandError("--stdin had no events to publish")
        return EXIT_OK
    if kind is None or data is None:
        raise CommandError("give KIND and --data JSON, or --stdin with JSON lines")
    event = {"kind": kind, "data": parse_json_object(data, "--data")}
    _publish_one(api, plan_id, event, out, idempotency_key)
    return EXIT_OK
