"""The client (asyncio I/O): ``PlanStreamClient`` and what a user writes with it.

The face exports what users write; every name is imported on first use (PEP
562). The pieces the client is built from stay in their modules:

* :mod:`~planstream.client.client` - ``PlanStreamClient``, the public API;
* :mod:`~planstream.client.inbox` - a subscription's bounded inbox and iterator;
* :mod:`~planstream.client.router` - sequencer, per-plan channels, fan-out;
* :mod:`~planstream.client.channel` - one plan's channel and resume positions;
* :mod:`~planstream.client.websocket_client` - ``WebSocketClient``: connects, reconnects,
  keeps alive and resumes, performing the connection state machine's actions;
* :mod:`~planstream.client.polling` - the HTTP long-polling phase;
* :mod:`~planstream.client.callbacks` - ``client.on`` callbacks;
* :mod:`~planstream.client.stats` - counters and state changes;
* :mod:`~planstream.client.clock` - the monotonic clock the connection sleeps on;
* :mod:`~planstream.client.flag` - a lean ``asyncio.Event``;
* :mod:`~planstream.client.log_throttle` - rate-limited warnings with counts.
"""

from typing import TYPE_CHECKING

from planstream.imports import lazy_import

if TYPE_CHECKING:
    from planstream.client.client import PlanStreamClient
    from planstream.client.inbox import Subscription
    from planstream.client.stats import ClientStats, StateChange
    from planstream.client.websocket_client import TokenProvider
else:
    lazy_import(
        globals(),
        {
            "PlanStreamClient": "planstream.client.client",
            "Subscription": "planstream.client.inbox",
            "StateChange": "planstream.client.stats",
            "ClientStats": "planstream.client.stats",
            "TokenProvider": "planstream.client.websocket_client",
        },
    )

__all__ = ["ClientStats", "PlanStreamClient", "StateChange", "Subscription", "TokenProvider"]
