"""Helpers of secrets_and_terminals.feature and tls.feature.

* :class:`LogCapture` - every record of every logger, formatted with its
  traceback, while the root logger is at DEBUG (as an application might set it);
* :func:`stream_plan` - the SDK streaming one plan to its end, with everything
  it showed (exceptions, reprs, state-change errors) kept as text;
* :func:`start_hostile_http_server` - a real HTTP server (raw asyncio) that
  lists a plan named with terminal escapes and refuses everything else with
  an error message full of them;
* :class:`TlsFiles` - a CA and certificates made by trustme, written as PEM files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme

from planstream import ClientSettings, PlanStreamClient, StateChange
from support.servers import on_cleanup

#: What the scenarios publish in every human-readable field: an OSC title,
#: a clear screen and a right-to-left override.
ESCAPES = "\x1b]0;TITLE\x07\x1b[2J\u202e"
#: How printable() shows ESCAPES.
ESCAPES_SHOWN = "\\x1b]0;TITLE\\x07\\x1b[2J\\u202e"


def escaping_plan_events() -> list[dict[str, Any]]:
    """A failed plan whose reason, step name, step error and log message carry ESCAPES."""
    return [
        {"kind": "plan.status", "data": {"status": "running", "reason": "go" + ESCAPES}},
        {
            "kind": "step.status",
            "data": {
                "step_id": "s1",
                "index": 0,
                "name": "build" + ESCAPES,
                "status": "failed",
                "error": "boom" + ESCAPES,
            },
        },
        {
            "kind": "log",
            "data": {
                "level": "info",
                "message": "hello" + ESCAPES,
                "step_id": "s1",
                "stream": "stdout",
            },
        },
        {"kind": "plan.status", "data": {"status": "failed", "reason": "why" + ESCAPES}},
    ]


class LogCapture(logging.Handler):
    """Every record reaching the root logger, formatted (traceback included)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self._root_level = logging.getLogger().level

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def __enter__(self) -> LogCapture:
        root = logging.getLogger()
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._root_level)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class StreamOutcome:
    """What one SDK stream delivered and every text it showed."""

    seqs: list[int] = field(default_factory=list)
    error: BaseException | None = None
    failures: list[str] = field(default_factory=list)
    retries: int = 0
    texts: list[str] = field(default_factory=list)


async def stream_plan(
    plan_id: str,
    *,
    settings: ClientSettings,
    seconds: float = 10.0,
    **client_options: Any,
) -> StreamOutcome:
    """Stream ``plan_id`` to its end (or its failure) and keep every text shown."""
    outcome = StreamOutcome()

    def changed(change: StateChange) -> None:
        if change.error is not None:
            outcome.failures.append(str(change.error))
        if change.retry_in is not None:
            outcome.retries += 1
        outcome.texts.append(repr(change))

    client = PlanStreamClient(settings=settings, on_state_change=changed, **client_options)
    outcome.texts += [repr(client), repr(settings), str(settings), repr(settings.model_dump())]
    try:
        async with asyncio.timeout(seconds), client, client.subscribe(plan_id) as subscription:
            outcome.texts.append(repr(subscription))
            async for item in subscription:
                outcome.seqs.append(item.seq if hasattr(item, "seq") else -1)
    except Exception as exc:
        outcome.error = exc
        outcome.texts += [str(exc), repr(exc), str(exc.__cause__), repr(exc.__cause__)]
    outcome.texts += [repr(client), repr(client.stats)]
    return outcome


# --- a hostile HTTP server -----------------------------------------------------------


def _http_answer(status: int, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


async def _answer_hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        request = await reader.readuntil(b"\r\n\r\n")
        if request.startswith(b"GET /v1/plans "):
            plan = {"plan_id": "p" + ESCAPES, "status": None, "head": None, "updated_at": None}
            writer.write(_http_answer(200, {"plans": [plan], "next_cursor": None}))
        else:  # the WebSocket upgrade included
            message = "\x1b]0;PWNED\x07 go away \x1b[2J"
            writer.write(_http_answer(403, {"error": "forbidden", "message": message}))
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


def start_hostile_http_server(context: Any) -> int:
    """Start the hostile server in the scenario's loop; return its port."""
    server = context.loop.run_until_complete(asyncio.start_server(_answer_hostile, "127.0.0.1", 0))

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    on_cleanup(context, stop)
    port: int = server.sockets[0].getsockname()[1]
    return port


# --- TLS files -----------------------------------------------------------------------


class TlsFiles:
    """A trustme CA, a server certificate for ``hosts`` and a client one, as PEM files."""

    def __init__(self, *hosts: str) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="planstream-tls-"))
        self.ca = trustme.CA()
        server = self.ca.issue_cert(*hosts)
        self.ca_file = self._write("ca.pem", self.ca.cert_pem.bytes())
        self.server_cert = self._write(
            "server.pem", b"".join(blob.bytes() for blob in server.cert_chain_pems)
        )
        self.server_key = self._write("server.key", server.private_key_pem.bytes())
        client = self.ca.issue_cert("planstream-client@example.com")
        self.client_cert = self._write("client.pem", client.cert_chain_pems[0].bytes())
        self.client_key = self._write("client.key", client.private_key_pem.bytes())
        self.other_ca_file = self._write("other-ca.pem", trustme.CA().cert_pem.bytes())
        self.text_file = self._write("not-pem.txt", b"not a certificate\n")

    def _write(self, name: str, data: bytes) -> str:
        path = self.directory / name
        path.write_bytes(data)
        return str(path)

    def context(self) -> ssl.SSLContext:
        """An SSLContext trusting the CA, built the way a user would."""
        return ssl.create_default_context(cafile=self.ca_file)
