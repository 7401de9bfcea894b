"""The client (asyncio I/O): ``PlanStreamClient`` and the pieces it is built from.

* :mod:`~planstream.client.client` - ``PlanStreamClient``, the public API;
* :mod:`~planstream.client.inbox` - a subscription's bounded inbox and iterator;
* :mod:`~planstream.client.signals` - the router's signals as flags;
* :mod:`~planstream.client.websocket_client` - ``WebSocketClient``: connects, reconnects,
  keeps alive and resumes, performing the connection state machine's actions;
* :mod:`~planstream.client.polling` - the HTTP long-polling phase;
* :mod:`~planstream.client.callbacks` - ``client.on`` callbacks;
* :mod:`~planstream.client.stats` - counters and state changes;
* :mod:`~planstream.client.clock` - the monotonic clock the connection sleeps on;
* :mod:`~planstream.client.flag` - a lean ``asyncio.Event``;
* :mod:`~planstream.client.log_throttle` - rate-limited warnings with counts.
"""

from planstream.client.callbacks import Callback, CallbackRegistry, CallbackTarget
from planstream.client.client import PlanStreamClient, StateHook
from planstream.client.clock import now, sleep_until
from planstream.client.flag import Flag
from planstream.client.inbox import Subscription, SubscriptionInbox
from planstream.client.log_throttle import WarningThrottle
from planstream.client.polling import PollingPhase
from planstream.client.signals import FlagSignals
from planstream.client.stats import ClientStats, ConnectionCounters, StateChange
from planstream.client.websocket_client import TokenProvider, WebSocketClient

__all__ = [
    "Callback",
    "CallbackRegistry",
    "CallbackTarget",
    "ClientStats",
    "ConnectionCounters",
    "Flag",
    "FlagSignals",
    "PlanStreamClient",
    "PollingPhase",
    "StateChange",
    "StateHook",
    "Subscription",
    "SubscriptionInbox",
    "TokenProvider",
    "WarningThrottle",
    "WebSocketClient",
    "now",
    "sleep_until",
]
