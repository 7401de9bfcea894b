"""What watches a client's subscriptions besides their users: the durable cursor and the metrics.

:class:`SubscriptionObservers` is made in ``PlanStreamClient.__aenter__`` and
closed in its ``aclose``. It opens the checkpoint file when
``settings.checkpoint`` is set (:mod:`planstream.client.checkpoint`, imported
only then: ``sqlite3`` costs the other clients nothing) and starts the
OpenTelemetry instruments when a meter provider records
(:mod:`planstream.client.telemetry`). Each subscription is handed the
:class:`~planstream.client.inbox.DeliveryObserver` tuple; an empty one costs
the hot path nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from planstream.client.inbox import DeliveryObserver
from planstream.client.telemetry import ClientTelemetry

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider

    from planstream.client.checkpoint import CheckpointObserver
    from planstream.client.connection_driver import ConnectionDriver
    from planstream.router import StreamRouter
    from planstream.settings import ClientSettings

__all__ = ["SubscriptionObservers"]


class SubscriptionObservers:
    """The durable cursor (if set) and the metrics (if recorded) of one client."""

    __slots__ = ("checkpoint", "durable", "telemetry", "transient")

    def __init__(
        self, checkpoint: CheckpointObserver | None, telemetry: ClientTelemetry | None
    ) -> None:
        self.checkpoint = checkpoint
        self.telemetry = telemetry
        #: What a subscription that keeps the durable cursor is handed.
        self.durable: tuple[DeliveryObserver, ...] = tuple(
            observer for observer in (checkpoint, telemetry) if observer is not None
        )
        #: What one that does not (``watch()`` folds from the start) is handed.
        self.transient: tuple[DeliveryObserver, ...] = () if telemetry is None else (telemetry,)

    @classmethod
    def none(cls) -> SubscriptionObservers:
        """A client not entered yet: nothing observes."""
        return cls(None, None)

    @classmethod
    def start(
        cls,
        settings: ClientSettings,
        meter_provider: MeterProvider | None,
        router: StreamRouter,
        driver: ConnectionDriver,
    ) -> SubscriptionObservers:
        """Open the checkpoint file first (a bad one starts nothing), then the metrics.

        Raises:
            CheckpointError: the checkpoint file cannot be opened or is not ours.
        """
        checkpoint = None
        if settings.checkpoint is not None:
            from planstream.client.checkpoint import CheckpointObserver, CheckpointStore

            checkpoint = CheckpointObserver(CheckpointStore.open(settings.checkpoint))
        return cls(checkpoint, ClientTelemetry.start(meter_provider, router, driver))

    def start_after(self, plan_id: str) -> str | None:
        """Where ``subscribe(plan_id)`` without ``last_event_id`` starts (None: the start)."""
        return None if self.checkpoint is None else self.checkpoint.start_after(plan_id)

    def close(self) -> None:
        """The client closed: the checkpoint file is closed, the metrics stop reading it."""
        if self.checkpoint is not None:
            self.checkpoint.store.close()
        if self.telemetry is not None:
            self.telemetry.close()
