"""The client (asyncio I/O): ``PlanStreamClient`` and the pieces it is built from.

* :mod:`~planstream.client.client` - ``PlanStreamClient``, the public API;
* :mod:`~planstream.client.inbox` - a subscription's bounded inbox and iterator;
* :mod:`~planstream.client.router` - sequencer, per-plan channels, fan-out;
* :mod:`~planstream.client.channel` - one plan's channel and resume positions;
* :mod:`~planstream.client.connection_driver` - ``ConnectionDriver``: feeds the
  connection state machine and performs every action it returns (connect,
  reconnect, poll, probe, resume);
* :mod:`~planstream.client.websocket_connection` - one open WebSocket: the reader,
  a watchdog timer armed for its next deadline, an outbox sender while there is
  something to send;
* :mod:`~planstream.client.router_signals` - ``RouterSignals``: what the router
  tells the connection (outbox ready, channels changed, deadline changed);
* :mod:`~planstream.client.token_source` - the token of each connect (a provider
  or a static token); a failing provider is logged and retried with backoff;
* :mod:`~planstream.client.polling` - ``PlanPollers``: HTTP long-polling of every plan;
* :mod:`~planstream.client.callbacks` - ``client.on`` callbacks;
* :mod:`~planstream.client.stats` - counters and state changes;
* :mod:`~planstream.client.clock` - the monotonic clock the connection sleeps on;
* :mod:`~planstream.client.flag` - a lean ``asyncio.Event``;
* :mod:`~planstream.client.log_throttle` - rate-limited warnings with counts.
"""

from planstream.client.callbacks import Callback, CallbackRegistry, CallbackTarget
from planstream.client.channel import PlanChannel, Position, precedes_or_equals
from planstream.client.client import PlanStreamClient, StateHook
from planstream.client.clock import now, sleep_until
from planstream.client.connection_driver import ConnectionDriver
from planstream.client.flag import Flag
from planstream.client.inbox import Subscription, SubscriptionInbox
from planstream.client.log_throttle import WarningThrottle
from planstream.client.polling import PlanPollers, PollReports, PollTarget
from planstream.client.router import StreamRouter
from planstream.client.router_signals import RouterSignals, SignalListener, bind_router
from planstream.client.stats import ClientStats, ConnectionCounters, StateChange
from planstream.client.token_source import TokenProvider, TokenSource
from planstream.client.websocket_connection import OpenWebSocket

__all__ = [
    "Callback",
    "CallbackRegistry",
    "CallbackTarget",
    "ClientStats",
    "ConnectionCounters",
    "ConnectionDriver",
    "Flag",
    "OpenWebSocket",
    "PlanChannel",
    "PlanPollers",
    "PlanStreamClient",
    "PollReports",
    "PollTarget",
    "Position",
    "RouterSignals",
    "SignalListener",
    "StateChange",
    "StateHook",
    "StreamRouter",
    "Subscription",
    "SubscriptionInbox",
    "TokenProvider",
    "TokenSource",
    "WarningThrottle",
    "bind_router",
    "now",
    "precedes_or_equals",
    "sleep_until",
]
