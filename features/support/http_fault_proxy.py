"""A real HTTP proxy on 127.0.0.1 that plays faults in front of the reference server.

:class:`HttpFaultProxy` reads each request (one per connection: every answer
it gives closes the connection), records it (method, path, headers, body,
arrival time) and does what its script says for that request, in order, then
``forward`` for every later one:

* ``forward``: send it to the upstream server and pass the answer back;
* ``withhold``: send it upstream (the server does the work) and never answer:
  the connection stays open and silent, so the client times out;
* ``drop``: send it upstream, read the answer, and close the client's
  connection without a byte of it (a lost answer);
* ``STATUS [Retry-After]``, e.g. ``429 1`` or ``503``: answer that status
  with a planstream error body, without asking upstream;
* ``created-nothing``: answer ``201 {"events": []}`` (no position for the
  events sent: not a planstream answer).
"""

from __future__ import annotations

import asyncio
import http
import json
import time
from dataclasses import dataclass, field

from support.scripted_servers import HEAD_LIMIT, ScriptedTcpServer, answer_http

__all__ = ["HttpFaultProxy", "ProxiedRequest"]

_ERROR_CODES = {429: "rate_limited", 503: "unavailable", 502: "bad_gateway", 500: "internal"}


@dataclass
class ProxiedRequest:
    """One request as the proxy saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float = field(default_factory=time.monotonic)


class HttpFaultProxy(ScriptedTcpServer):
    """Plays ``script`` (one action per request, in order) in front of ``upstream_port``."""

    def __init__(self, upstream_port: int, script: list[str] | None = None) -> None:
        super().__init__()
        self.upstream_port = upstream_port
        self.script = list(script or [])
        self.requests: list[ProxiedRequest] = []
        self._held = asyncio.Event()  # never set: withheld answers wait for stop()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > HEAD_LIMIT:
                return
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _version = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append(ProxiedRequest(method, path, headers, body))
            action = self.script.pop(0) if self.script else "forward"
            await self._play(action, method, path, headers, body, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _play(
        self,
        action: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        writer: asyncio.StreamWriter,
    ) -> None:
        if action == "created-nothing":
            await answer_http(writer, 201, b'{"events":[]}')
            return
        if action[0].isdigit():
            status, *retry_after = action.split()
            code = int(status)
            extra = "".join(f"Retry-After: {seconds}\r\n" for seconds in retry_after)
            payload = json.dumps(
                {"error": _ERROR_CODES.get(code, "bad_request"), "message": f"scripted {code}"}
            ).encode()
            writer.write(
                f"HTTP/1.1 {code} {http.HTTPStatus(code).phrase}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                f"{extra}Connection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
            return
        answer = await self._upstream(method, path, headers, body)
        if action == "forward":
            writer.write(answer)
            await writer.drain()
        elif action == "withhold":
            await self._held.wait()  # until the proxy stops
        # "drop": the answer is read and thrown away; closing says nothing more

    async def _upstream(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            lines = [f"{method} {path} HTTP/1.1"]
            lines += [f"{name}: {value}" for name, value in headers.items() if name != "connection"]
            lines.append("Connection: close")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            return await reader.read()  # the answer, to the upstream's close
        finally:
            writer.close()
