"""Server counters, served as JSON (``/v1/status``) and Prometheus text (``/metrics``).

One set of plain counters is the source of truth; a custom collector exports
them into a registry owned by this object (no global registry), so several
servers in one process never share or clash.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["PROMETHEUS_CONTENT_TYPE", "ServerMetrics"]

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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

    def status(self) -> dict[str, int]:
        """The counters as a JSON-ready dict."""
        return asdict(self)

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
