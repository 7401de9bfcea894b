"""Raw HTTP/1.1 GETs for the dashboard's serving checks, over real sockets.

HTTP clients normalise a path before they send it (``/a/../b`` becomes
``/b``); a traversal check must send the bytes as written, so this sends
its own request line and reads the whole answer (``Connection: close``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["RawResponse", "raw_get"]


@dataclass(frozen=True)
class RawResponse:
    """One answer: status, headers (lower-case names; repeated ones joined), body."""

    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        head = "\n".join(f"{name}: {value}" for name, value in self.headers.items())
        return f"GET {self.path} -> {self.status}\n{head}\n\n{self.body[:300]!r}"


async def raw_get(
    base_url: str, path: str, headers: dict[str, str] | None = None, *, timeout: float = 15.0
) -> RawResponse:
    """``GET path`` (sent exactly as given) to the server of ``base_url``."""
    address = urlsplit(base_url)
    assert address.hostname is not None, base_url
    assert address.port is not None, base_url
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        try:
            lines = [f"GET {path} HTTP/1.1", f"Host: {address.netloc}", "Connection: close"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            await writer.drain()
            answer = await reader.read()
        finally:
            writer.close()
            await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        parsed[key] = f"{parsed[key]}, {value.strip()}" if key in parsed else value.strip()
    if "chunked" in parsed.get("transfer-encoding", ""):
        body = _unchunk(body)
    return RawResponse(path, int(status_line.split()[1]), parsed, body)


def _unchunk(body: bytes) -> bytes:
    chunks = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        chunks.append(rest[:size])
        body = rest[size + 2 :]
    return b"".join(chunks)
