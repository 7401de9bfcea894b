"""Client metrics through OpenTelemetry (the optional extra ``planstream[otel]``).

``PlanStreamClient(..., meter_provider=provider)`` reports what its stream
does to an OpenTelemetry ``MeterProvider`` (meter ``planstream``): the
counters the client keeps anyway (``client.stats``) as observable instruments
read when a reader collects, so they cost nothing per event; the publish ->
deliver lag as a histogram recorded as the user is handed each event (the
:class:`~planstream.client.inbox.DeliveryObserver` hook); the time spent per
connection state from the state changes; the inbox depth when collected.
docs/guide/observability.md lists every instrument.

Without ``meter_provider`` the global provider is used if an application set
one; otherwise nothing is measured and no observer joins the hot path.

OpenTelemetry keeps the callbacks of an instrument's first creation only (the
same name again on the same meter returns the first instrument). So the
instruments of one provider are created once, as :class:`ClientInstruments`,
and its clients join them: the figures are sums over the process's clients; a
closed client's last counts stay in them (counters never go down), and
nothing reads the closed client any more.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Final

from planstream import __version__
from planstream.client.inbox import SubscriptionInbox
from planstream.client.stats import StateChange
from planstream.connection_state import ConnectionState
from planstream.delivery import Delivery, Resync

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation

    from planstream.client.connection_driver import ConnectionDriver
    from planstream.router import StreamRouter

__all__ = ["ClientInstruments", "ClientTelemetry", "StateTimes", "meter_in_use"]

#: The meter's name (instrumentation scope); its version is the package's.
METER_NAME: Final = "planstream"
#: Attribute of ``planstream.client.resumes``: ``exact`` or ``resync``.
OUTCOME: Final = "planstream.resume.outcome"
#: Attribute of ``planstream.client.connection.time``: a ConnectionState value.
STATE: Final = "planstream.connection.state"
#: The environment variable that names the global MeterProvider (OpenTelemetry's).
_PROVIDER_VARIABLE: Final = "OTEL_PYTHON_METER_PROVIDER"
#: Bucket boundaries of the lag histogram, s (advice: a View may change them).
LAG_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

#: The observable counters read from the client's own counters: name, unit,
#: description, and the figures they report (each with its attributes).
_COUNTERS: Final = (
    (
        "planstream.client.reconnects",
        "{connection}",
        "WebSocket connections opened after the first one",
        (("reconnects", None),),
    ),
    (
        "planstream.client.resumes",
        "{resume}",
        "Re-subscriptions from a known position, by outcome: replayed exactly or resynced",
        (("resumes_exact", {OUTCOME: "exact"}), ("resumes_resynced", {OUTCOME: "resync"})),
    ),
    (
        "planstream.client.gaps_repaired",
        "{repair}",
        "Re-subscriptions asked for to fill a gap or a lost tail",
        (("gaps_repaired", None),),
    ),
    (
        "planstream.client.duplicates_dropped",
        "{event}",
        "Events received again and dropped",
        (("duplicates_dropped", None),),
    ),
    (
        "planstream.client.resyncs",
        "{resync}",
        "Resync markers delivered: history the server could not replay",
        (("resyncs", None),),
    ),
    (
        "planstream.client.events_delivered",
        "{event}",
        "Events handed on in order, once per plan",
        (("events_delivered", None),),
    ),
    (
        "planstream.client.events_reordered",
        "{event}",
        "Events that arrived early and were held back until their turn",
        (("reordered", None),),
    ),
    (
        "planstream.client.frames_rejected",
        "{frame}",
        "Frames that could not be decoded and were skipped",
        (("frames_rejected", None),),
    ),
    (
        "planstream.client.polls",
        "{poll}",
        "HTTP polls answered while falling back from WebSocket",
        (("polls", None),),
    ),
    (
        "planstream.client.slow_consumer_rewinds",
        "{rewind}",
        "Times a subscriber fell queue_size behind and was re-subscribed",
        (("slow_consumer_rewinds", None),),
    ),
)


#: Seconds spent per connection state.
StateTimes = dict[ConnectionState, float]


def _add_times(times: StateTimes, more: Mapping[ConnectionState, float]) -> None:
    """Add ``more`` seconds per state to ``times``."""
    for state, seconds in more.items():
        times[state] = times.get(state, 0.0) + seconds


def _deepest(depths: list[int]) -> int:
    return max(depths, default=0)  # (no inbox at all: 0)


#: The observable figures over the subscriptions' inboxes: name, unit,
#: description, and how one figure is made from every inbox's depth (the
#: deepest one is a gauge, the sums are up-down counters).
_INBOX_FIGURES: Final = (
    ("planstream.client.subscriptions", "{subscription}", "Subscriptions open", len),
    ("planstream.client.inbox.items", "{event}", "Items waiting in the inboxes", sum),
    ("planstream.client.inbox.depth", "{event}", "Items waiting in the fullest inbox", _deepest),
)

#: The instruments per MeterProvider (see the module docstring): a cache keyed
#: weakly by the user's provider.
_SHARED: weakref.WeakKeyDictionary[object, ClientInstruments] = weakref.WeakKeyDictionary()
_SHARED_LOCK: Final = threading.Lock()


def meter_in_use(provider: MeterProvider | None) -> tuple[MeterProvider, Meter] | None:
    """``provider`` (None: the global one) and its ``planstream`` meter, or None
    when nothing would record: no OpenTelemetry API, no provider set yet (a
    client entered before one is set measures nothing), a no-op provider or meter."""
    if provider is None and not _global_provider_possible():
        return None
    try:
        from opentelemetry import metrics
    except ImportError:
        return None
    if provider is None:
        provider = metrics.get_meter_provider()
        if _is_placeholder(provider):
            return None
    meter = provider.get_meter(METER_NAME, __version__)
    return None if isinstance(meter, metrics.NoOpMeter) else (provider, meter)


def _global_provider_possible() -> bool:
    """Whether an application may have set a global provider: it imported the
    API (``set_meter_provider`` lives there) or names one in the environment.
    If not, nothing of OpenTelemetry is imported (its API takes ~25 ms)."""
    return "opentelemetry.metrics" in sys.modules or bool(os.environ.get(_PROVIDER_VARIABLE))


def _is_placeholder(provider: MeterProvider) -> bool:
    """Whether ``provider`` is the API's stand-in until an application sets one."""
    try:
        from opentelemetry.metrics._internal import _ProxyMeterProvider
    except ImportError:  # pragma: no cover - an API that moved it: assume one is set
        return False
    return isinstance(provider, _ProxyMeterProvider)


class ClientInstruments:
    """The planstream instruments of one MeterProvider, joined by its clients."""

    __slots__ = ("__weakref__", "_live", "_observation", "_retired", "_retired_time", "lag", "lock")

    def __init__(self, meter: Meter) -> None:
        from opentelemetry.metrics import Observation

        self._observation = Observation
        self.lock = threading.Lock()  # collections run in the exporter's thread
        self._live: list[ClientTelemetry] = []
        self._retired: Counter[str] = Counter()  # the last counts of closed clients
        self._retired_time: StateTimes = {}
        for name, unit, description, figures in _COUNTERS:
            meter.create_observable_counter(name, [self._counter(figures)], unit, description)
        meter.create_observable_counter(
            "planstream.client.connection.time",
            [self._state_times],
            "s",
            "Time spent in each connection state",
        )
        for name, unit, description, figure in _INBOX_FIGURES:
            callback = self._inbox_figure(figure)
            if figure is _deepest:
                meter.create_observable_gauge(name, [callback], unit, description)
            else:
                meter.create_observable_up_down_counter(name, [callback], unit, description)
        self.lag = meter.create_histogram(
            "planstream.client.delivery.lag",
            "s",
            "From an event's ts (published) to the moment the user is handed it",
            explicit_bucket_boundaries_advisory=LAG_BUCKETS,
        )

    @classmethod
    def of(cls, provider: MeterProvider, meter: Meter) -> ClientInstruments:
        """The instruments of ``provider`` (created with ``meter`` the first time)."""
        with _SHARED_LOCK:
            try:
                shared = _SHARED.get(provider)
            except TypeError:  # a provider that takes no weak reference: not shared
                return cls(meter)
            if shared is None:
                shared = _SHARED[provider] = cls(meter)
            return shared

    # --- clients joining and leaving --------------------------------------------------

    def join(self, client: ClientTelemetry) -> None:
        """``client`` is measured from now on."""
        with self.lock:
            self._live.append(client)

    def leave(self, client: ClientTelemetry) -> None:
        """``client`` closed: its last counts and state times stay in the totals,
        and no collection reads it any more."""
        with self.lock:
            self._live.remove(client)
            self._retired.update(client.counts())
            _add_times(self._retired_time, client.state_times())
            client.detach()

    # --- what a collection reads (in the exporter's thread) ------------------------------

    def _counter(
        self, figures: tuple[tuple[str, dict[str, str] | None], ...]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            with self.lock:
                totals = self._retired.copy()
                for client in self._live:
                    totals.update(client.counts())
            return [self._observation(totals[name], attributes) for name, attributes in figures]

        return observe

    def _state_times(self, options: CallbackOptions) -> Iterable[Observation]:
        with self.lock:
            times = self._retired_time.copy()
            for client in self._live:
                _add_times(times, client.state_times())
        observation = self._observation
        return [observation(seconds, {STATE: state.value}) for state, seconds in times.items()]

    def _inbox_figure(
        self, figure: Callable[[list[int]], int]
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            with self.lock:
                if not self._live:
                    return []  # no client: no inbox to tell of
                depths = [depth for client in self._live for depth in client.inbox_depths()]
            return [self._observation(figure(depths))]

        return observe


class ClientTelemetry:
    """One client's side of the metrics: a DeliveryObserver and a state hook.

    Made by :meth:`start` in ``PlanStreamClient.__aenter__`` and closed in its
    ``aclose``; from then on no collection reads the client.
    """

    __slots__ = (
        "_clock",
        "_driver",
        "_record_lag",
        "_router",
        "_since",
        "_state",
        "_times",
        "instruments",
    )

    def __init__(
        self,
        instruments: ClientInstruments,
        router: StreamRouter,
        driver: ConnectionDriver,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.instruments = instruments
        self._record_lag = instruments.lag.record
        self._router: StreamRouter | None = router
        self._driver: ConnectionDriver | None = driver
        self._clock = clock
        self._state = driver.state
        self._since = clock()
        self._times: StateTimes = {}
        instruments.join(self)

    @classmethod
    def start(
        cls, provider: MeterProvider | None, router: StreamRouter, driver: ConnectionDriver
    ) -> ClientTelemetry | None:
        """Measure the client of ``router`` and ``driver`` into ``provider``
        (None: the global one); None when nothing would record."""
        in_use = meter_in_use(provider)
        if in_use is None:
            return None
        return cls(ClientInstruments.of(*in_use), router, driver)

    def close(self) -> None:
        """The client closed (once): its last figures stay in the totals, and
        nothing reads it any more."""
        self.instruments.leave(self)

    def detach(self) -> None:
        """Let the client go (called by :meth:`ClientInstruments.leave`, lock held)."""
        self._router = self._driver = None

    # --- DeliveryObserver (planstream.client.inbox) -------------------------------------

    def next_requested(self, inbox: SubscriptionInbox) -> None:
        """Nothing to measure when the user asks for the next item."""

    def taken(self, inbox: SubscriptionInbox, item: Delivery) -> None:
        """The user is handed ``item``: record its publish -> deliver lag."""
        if type(item) is not Resync:
            # Clocks of two machines: a server ahead of the client reads as no lag.
            lag = time.time() - item.ts.timestamp()  # type: ignore[union-attr]
            self._record_lag(lag if lag > 0.0 else 0.0)

    # --- the connection state --------------------------------------------------------

    def state_changed(self, change: StateChange) -> None:
        """A state hook of the client: the time in the state left is added up
        (none comes after :meth:`close`: the client's connection task is over)."""
        with self.instruments.lock:
            now = self._clock()
            _add_times(self._times, {self._state: now - self._since})
            self._state, self._since = change.state, now

    def state_times(self) -> StateTimes:
        """Seconds per state so far, the current state's up to now (lock held)."""
        times = self._times.copy()
        _add_times(times, {self._state: self._clock() - self._since})
        return times

    # --- the counters the client keeps ---------------------------------------------------

    def counts(self) -> dict[str, int]:
        """The client's counters now, by figure name (lock held, client open)."""
        router, driver = self._router, self._driver
        assert router is not None, "read after close"
        assert driver is not None, "read after close"
        sequencer = router.sequencer.stats
        return {
            "reconnects": max(driver.counters.connects - 1, 0),
            "resumes_exact": sequencer.resumes_exact,
            "resumes_resynced": sequencer.resumes_resynced,
            "gaps_repaired": sequencer.repairs_requested,
            "duplicates_dropped": sequencer.duplicates_dropped,
            "resyncs": sequencer.resyncs,
            "events_delivered": sequencer.delivered,
            "reordered": sequencer.reordered,
            "frames_rejected": driver.counters.frames_rejected,
            "polls": driver.counters.polls,
            "slow_consumer_rewinds": router.rewinds,
        }

    def inbox_depths(self) -> list[int]:
        """How many items wait in each open subscription's inbox (lock held, client open)."""
        router = self._router
        assert router is not None, "read after close"
        # list(): a copy made in C, safe while the event loop's thread changes them.
        return [
            len(inbox.items or ())
            for channel in list(router.channels.values())
            for inbox in list(channel.inboxes)
            if isinstance(inbox, SubscriptionInbox)
        ]
