"""The connection state machine's states, triggers and transition table (pure data).

:class:`~planstream.connection_state.ConnectionStateMachine` moves only along
:data:`CONNECTION_TRANSITIONS`: an input whose trigger has no entry for the
current state is refused. The table is data so that it can be read (and
tested) on its own, as h11's ``_state.py`` keeps its transitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = ["CONNECTION_TRANSITIONS", "ConnectionState", "ConnectionTrigger", "TransportMode"]


class TransportMode(StrEnum):
    """How the client reaches the server."""

    AUTO = "auto"  # WebSocket, falling back to HTTP long-polling (protocol §6)
    WEBSOCKET = "websocket"
    POLLING = "polling"


class ConnectionState(StrEnum):
    """Where the connection is in its lifecycle."""

    CONNECTING = "connecting"  # the first WebSocket attempt is under way
    OPEN = "open"  # a WebSocket is up and its hello was accepted
    RECONNECTING = "reconnecting"  # a WebSocket failed; the next attempt is scheduled
    POLLING = "polling"  # HTTP long-polling carries the stream (protocol §6)
    CLOSED = "closed"  # not started, closed by the user, or stopped for good


class ConnectionTrigger(StrEnum):
    """What happened, as the transition table sees it (derived from each input)."""

    START = "start"  # start() with transport auto or websocket
    START_POLLING = "start_polling"  # start() with transport polling
    CONNECTED = "connected"  # a WebSocket hello was accepted
    TIMED_OUT = "timed_out"  # no first connection before the connect deadline
    POLL_SUCCEEDED = "poll_succeeded"  # a poll was answered
    RETRY = "retry"  # a failure to retry after a backoff delay
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 - 401/4001 with a token provider (protocol §2, §4)
    FALL_BACK = "fall_back"  # auto: too many HTTP answers to the upgrade
    PROBE_FAILED = "probe_failed"  # polling: the WebSocket probe failed
    STOP = "stop"  # a fatal failure, or the attempts are used up
    CLOSE = "close"  # the user closed the client


_S = ConnectionState
_T = ConnectionTrigger

#: Every state change: ``(state, trigger) -> next state``. Nothing else moves
#: the machine; a pair that is missing is an input the state does not accept.
CONNECTION_TRANSITIONS: Mapping[tuple[ConnectionState, ConnectionTrigger], ConnectionState] = (
    MappingProxyType(
        {
            # A new machine is closed; start() opens it (again).
            (_S.CLOSED, _T.START): _S.CONNECTING,
            (_S.CLOSED, _T.START_POLLING): _S.POLLING,
            (_S.CLOSED, _T.CLOSE): _S.CLOSED,
            (_S.CONNECTING, _T.CONNECTED): _S.OPEN,
            (_S.CONNECTING, _T.RETRY): _S.RECONNECTING,
            (_S.CONNECTING, _T.REFRESH_TOKEN): _S.RECONNECTING,
            (_S.CONNECTING, _T.FALL_BACK): _S.POLLING,
            (_S.CONNECTING, _T.STOP): _S.CLOSED,
            (_S.CONNECTING, _T.TIMED_OUT): _S.CLOSED,
            (_S.CONNECTING, _T.CLOSE): _S.CLOSED,
            (_S.OPEN, _T.RETRY): _S.RECONNECTING,
            (_S.OPEN, _T.REFRESH_TOKEN): _S.RECONNECTING,
            (_S.OPEN, _T.STOP): _S.CLOSED,
            (_S.OPEN, _T.CLOSE): _S.CLOSED,
            (_S.RECONNECTING, _T.CONNECTED): _S.OPEN,
            (_S.RECONNECTING, _T.RETRY): _S.RECONNECTING,
            (_S.RECONNECTING, _T.REFRESH_TOKEN): _S.RECONNECTING,
            (_S.RECONNECTING, _T.FALL_BACK): _S.POLLING,
            (_S.RECONNECTING, _T.STOP): _S.CLOSED,
            (_S.RECONNECTING, _T.TIMED_OUT): _S.CLOSED,
            (_S.RECONNECTING, _T.CLOSE): _S.CLOSED,
            (_S.POLLING, _T.CONNECTED): _S.OPEN,  # a WebSocket probe succeeded
            (_S.POLLING, _T.POLL_SUCCEEDED): _S.POLLING,
            (_S.POLLING, _T.RETRY): _S.POLLING,  # a poll failed: back off, keep polling
            (_S.POLLING, _T.REFRESH_TOKEN): _S.POLLING,
            (_S.POLLING, _T.PROBE_FAILED): _S.POLLING,
            (_S.POLLING, _T.STOP): _S.CLOSED,
            (_S.POLLING, _T.TIMED_OUT): _S.CLOSED,  # no poll answered yet
            (_S.POLLING, _T.CLOSE): _S.CLOSED,
        }
    )
)
