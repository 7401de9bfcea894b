"""What the connection state machine tells the transport to do (pure data).

Each input of :class:`~planstream.connection_state.ConnectionStateMachine`
returns one of these actions; the asyncio transport
(:class:`~planstream.client.connection_driver.ConnectionDriver`) performs it. Times are absolute,
on the clock the machine was given. ``node`` is the index of the server URL
(``ClientSettings.endpoints``) to use: the machine picks it, the transport
only looks it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from planstream.errors import PlanStreamError

__all__ = [
    "Connect",
    "ConnectionAction",
    "RefreshTokenThenConnect",
    "StartPolling",
    "Stop",
    "StopPolling",
    "Wait",
]


@dataclass(frozen=True, slots=True)
class Connect:
    """Connect at time ``at``: a WebSocket upgrade and hello, or (``websocket``
    False) the next poll request; then report ``connected`` or ``failed``.
    ``node``: the server URL to use (its index)."""

    websocket: bool
    at: float
    node: int = 0


@dataclass(frozen=True, slots=True)
class RefreshTokenThenConnect:
    """Ask the token provider for a new token, then connect like :class:`Connect`."""

    websocket: bool
    at: float
    node: int = 0


@dataclass(frozen=True, slots=True)
class StartPolling:
    """Stop WebSocket attempts and poll over HTTP from ``at`` (protocol §6).

    ``probe_at``: when to attempt a WebSocket probe (``Connect(websocket=True)``),
    or None when the transport is ``polling`` and never probes. ``node``: the
    server whose HTTP base is polled; ``probe_node``: the server of the first
    probe (later probes are named by the ``Connect`` a failed probe returns).
    """

    at: float
    probe_at: float | None
    node: int = 0
    probe_node: int = 0


@dataclass(frozen=True, slots=True)
class StopPolling:
    """The WebSocket probe succeeded: end the polling; the WebSocket carries the stream."""


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to do now; carry on. ``until``: the next scheduled probe, or None."""

    until: float | None


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop for good: close everything, end the streams with ``error`` (None: closed)."""

    error: PlanStreamError | None


#: Every action an input of :class:`ConnectionStateMachine` can return.
ConnectionAction: TypeAlias = (
    Connect | RefreshTokenThenConnect | StartPolling | StopPolling | Wait | Stop
)
