"""A program client_metrics.feature runs in a subprocess: a client that reads
one plan to its end, with OpenTelemetry unavailable or with the global provider.

``python metrics_program.py no-otel URL PLAN``: a ``sys.meta_path`` finder
refuses every ``opentelemetry`` module first (as if the extra were not
installed), and ``OTEL_PYTHON_METER_PROVIDER`` names a provider, so the client
tries to import the API; it reads the plan with the default ``meter_provider``.

``python metrics_program.py unused URL PLAN``: the API is installed, but
nothing imports it and no provider is named: the client reads the plan.

``python metrics_program.py global URL PLAN``: one client is entered before the
program sets the global MeterProvider (an SDK one with an InMemoryMetricReader)
and one after; both read the plan.

It prints one JSON line: what it took, each client's delivery observers, the
``opentelemetry`` modules loaded and (``global``) what the reader collected.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.machinery
import json
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any


class RefuseOpenTelemetry(importlib.abc.MetaPathFinder):
    """Makes ``import opentelemetry...`` fail as if it were not installed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "opentelemetry" or fullname.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


async def read_to_end(client: Any, plan_id: str) -> int:
    taken = 0
    async for _item in client.subscribe(plan_id):
        taken += 1
    return taken


async def without_otel(url: str, plan_id: str) -> dict[str, Any]:
    from planstream import PlanStreamClient

    async with PlanStreamClient(url) as client:
        taken = await read_to_end(client, plan_id)
        observers = len(client._observing.durable)
    return {"taken": taken, "observers": [observers]}


async def with_global_provider(url: str, plan_id: str) -> dict[str, Any]:
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from planstream import PlanStreamClient

    async with PlanStreamClient(url) as before:
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        async with PlanStreamClient(url) as after:
            taken = await read_to_end(before, plan_id) + await read_to_end(after, plan_id)
            observers = [len(before._observing.durable), len(after._observing.durable)]
    figures: dict[str, Any] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                point = metric.data.data_points[0] if metric.data.data_points else None
                figures[metric.name] = getattr(point, "value", getattr(point, "count", None))
    return {"taken": taken, "observers": observers, "figures": figures}


def main() -> None:
    mode, url, plan_id = sys.argv[1:4]
    if mode == "no-otel":
        sys.meta_path.insert(0, RefuseOpenTelemetry())
        os.environ["OTEL_PYTHON_METER_PROVIDER"] = "sdk"
        result = asyncio.run(without_otel(url, plan_id))
    elif mode == "unused":
        os.environ.pop("OTEL_PYTHON_METER_PROVIDER", None)
        result = asyncio.run(without_otel(url, plan_id))
    else:
        result = asyncio.run(with_global_provider(url, plan_id))
    result["opentelemetry_modules"] = sorted(
        name for name in sys.modules if name.split(".")[0] == "opentelemetry"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
