"""The connection state machine (pure): what the transport must do after each event.

Everything that decides the connection's lifecycle lives here, written as
data where it can be (h11's ``_state.py`` is the model):

* the states are :class:`ConnectionState`;
* every state change is one entry of :data:`CONNECTION_TRANSITIONS` (the
  table and its enums live in :mod:`planstream.connection_transitions`), keyed by
  ``(state, trigger)``; an input whose trigger has no entry for the current
  state raises :class:`~planstream.errors.InvalidStateError`;
* each input (:meth:`ConnectionStateMachine.start`, ``connected``, ``failed``,
  ``timed_out``, ``close``) returns one action
  (:data:`~planstream.connection_actions.ConnectionAction`) that the asyncio
  transport performs. Time is an argument, randomness comes only from the
  injected ``rng`` of the backoff schedule; nothing here sleeps or connects.

The rules it keeps:

* retry delays come from the :class:`~planstream.backoff.BackoffSchedule`
  (protocol §4), honouring the server's ``retry_after``; when ``max_attempts``
  is used up the machine stops with ``RetriesExhaustedError(last_error)``;
* the attempt counter resets when a connection that stayed healthy for at
  least ``reset_after`` seconds fails, not before;
* a ``refresh_token`` verdict is honoured once in a row: a second one right
  after a refresh is a fatal ``AuthenticationError``;
* transport ``websocket`` never falls back; ``polling`` starts polling and
  never tries the WebSocket; ``auto`` switches to HTTP polling (protocol §6)
  after ``fallback_after`` consecutive fallback-candidate upgrade refusals and,
  while polling, probes the WebSocket every ``websocket_retry_interval``
  seconds (a failed probe costs no backoff; a successful one returns to
  ``open``);
* with several server URLs (``nodes``), the :class:`~planstream.node_ring.NodeRing`
  picks the node of each attempt: a failure moves to the next node at once,
  a backoff delay is drawn only after a full round of failures (so
  ``max_attempts`` counts rounds), a ``retry_after`` rests that node only;
  polling stays on its node while its WebSocket probes go round the ring;
* ``fatal`` verdicts stop the machine; ``close()`` stops it from any state;
* with a ``connect_timeout``, :meth:`ConnectionStateMachine.start` sets a
  deadline (:attr:`~ConnectionStateMachine.deadline`) for the first
  connection; the first WebSocket hello or answered poll lifts it for good.
  If the driver's timer reaches it first, ``timed_out()`` stops the machine
  with ``ConnectTimeoutError`` naming the URLs and the last failure.
"""

from __future__ import annotations

from collections.abc import Sequence

from planstream.backoff import BackoffPolicy, RandomSource
from planstream.close_codes import Verdict, VerdictKind
from planstream.connection_actions import (
    Connect,
    ConnectionAction,
    RefreshTokenThenConnect,
    StartPolling,
    Stop,
    StopPolling,
    Wait,
)
from planstream.connection_transitions import (
    CONNECTION_TRANSITIONS,
    ConnectionState,
    ConnectionTrigger,
    TransportMode,
)
from planstream.errors import (
    AuthenticationError,
    ConnectTimeoutError,
    InvalidStateError,
    PlanStreamError,
    RetriesExhaustedError,
)
from planstream.node_ring import NodeRing

__all__ = [
    "CONNECTION_TRANSITIONS",
    "ConnectionState",
    "ConnectionStateMachine",
    "ConnectionTrigger",
    "TransportMode",
]


_S = ConnectionState
_T = ConnectionTrigger


#: States in which a WebSocket upgrade is being attempted (refusals count there).
_ATTEMPTING = frozenset({ConnectionState.CONNECTING, ConnectionState.RECONNECTING})


class ConnectionStateMachine:
    """Decides, from connection events, what the transport does next.

    Args:
        policy: the reconnect backoff (protocol §4).
        rng: the randomness of the backoff jitter (seed it in tests).
        reset_after: seconds a connection must stay healthy for its failure
            to reset the attempt counter.
        transport: ``auto``, ``websocket`` or ``polling``.
        has_token_provider: whether a ``refresh_token`` verdict can be acted on.
        fallback_after: consecutive fallback-candidate upgrade refusals before
            ``auto`` switches to polling.
        websocket_retry_interval: while ``auto`` polls, seconds between
            WebSocket probes.
        nodes: how many server URLs the client may use (see
            :mod:`planstream.node_ring` for the policy).
        connect_timeout: seconds from ``start()`` within which a first
            connection must open, or None to wait for ever.
        urls: the server URLs, named by ``ConnectTimeoutError`` (default:
            none named).
    """

    __slots__ = (
        "_deadline",
        "_healthy_since",
        "_last_error",
        "_probe_at",
        "_probe_node",
        "_refreshed",
        "_refusals",
        "_ring",
        "_schedule",
        "_state",
        "connect_timeout",
        "fallback_after",
        "has_token_provider",
        "reset_after",
        "transport",
        "urls",
        "websocket_retry_interval",
    )

    def __init__(
        self,
        *,
        policy: BackoffPolicy,
        rng: RandomSource,
        reset_after: float,
        transport: TransportMode,
        has_token_provider: bool,
        fallback_after: int = 2,
        websocket_retry_interval: float = 30.0,
        nodes: int = 1,
        connect_timeout: float | None = None,
        urls: Sequence[str] = (),
    ) -> None:
        if not reset_after >= 0:
            raise ValueError("reset_after must not be negative")
        if fallback_after < 1:
            raise ValueError("fallback_after must be at least 1")
        if not websocket_retry_interval > 0:
            raise ValueError("websocket_retry_interval must be positive")
        if connect_timeout is not None and not connect_timeout > 0:
            raise ValueError("connect_timeout must be positive (None: wait for ever)")
        self.connect_timeout = connect_timeout
        self.urls = tuple(urls)
        self.transport = TransportMode(transport)
        self.reset_after = reset_after
        self.has_token_provider = has_token_provider
        self.fallback_after = fallback_after
        self.websocket_retry_interval = websocket_retry_interval
        self._schedule = policy.schedule(rng)
        self._state = ConnectionState.CLOSED
        self._healthy_since: float | None = None  # when the current connection came up
        self._refreshed = False  # the last failure led to a token refresh
        self._refusals = 0  # consecutive fallback-candidate refusals
        self._probe_at: float | None = None  # next WebSocket probe while polling (auto)
        self._ring = NodeRing(nodes)  # raises ValueError below one node
        self._probe_node = 0  # the node of the next probe while polling
        self._deadline: float | None = None  # the first connection's, until it opens
        self._last_error: PlanStreamError | None = None  # the latest failure

    @property
    def state(self) -> ConnectionState:
        """The current state."""
        return self._state

    @property
    def deadline(self) -> float | None:
        """When :meth:`timed_out` is due: ``start()`` + ``connect_timeout``
        until a first connection opens, then None for good."""
        return self._deadline

    @property
    def node(self) -> int:
        """The node (URL index) of the open connection, of the polling or of the last attempt."""
        return self._ring.current

    # --- inputs ---------------------------------------------------------------------

    def start(self, now: float) -> ConnectionAction:
        """Open the connection: connect now, or (transport ``polling``) start polling."""
        polling = self.transport is TransportMode.POLLING
        self._fire(_T.START_POLLING if polling else _T.START)
        self._schedule.reset()
        self._healthy_since = None
        self._refreshed = False
        self._refusals = 0
        self._probe_at = None
        self._ring.reset()
        self._last_error = None
        self._deadline = None if self.connect_timeout is None else now + self.connect_timeout
        if polling:
            return StartPolling(at=now, probe_at=None, node=0)
        return Connect(websocket=True, at=now, node=0)

    def connected(self, now: float, *, websocket: bool = True) -> ConnectionAction:
        """A WebSocket's hello was accepted, or (``websocket`` False) a poll was answered.

        Report a poll at least after the first success following a
        :class:`StartPolling` or a ``Connect(websocket=False)``; later reports
        keep the health clock running.
        """
        self._check_channel(websocket)
        previous = self._state
        self._fire(_T.CONNECTED if websocket else _T.POLL_SUCCEEDED)
        # protocol §2: the token was accepted; a later 401/4001 may refresh again
        self._refreshed = False
        self._refusals = 0
        self._deadline = None  # a first connection opened: no more deadline
        if not websocket:
            if self._healthy_since is None:
                self._healthy_since = now
            return Wait(until=self._probe_at)
        self._healthy_since = now
        if previous is ConnectionState.POLLING:
            self._probe_at = None
            self._ring.move(self._probe_node, self._ring.tried)  # the probe's node carries on
            return StopPolling()
        return Wait(until=None)

    def failed(self, verdict: Verdict, now: float, *, websocket: bool = True) -> ConnectionAction:
        """A connection attempt or an open connection failed for the reason ``verdict``.

        Args:
            verdict: the classification of the failure (``planstream.close_codes``).
            now: the current time.
            websocket: False when a poll failed (state ``polling``); True for a
                WebSocket, including the probes made while polling.
        """
        self._check_channel(websocket)
        probe = websocket and self._state is ConnectionState.POLLING
        # protocol §4: only a connection that stayed healthy resets the counter
        healthy = (
            not probe
            and self._healthy_since is not None
            and now - self._healthy_since >= self.reset_after
        )
        # A WebSocket failure outside polling moves round the ring (node_ring).
        rotate = websocket and not probe
        next_node, tried = (
            self._ring.plan_failure(now, fresh=healthy) if rotate else (None, self._ring.size)
        )
        trigger, error, refusals = self._judge(verdict, probe, healthy, next_node is None)
        self._fire(trigger)
        # The table accepted the input; from here on the machine changes.
        self._last_error = verdict.error
        self._refusals = refusals
        self._refreshed = trigger is _T.REFRESH_TOKEN
        if not probe:
            self._healthy_since = None
        if healthy:
            self._schedule.reset()
        ring = self._ring
        if trigger is _T.STOP:
            self._deadline = None
            return Stop(error)
        if trigger is _T.REFRESH_TOKEN:
            if probe:
                self._probe_at = now
                return RefreshTokenThenConnect(websocket=True, at=now, node=self._probe_node)
            return RefreshTokenThenConnect(websocket=websocket, at=now, node=ring.current)
        if trigger is _T.PROBE_FAILED:
            self._probe_at = now + self.websocket_retry_interval
            self._probe_node = (self._probe_node + 1) % ring.size
            return Connect(websocket=True, at=self._probe_at, node=self._probe_node)
        if trigger is _T.FALL_BACK:
            self._schedule.reset()  # polling is a fresh start
            self._probe_at = now + self.websocket_retry_interval
            self._probe_node = (ring.current + 1) % ring.size
            return StartPolling(
                at=now, probe_at=self._probe_at, node=ring.current, probe_node=self._probe_node
            )
        if not rotate:  # a failed poll: back off, keep polling the same node
            delay = self._schedule.next_delay(verdict.retry_after)
            assert delay is not None, "_judge stops before the attempts run out"
            return Connect(websocket=False, at=now + delay, node=ring.current)
        if verdict.retry_after is not None and verdict.retry_after > 0:
            # protocol §4/§6: that node asked for a pause; the others need not wait
            rest = min(verdict.retry_after, self._schedule.policy.max_retry_after)
            ring.rest(ring.current, now + rest)
        if next_node is not None:
            ring.move(next_node, tried)
            return Connect(websocket=True, at=now, node=next_node)
        delay = self._schedule.next_delay()
        assert delay is not None, "_judge stops before the attempts run out"
        node, at = ring.after_backoff(now + delay)
        return Connect(websocket=True, at=at, node=node)

    def timed_out(self, now: float) -> ConnectionAction:
        """The driver's timer reached :attr:`deadline` before a first connection:
        stop with ``ConnectTimeoutError`` (the URLs, the last failure).

        Raises:
            InvalidStateError: no deadline is pending (none set, already
                lifted by a connection, or not reached at ``now``).
        """
        deadline = self._deadline
        if deadline is None or now < deadline:
            raise InvalidStateError(self._state, "a connect deadline that is not due")
        self._fire(_T.TIMED_OUT)
        self._deadline = None
        self._healthy_since = None
        self._probe_at = None
        assert self.connect_timeout is not None  # a deadline comes from it
        return Stop(ConnectTimeoutError(self.urls, self.connect_timeout, self._last_error))

    def close(self) -> ConnectionAction:
        """The user closed the client: from any state, stop with no error."""
        self._fire(_T.CLOSE)
        self._healthy_since = None
        self._probe_at = None
        self._deadline = None
        return Stop(None)

    # --- internals ------------------------------------------------------------------

    def _fire(self, trigger: ConnectionTrigger) -> None:
        """Move along the table, or raise if ``trigger`` is not allowed now."""
        try:
            self._state = CONNECTION_TRANSITIONS[(self._state, trigger)]
        except KeyError:
            raise InvalidStateError(self._state, trigger) from None

    def _check_channel(self, websocket: bool) -> None:
        """Only ``polling`` reports polls; only ``auto`` probes while polling."""
        state = self._state
        if state is ConnectionState.CLOSED:
            return  # the table refuses every report in ``closed``
        if not websocket and state is not ConnectionState.POLLING:
            raise InvalidStateError(state, "a poll report")
        if websocket and state is ConnectionState.POLLING and self._probe_at is None:
            raise InvalidStateError(state, "a WebSocket report without a probe")

    def _judge(
        self, verdict: Verdict, probe: bool, healthy: bool, round_over: bool
    ) -> tuple[ConnectionTrigger, PlanStreamError, int]:
        """The trigger ``verdict`` fires, the error it ends with, and the new count
        of consecutive refusals. No side effects: the table checks the trigger first.
        ``round_over``: a backoff delay is due (every node failed in a row)."""
        kind = verdict.kind
        error = verdict.error
        if kind is VerdictKind.REFRESH_TOKEN and self.has_token_provider:
            if not self._refreshed:
                return _T.REFRESH_TOKEN, error, 0
            # Once in a row: the fresh token was refused too.
            error = AuthenticationError(f"the token was refused right after a refresh: {error}")
            error.__cause__ = verdict.error
            return _T.STOP, error, 0
        if kind in (VerdictKind.REFRESH_TOKEN, VerdictKind.FATAL):
            return _T.STOP, error, 0
        if probe:
            return _T.PROBE_FAILED, error, 0  # no backoff growth while polling works
        refusals = 0
        if kind is VerdictKind.FALLBACK and self._state in _ATTEMPTING:
            refusals = self._refusals + 1
            if self.transport is TransportMode.AUTO and refusals >= self.fallback_after:
                return _T.FALL_BACK, error, 0
        attempt = 0 if healthy else self._schedule.attempt
        max_attempts = self._schedule.policy.max_attempts
        if round_over and max_attempts is not None and attempt >= max_attempts:
            return _T.STOP, RetriesExhaustedError(error, attempt), 0
        return _T.RETRY, error, refusals
