"""frame_tap.feature's hostile server and the checks of the tap's lines.

:class:`TokenEchoServer` answers a ``subscribe`` with everything a support log
must survive: a frame of raw control characters, a long frame with the
client's token straddling the tap's cut, a binary frame, an ``error`` quoting
the token in each of its forms, then a close (1008) whose reason carries
control characters and the token.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from websockets.asyncio.server import ServerConnection

from planstream.transport.frame_tap import TEXT_CAP
from support.scripted_servers import ScriptedConnection, ScriptedStreamServer, now_utc

#: The raw text of the frame that tries to steer the terminal and forge a line.
STEERING = '{"type":"note","text":"\x1b]0;pwned\x07\x1b[2J \u202eevil\nforged line"}'
#: Characters after the token in the long frame.
TAIL = 3000
BINARY_SIZE = 300


def bearer_subprotocol(token: str) -> str:
    """protocol §2: the token's browser form."""
    return "planstream.bearer." + base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def token_forms(token: str) -> list[str]:
    """Every way the token could show: as itself, and base64url-encoded."""
    return [token, bearer_subprotocol(token).removeprefix("planstream.bearer.")]


class TokenEchoServer(ScriptedStreamServer):
    """A scripted server that echoes the client's token back (see the module doc)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.long_frame = ""

    async def _answer(
        self, websocket: ServerConnection, record: ScriptedConnection, frame: dict[str, Any]
    ) -> None:
        if frame.get("type") != "subscribe":
            await super()._answer(websocket, record, frame)
            return
        token = self.token
        await websocket.send(STEERING)
        prefix = f'{{"type":"heartbeat","ts":"{now_utc()}","heads":{{}},"pad":"'
        straddle = TEXT_CAP - len(prefix) - len(token) // 2  # the cut splits the token
        self.long_frame = prefix + "x" * straddle + token + "y" * TAIL + '"}'
        await websocket.send(self.long_frame)
        await websocket.send(bytes(BINARY_SIZE))
        message = (
            f"token {token} refused (Authorization: Bearer {token}; {bearer_subprotocol(token)})"
        )
        error = {"type": "error", "id": None, "plan_id": None, "code": "forbidden"}
        await websocket.send(json.dumps({**error, "message": message}))
        await websocket.close(1008, f"policy \x1b[2J {token}")


def frame_lines(stderr: str) -> list[str]:
    """The frame tap's lines of a program's stderr."""
    return [line for line in stderr.splitlines() if "planstream.frames " in line]
