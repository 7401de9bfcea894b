"""planstream: stream plan-execution updates over WebSocket, exactly once, in order.

The pipeline, as laid out in this package:

* :mod:`planstream.schema` - pydantic models of events, snapshots and frames;
* :mod:`planstream.codec` - one-call decoding of raw frames, typed errors;
* :mod:`planstream.negotiation` - protocol/schema version checks;
* :mod:`planstream.sequencer` - de-duplication, ordering, gap repair;
* :mod:`planstream.plan_state` - the reducer folding events into a snapshot;
* :mod:`planstream.backoff` - reconnect delays;
* :mod:`planstream.settings` - ``ClientSettings`` / ``PLANSTREAM_*``;
* :mod:`planstream.errors` - the exception tree rooted at ``PlanStreamError``.

All of the above are pure (no asyncio, no sockets, no clock of their own).
"""

from planstream.backoff import BackoffPolicy, BackoffSchedule, JitterMode
from planstream.codec import (
    RawFrame,
    decode_client_frame,
    decode_event,
    decode_server_frame,
    encode_frame,
)
from planstream.errors import (
    FatalError,
    FrameTooLargeError,
    IncompatibleProtocolError,
    InvalidFrameError,
    PlanStateError,
    PlanStreamError,
    ProtocolError,
    RetryableError,
    SettingsError,
)
from planstream.negotiation import check_hello, client_versions, incompatible_subprotocols
from planstream.plan_state import PlanState
from planstream.schema import (
    KNOWN_EVENT_KINDS,
    PROTOCOL_VERSION,
    SCHEMA_VERSION,
    SUBPROTOCOL,
    TERMINAL_PLAN_STATUSES,
    BatchFrame,
    ClientFrame,
    ErrorCode,
    ErrorFrame,
    Event,
    EventBase,
    EventKind,
    Head,
    HeartbeatFrame,
    HelloFrame,
    KnownEvent,
    LogData,
    LogEvent,
    LogLevel,
    LogStream,
    PingFrame,
    PlanProgressData,
    PlanProgressEvent,
    PlanSnapshot,
    PlanStatus,
    PlanStatusData,
    PlanStatusEvent,
    PongFrame,
    RequestId,
    ResyncFrame,
    ResyncReason,
    ServerFrame,
    StepStatus,
    StepStatusData,
    StepStatusEvent,
    SubscribedFrame,
    SubscribeFrame,
    UnknownEvent,
    UnsubscribedFrame,
    UnsubscribeFrame,
)
from planstream.sequencer import (
    Delivery,
    RepairReason,
    Resubscribe,
    Resync,
    Sequencer,
    SequencerOutput,
    SequencerStats,
)
from planstream.settings import (
    ClientSettings,
    HeartbeatSettings,
    ReconnectSettings,
    SequencerSettings,
    TransportMode,
)

__version__ = "0.1.0"

__all__ = [
    "KNOWN_EVENT_KINDS",
    "PROTOCOL_VERSION",
    "SCHEMA_VERSION",
    "SUBPROTOCOL",
    "TERMINAL_PLAN_STATUSES",
    "BackoffPolicy",
    "BackoffSchedule",
    "BatchFrame",
    "ClientFrame",
    "ClientSettings",
    "Delivery",
    "ErrorCode",
    "ErrorFrame",
    "Event",
    "EventBase",
    "EventKind",
    "FatalError",
    "FrameTooLargeError",
    "Head",
    "HeartbeatFrame",
    "HeartbeatSettings",
    "HelloFrame",
    "IncompatibleProtocolError",
    "InvalidFrameError",
    "JitterMode",
    "KnownEvent",
    "LogData",
    "LogEvent",
    "LogLevel",
    "LogStream",
    "PingFrame",
    "PlanProgressData",
    "PlanProgressEvent",
    "PlanSnapshot",
    "PlanState",
    "PlanStateError",
    "PlanStatus",
    "PlanStatusData",
    "PlanStatusEvent",
    "PlanStreamError",
    "PongFrame",
    "ProtocolError",
    "RawFrame",
    "ReconnectSettings",
    "RepairReason",
    "RequestId",
    "Resubscribe",
    "Resync",
    "ResyncFrame",
    "ResyncReason",
    "RetryableError",
    "Sequencer",
    "SequencerOutput",
    "SequencerSettings",
    "SequencerStats",
    "ServerFrame",
    "SettingsError",
    "StepStatus",
    "StepStatusData",
    "StepStatusEvent",
    "SubscribeFrame",
    "SubscribedFrame",
    "TransportMode",
    "UnknownEvent",
    "UnsubscribeFrame",
    "UnsubscribedFrame",
    "__version__",
    "check_hello",
    "client_versions",
    "decode_client_frame",
    "decode_event",
    "decode_server_frame",
    "encode_frame",
    "incompatible_subprotocols",
]
