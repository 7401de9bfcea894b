"""planstream: stream plan-execution updates over WebSocket, exactly once, in order.

The top level holds what a user writes: the client, its settings, the event
models and plan state, ``Resync``, and the error tree. Every name is imported on
first use (PEP 562), so ``import planstream`` loads no pydantic, no asyncio and
no network stack; the pure modules stay pure at runtime, not only on paper.

The pipeline, as laid out in this package (advanced pieces live here, see
docs/reference/api.md):

* :mod:`planstream.schema` - pydantic models of events, snapshots and frames;
* :mod:`planstream.codec` - one-call decoding of raw frames, typed errors;
* :mod:`planstream.negotiation` - protocol/schema version checks;
* :mod:`planstream.sequencer` - de-duplication, ordering, gap repair (one
  :mod:`planstream.plan_cursor` per plan; repairs paced by :mod:`planstream.repairs`);
* :mod:`planstream.plan_state` - the reducer folding events into a snapshot;
* :mod:`planstream.backoff` - reconnect delays;
* :mod:`planstream.close_codes` - what a close code, refused upgrade or network
  error means (a ``Verdict``);
* :mod:`planstream.connection_state` - the connection state machine: what the
  transport does after each connection event (:mod:`planstream.connection_actions`);
* :mod:`planstream.settings` - ``ClientSettings`` / ``PLANSTREAM_*``;
* :mod:`planstream.errors` - the exception tree rooted at ``PlanStreamError``.

All of the above are pure (no asyncio, no sockets, no clock of their own).
The I/O lives in :mod:`planstream.transport` (WebSocket and HTTP polling),
:mod:`planstream.client` (``PlanStreamClient``, exported here) and
:mod:`planstream.server` (the reference server).
"""

import logging

from planstream.imports import lazy_import

# typing's own TYPE_CHECKING costs an import of typing; type checkers treat this
# name the same way.
TYPE_CHECKING = False

__version__ = "0.1.0"

# The library's loggers ("planstream", "planstream.client", "planstream.server")
# stay silent unless the application configures logging (logging HOWTO, "Configuring
# Logging for a Library").
logging.getLogger("planstream").addHandler(logging.NullHandler())

__all__ = [
    "AuthenticationError",
    "CheckpointError",
    "ClientClosedError",
    "ClientSettings",
    "ClientStats",
    "ConnectTimeoutError",
    "ConnectionLostError",
    "ConnectionState",
    "EndpointNotFoundError",
    "Event",
    "FatalError",
    "ForbiddenError",
    "FrameTooLargeError",
    "HeartbeatSettings",
    "HeartbeatTimeoutError",
    "IncompatibleProtocolError",
    "InvalidCallbackError",
    "InvalidFrameError",
    "InvalidIdError",
    "InvalidResponseError",
    "InvalidStateError",
    "InvalidUrlError",
    "LogData",
    "LogEvent",
    "LogLevel",
    "LogStream",
    "MessageTooBigError",
    "PlanEndedError",
    "PlanNotFoundError",
    "PlanProgressData",
    "PlanProgressEvent",
    "PlanPublisher",
    "PlanSnapshot",
    "PlanState",
    "PlanStateError",
    "PlanStatus",
    "PlanStatusData",
    "PlanStatusEvent",
    "PlanStreamClient",
    "PlanStreamError",
    "PlanStreamWarning",
    "PlanSummary",
    "PolicyViolationError",
    "PollingSettings",
    "ProtocolError",
    "PublishedEvent",
    "RateLimitedError",
    "ReconnectSettings",
    "RepairFailedError",
    "RequestRefusedError",
    "RequestRetriesExhaustedError",
    "Resync",
    "ResyncReason",
    "RetriesExhaustedError",
    "RetryableError",
    "SequencerSettings",
    "ServerUnavailableError",
    "SettingsError",
    "SlowConsumerError",
    "SslSettings",
    "StateChange",
    "StepStatus",
    "StepStatusData",
    "StepStatusEvent",
    "Subscription",
    "SubscriptionError",
    "TLSError",
    "UnknownEvent",
    "UpgradeRefusedError",
    "__version__",
]

if TYPE_CHECKING:
    from planstream.client import (
        ClientStats,
        PlanPublisher,
        PlanStreamClient,
        StateChange,
        Subscription,
    )
    from planstream.connection_state import ConnectionState
    from planstream.delivery import Resync
    from planstream.errors import (
        AuthenticationError,
        CheckpointError,
        ClientClosedError,
        ConnectionLostError,
        ConnectTimeoutError,
        EndpointNotFoundError,
        FatalError,
        ForbiddenError,
        FrameTooLargeError,
        HeartbeatTimeoutError,
        IncompatibleProtocolError,
        InvalidCallbackError,
        InvalidFrameError,
        InvalidIdError,
        InvalidResponseError,
        InvalidStateError,
        InvalidUrlError,
        MessageTooBigError,
        PlanEndedError,
        PlanNotFoundError,
        PlanStateError,
        PlanStreamError,
        PlanStreamWarning,
        PolicyViolationError,
        ProtocolError,
        RateLimitedError,
        RepairFailedError,
        RequestRefusedError,
        RequestRetriesExhaustedError,
        RetriesExhaustedError,
        RetryableError,
        ServerUnavailableError,
        SettingsError,
        SlowConsumerError,
        SubscriptionError,
        TLSError,
        UpgradeRefusedError,
    )
    from planstream.plan_state import PlanState
    from planstream.schema import (
        Event,
        LogData,
        LogEvent,
        LogLevel,
        LogStream,
        PlanProgressData,
        PlanProgressEvent,
        PlanSnapshot,
        PlanStatus,
        PlanStatusData,
        PlanStatusEvent,
        PlanSummary,
        PublishedEvent,
        ResyncReason,
        StepStatus,
        StepStatusData,
        StepStatusEvent,
        UnknownEvent,
    )
    from planstream.settings import (
        ClientSettings,
        HeartbeatSettings,
        PollingSettings,
        ReconnectSettings,
        SequencerSettings,
        SslSettings,
    )
else:
    # Where each public name lives; imported on first use.
    lazy_import(
        globals(),
        {
            **dict.fromkeys(
                ("PlanStreamClient", "PlanPublisher", "Subscription", "StateChange", "ClientStats"),
                "planstream.client",
            ),
            "ConnectionState": "planstream.connection_state",
            **dict.fromkeys(
                (
                    "ClientSettings",
                    "ReconnectSettings",
                    "HeartbeatSettings",
                    "PollingSettings",
                    "SequencerSettings",
                    "SslSettings",
                ),
                "planstream.settings",
            ),
            **dict.fromkeys(
                (
                    "Event",
                    "PlanStatusEvent",
                    "StepStatusEvent",
                    "PlanProgressEvent",
                    "LogEvent",
                    "UnknownEvent",
                    "PlanStatus",
                    "StepStatus",
                    "LogLevel",
                    "LogStream",
                    "PlanStatusData",
                    "StepStatusData",
                    "PlanProgressData",
                    "LogData",
                    "PlanSnapshot",
                    "PlanSummary",
                    "PublishedEvent",
                    "ResyncReason",
                ),
                "planstream.schema",
            ),
            "Resync": "planstream.delivery",
            "PlanState": "planstream.plan_state",
            # The whole error tree (every exception the SDK raises or reports).
            **{name: "planstream.errors" for name in __all__ if name.endswith("Error")},
            "PlanStreamWarning": "planstream.errors",
        },
    )
