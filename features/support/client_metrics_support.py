"""Helpers of client_metrics.feature: a client measured into a scenario's own
SDK MeterProvider, and what its InMemoryMetricReader collected.

:class:`MeteredClient` is a :class:`ResilientClient` (entered by a task of its
own, state changes recorded) whose :class:`~planstream.PlanStreamClient` is
given ``meter_provider``; it notes the monotonic time around its entry so the
connection times can be bounded. :class:`MetricsReading` looks up data points
by instrument name and attributes in one collection.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)

from planstream import ClientSettings, PlanStreamClient
from support.client_resilience_support import ResilientClient

__all__ = [
    "ATTRIBUTES",
    "CountingExporter",
    "ErrorRecords",
    "MeteredClient",
    "MetricsReading",
    "UnreferenceableProvider",
]

#: Attribute names of the step texts, by the word the steps use.
ATTRIBUTES = {"outcome": "planstream.resume.outcome", "state": "planstream.connection.state"}


class MeteredClient(ResilientClient):
    """A :class:`ResilientClient` whose client reports into ``meter_provider``."""

    def __init__(
        self, settings: ClientSettings, *, rng: random.Random, meter_provider: MeterProvider
    ) -> None:
        super().__init__(settings, rng=rng)
        self.client = PlanStreamClient(
            settings=settings, rng=rng, on_state_change=self._record, meter_provider=meter_provider
        )
        self.entered_between = (0.0, 0.0)  # time.monotonic() before and after entering

    async def start(self) -> None:
        before = time.monotonic()
        await super().start()
        self.entered_between = (before, time.monotonic())


class MetricsReading:
    """One collection of an InMemoryMetricReader, with the monotonic time around it."""

    def __init__(self, data: MetricsData | None, between: tuple[float, float]) -> None:
        self.between = between
        self.metrics: dict[str, Any] = {}
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                assert scope.scope.name == "planstream", scope.scope
                for metric in scope.metrics:
                    self.metrics[metric.name] = metric

    def __repr__(self) -> str:
        return f"MetricsReading({sorted(self.metrics)})"

    def points(self, name: str) -> list[Any]:
        """The data points of the instrument ``name`` (none if it reported nothing)."""
        metric = self.metrics.get(name)
        return [] if metric is None else list(metric.data.data_points)

    def value(self, name: str, attributes: dict[str, str] | None = None) -> float:
        """The value of ``name``'s one data point with exactly ``attributes``."""
        wanted = attributes or {}
        found = [point for point in self.points(name) if dict(point.attributes) == wanted]
        assert len(found) == 1, f"{name} {wanted}: {self.points(name)}"
        value: float = found[0].value
        return value

    def histogram(self, name: str) -> HistogramDataPoint:
        """The one data point of the histogram ``name``."""
        (point,) = self.points(name)
        assert isinstance(point, HistogramDataPoint), point
        return point

    def state_times(self) -> dict[str, float]:
        """Seconds per connection state."""
        return {
            point.attributes[ATTRIBUTES["state"]]: point.value
            for point in self.points("planstream.client.connection.time")
        }


class UnreferenceableProvider:
    """A meter provider that takes no weak reference (``__slots__``, no
    ``__weakref__``), handing out another provider's meters: the client cannot
    share instruments by it. (OpenTelemetry's ``MeterProvider`` base has no
    ``__slots__``, so this one does not derive from it.)"""

    __slots__ = ("_inner",)

    def __init__(self, inner: MeterProvider) -> None:
        self._inner = inner

    def get_meter(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: Any = None,
    ) -> Any:
        return self._inner.get_meter(name, version, schema_url, attributes)


class CountingExporter(MetricExporter):
    """A metric exporter that keeps the last export and counts them (a
    PeriodicExportingMetricReader calls it from the reader's own thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.exports = 0
        self.last: MetricsData | None = None

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self.exports += 1
        self.last = metrics_data
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Nothing to release."""


class ErrorRecords(logging.Handler):
    """Keeps the ERROR records of a logger (the SDK logs a failed callback there)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
