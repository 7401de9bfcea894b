"""The client (asyncio I/O): ``PlanStreamClient`` and what a user writes with it.

The face exports what users write; every name is imported on first use (PEP
562). The pieces the client is built from stay in their modules:

* :mod:`~planstream.client.client` - ``PlanStreamClient``, the public API;
* :mod:`~planstream.client.inbox` - a subscription's bounded inbox and iterator;
* :mod:`~planstream.client.checkpoint` - the durable cursor: each plan's finished
  position in a SQLite file (``ClientSettings.checkpoint``), committed as the user goes;
* :mod:`~planstream.client.connection_driver` - ``ConnectionDriver``: feeds the
  connection state machine and performs every action it returns (connect,
  reconnect, poll, probe, resume);
* :mod:`~planstream.client.websocket_connection` - one open WebSocket: the reader,
  a watchdog timer armed for its next deadline, an outbox sender while there is
  something to send;
* :mod:`~planstream.client.router_signals` - ``ConnectionSignals``: what the pure
  router (:mod:`planstream.router`) tells the connection (outbox ready,
  channels changed, deadline changed);
* :mod:`~planstream.client.token_source` - the token of each connect (a provider
  or a static token); a failing provider is logged and retried with backoff;
* :mod:`~planstream.client.polling` - ``PlanPollers``: HTTP long-polling of every plan;
* :mod:`~planstream.client.publisher` - ``PlanPublisher``: typed publishing over HTTP;
* :mod:`~planstream.client.plan_api` - ``PlanApi``: the HTTP endpoints (snapshot,
  plans, publish) that the client, the publisher and the CLI share;
* :mod:`~planstream.client.http_session` - ``HttpSession``: token, TLS, retries and
  typed errors of every HTTP request;
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
    from planstream.client.publisher import PlanPublisher
    from planstream.client.stats import ClientStats, StateChange
    from planstream.client.token_source import TokenProvider
else:
    lazy_import(
        globals(),
        {
            "PlanStreamClient": "planstream.client.client",
            "Subscription": "planstream.client.inbox",
            "PlanPublisher": "planstream.client.publisher",
            "StateChange": "planstream.client.stats",
            "ClientStats": "planstream.client.stats",
            "TokenProvider": "planstream.client.token_source",
        },
    )

__all__ = [
    "ClientStats",
    "PlanPublisher",
    "PlanStreamClient",
    "StateChange",
    "Subscription",
    "TokenProvider",
]
