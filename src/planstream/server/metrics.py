"""Server counters, served as JSON (``/v1/status``) and Prometheus text (``/metrics``).

One set of plain counters is the source of truth; a custom collector exports
them into a registry owned by this object (no global registry), so several
servers in one process never share or clash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from planstream.log_limiter import LogLimiter

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
            if item.name != "fault_lines"
        }

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
}
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
