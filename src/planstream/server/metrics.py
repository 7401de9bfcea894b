"""Server counters, served as JSON (``/v1/status``) and Prometheus text (``/metrics``).

One set of plain counters is the source of truth; a custom collector exports
them into a registry owned by this object (no global registry), so several
servers in one process never share or clash. Counters of one kind split by a
label (``resyncs_sent{reason}``, ``resumes{outcome}``) are separate integers
here and in ``/v1/status``, one labelled family in ``/metrics``. The Redis
latency histogram (``planstream_redis_seconds{op}``, when the log is Redis)
is only in ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from planstream.log_limiter import LogLimiter
from planstream.schema.frames import ResyncReason
from planstream.server.latency import OperationLatency

__all__ = ["PROMETHEUS_CONTENT_TYPE", "ServerMetrics"]

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Least seconds between two log lines about the same kind of repeatable fault.
FAULT_LOG_INTERVAL = 5.0


@dataclass(slots=True)
class ServerMetrics:
    """What the server has done; gauges are current values, the rest only grow."""

    connections: int = 0
    subscriptions: int = 0
    plans: int = 0
    connections_total: int = 0
    events_published: int = 0
    events_sent: int = 0
    events_replayed: int = 0
    events_live: int = 0
    frames_sent: int = 0
    slow_consumer_closes: int = 0
    rejected_frames: int = 0
    abuse_closes: int = 0
    auth_failures: int = 0
    rate_limited_frames: int = 0
    rate_limit_closes: int = 0
    internal_errors: int = 0
    refused_connections: int = 0
    handshake_timeouts: int = 0
    http_rate_limited: int = 0
    resyncs_history_expired: int = 0
    resyncs_unknown_event_id: int = 0
    resyncs_stream_reset: int = 0
    resumes_exact: int = 0
    resumes_resync: int = 0
    #: Durations of the Redis log's calls (None: the log is not Redis).
    redis_latency: OperationLatency | None = field(default=None, repr=False, compare=False)
    #: One log line per few seconds for faults a peer can repeat at will
    #: (issue 10 item 1); shared by every connection of the server.
    fault_lines: LogLimiter = field(
        default_factory=lambda: LogLimiter(FAULT_LOG_INTERVAL), repr=False, compare=False
    )

    def status(self) -> dict[str, int]:
        """The counters as a JSON-ready dict."""
        return {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if item.name not in {"fault_lines", "redis_latency"}
        }

    def resync_sent(self, reason: ResyncReason) -> None:
        """A ``resync`` answer went out (WebSocket or HTTP poll)."""
        name = f"resyncs_{reason.value}"
        setattr(self, name, getattr(self, name) + 1)

    def subscribe_answered(self, last_event_id: str | None, resync: ResyncReason | None) -> None:
        """A ``subscribe`` was answered: a resume (``last_event_id`` given)
        was exact or not; a resync is counted by its reason."""
        if last_event_id is not None:
            if resync is None:
                self.resumes_exact += 1
            else:
                self.resumes_resync += 1
        if resync is not None:
            self.resync_sent(resync)

    def sent_events(self, count: int, replayed: int) -> None:
        """``count`` events went out in one frame, ``replayed`` of them replay."""
        self.events_sent += count
        self.events_replayed += replayed
        self.events_live += count - replayed

    def prometheus(self) -> bytes:
        """The counters in Prometheus text exposition format."""
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_MetricsCollector(self))
        return generate_latest(registry)


_GAUGES = {
    "connections": "Open WebSocket connections",
    "subscriptions": "Active plan subscriptions over all connections",
    "plans": "Plans with at least one event",
}
#: Counters by attribute, exported as ``planstream_<name>_total``.
_COUNTERS = {
    "connections_total": "WebSocket connections accepted",
    "events_published": "Events appended by publishers",
    "events_sent": "Events sent to WebSocket subscribers",
    "events_replayed": "Events sent that the log held when their subscription began (replay)",
    "events_live": "Events sent that were appended after their subscription began (live)",
    "frames_sent": "Frames sent on WebSockets",
    "slow_consumer_closes": "Connections closed with 4008 for falling behind",
    "rejected_frames": "Client frames rejected as malformed or unknown",
    "abuse_closes": "Connections closed with 1008 after a flood of bad frames",
    "auth_failures": "Requests refused with 401 or 403",
    "rate_limited_frames": "Client frames answered with rate_limited",
    "rate_limit_closes": "Connections closed with 4029 for going on past the rate limit",
    "internal_errors": "Client frames answered with internal (a server fault)",
    "refused_connections": "Connections refused for max_connections (503 or closed at once)",
    "handshake_timeouts": "TCP connections closed for not sending a request in time",
    "http_rate_limited": "HTTP requests answered 429 (the publish rate limit)",
}
#: Labelled counter families: (exported name, help, label, {label value: attribute}).
_LABELLED = (
    (
        "resyncs_sent",
        "resync answers sent (subscribes, HTTP polls, stream resets), by reason",
        "reason",
        {reason.value: f"resyncs_{reason.value}" for reason in ResyncReason},
    ),
    (
        "resumes",
        "subscribes with a last_event_id, by outcome: exact replay or resync",
        "outcome",
        {"exact": "resumes_exact", "resync": "resumes_resync"},
    ),
)
#: Counters exported under another name: ``planstream_connections_total``
#: would be the counter family ``planstream_connections``, clashing with the
#: gauge of that name (prometheus_client and OpenMetrics parsers refuse it).
_EXPORTED_COUNTER_NAMES = {"connections_total": "connections_accepted"}


class _MetricsCollector(Collector):
    def __init__(self, metrics: ServerMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        for name, help_text in _GAUGES.items():
            yield GaugeMetricFamily(
                f"planstream_{name}", help_text, value=getattr(self._metrics, name)
            )
        for name, help_text in _COUNTERS.items():
            exported = _EXPORTED_COUNTER_NAMES.get(name, name)
            yield CounterMetricFamily(
                f"planstream_{exported}", help_text, value=getattr(self._metrics, name)
            )
        for exported, help_text, label, attributes in _LABELLED:
            family = CounterMetricFamily(f"planstream_{exported}", help_text, labels=[label])
            for value, name in attributes.items():
                family.add_metric([value], getattr(self._metrics, name))
            yield family
        latency = self._metrics.redis_latency
        if latency is not None:
            histogram = HistogramMetricFamily(
                "planstream_redis_seconds",
                "Duration of the Redis event log's calls, by operation, s",
                labels=["op"],
            )
            for operation, tally in sorted(latency.operations.items()):
                histogram.add_metric([operation], tally.cumulative(), tally.total)
            yield histogram
