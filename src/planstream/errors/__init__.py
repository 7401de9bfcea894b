"""The planstream exception tree.

Every error planstream raises derives from :class:`PlanStreamError`, so one
``except PlanStreamError`` catches them all. Foreign exceptions (pydantic's
``ValidationError``, ``json`` errors, socket errors) are translated where they
cross into planstream and never escape raw.

.. code-block:: text

    PlanStreamError
    ├── SettingsError                 bad configuration (also a ValueError)
    │   └── InvalidUrlError           a server URL planstream cannot use (shown redacted)
    ├── PlanStateError                an event folded into the wrong plan (also a ValueError)
    ├── InvalidStateError             our mistake: a connection input in the wrong state
    ├── ClientClosedError             the client was closed under a running iterator
    ├── CheckpointError               the durable cursor's file cannot be opened or written
    ├── InvalidIdError                a bad plan id or resume id, refused locally (a ValueError)
    ├── InvalidCallbackError          client.on() got no event model or no callable (a TypeError)
    ├── PlanNotFoundError             the server does not know the plan (HTTP 404; a LookupError)
    ├── SubscriptionError             the server refused one subscription (``code``)
    │   └── RepairFailedError         one plan's stream stayed broken: that subscription ends
    ├── FatalError                    retrying cannot help: stop and tell the user
    │   ├── IncompatibleProtocolError the server speaks another protocol/schema major
    │   ├── AuthenticationError       HTTP 401 / close 4001, no token provider or refresh failed
    │   ├── ForbiddenError            HTTP 403 / close 4003: the token may not read
    │   ├── PolicyViolationError      close 1008: the server saw abuse
    │   ├── MessageTooBigError        close 1009: a frame exceeded one side's limit (``refused_by``)
    │   ├── TLSError                  TLS handshake failed: unknown CA, wrong host name, ...
    │   ├── RetriesExhaustedError     max_attempts used up; ``last_error`` says why
    │   ├── RequestRefusedError       an HTTP request refused (400, 413, 422, ...); ``problem``
    │   │   └── PlanEndedError        HTTP 409: the plan has a terminal status, its stream is closed
    │   └── ConnectTimeoutError       no first connection within ``connect_timeout``
    ├── RetryableError                transient: reconnect with backoff and resume
    │   ├── ConnectionLostError       abrupt loss (1006), refused connection, DNS failure, timeout
    │   ├── ServerUnavailableError    close 1001/1011/1012/1013, HTTP 503; ``retry_after``
    │   ├── RateLimitedError          close 4029, HTTP 429; ``retry_after``
    │   ├── SlowConsumerError         close 4008: we fell behind; replay is lossless
    │   ├── HeartbeatTimeoutError     no frame for ``heartbeat_s`` x 2.5
    │   ├── UpgradeRefusedError       another HTTP answer to the upgrade (a proxy?); ``status``
    │   │   └── EndpointNotFoundError no planstream endpoint answers at that URL (a wrong path)
    │   └── RequestRetriesExhaustedError  an HTTP request failed on every attempt; ``last_error``
    └── ProtocolError                 the peer sent something the protocol forbids
        ├── InvalidFrameError         not JSON, not an object, unknown type, bad fields
        ├── FrameTooLargeError        larger than ``max_frame_bytes``
        └── InvalidResponseError      an HTTP answer that is not a planstream one

``PlanStreamWarning`` (also a ``UserWarning``) is the category of the warnings
planstream emits with :func:`warnings.warn`, e.g. for a ``PLANSTREAM_*``
variable no setting reads (a misspelling); it is never raised unless the
warnings filter turns it into an error.

``IncompatibleProtocolError`` is both a :class:`FatalError` and a
:class:`ProtocolError`. The transport layer decides whether a
:class:`ProtocolError` from one frame is fatal; the codec only reports it.
``InvalidStateError`` is our own mistake (like h11's ``LocalProtocolError``),
never the peer's: the transport fed the connection state machine an input it
does not accept in its current state.

The classes live in modules by theme and are all importable from here:
:mod:`~planstream.errors.base` (the root, the three branches,
:func:`frame_excerpt`), :mod:`~planstream.errors.local` (settings, URLs, ids,
callbacks, our own state; ``PlanStreamWarning``),
:mod:`~planstream.errors.protocol` (frames, versions, subscriptions),
:mod:`~planstream.errors.connection` (close codes, upgrades, the network) and
:mod:`~planstream.errors.http` (the HTTP half).
"""

from __future__ import annotations

from planstream.errors.base import EXCERPT_LIMIT as EXCERPT_LIMIT
from planstream.errors.base import FatalError, PlanStreamError, ProtocolError, RetryableError
from planstream.errors.base import frame_excerpt as frame_excerpt
from planstream.errors.connection import (
    AuthenticationError,
    ConnectionLostError,
    ConnectTimeoutError,
    EndpointNotFoundError,
    ForbiddenError,
    HeartbeatTimeoutError,
    MessageTooBigError,
    PolicyViolationError,
    RateLimitedError,
    RetriesExhaustedError,
    ServerUnavailableError,
    SlowConsumerError,
    TLSError,
    UpgradeRefusedError,
)
from planstream.errors.http import (
    InvalidResponseError,
    PlanEndedError,
    PlanNotFoundError,
    RequestRefusedError,
    RequestRetriesExhaustedError,
)
from planstream.errors.local import (
    CheckpointError,
    ClientClosedError,
    InvalidCallbackError,
    InvalidIdError,
    InvalidStateError,
    InvalidUrlError,
    PlanStateError,
    PlanStreamWarning,
    SettingsError,
)
from planstream.errors.protocol import (
    FrameTooLargeError,
    IncompatibleProtocolError,
    InvalidFrameError,
    RepairFailedError,
    SubscriptionError,
)

__all__ = [
    "AuthenticationError",
    "CheckpointError",
    "ClientClosedError",
    "ConnectTimeoutError",
    "ConnectionLostError",
    "EndpointNotFoundError",
    "FatalError",
    "ForbiddenError",
    "FrameTooLargeError",
    "HeartbeatTimeoutError",
    "IncompatibleProtocolError",
    "InvalidCallbackError",
    "InvalidFrameError",
    "InvalidIdError",
    "InvalidResponseError",
    "InvalidStateError",
    "InvalidUrlError",
    "MessageTooBigError",
    "PlanEndedError",
    "PlanNotFoundError",
    "PlanStateError",
    "PlanStreamError",
    "PlanStreamWarning",
    "PolicyViolationError",
    "ProtocolError",
    "RateLimitedError",
    "RepairFailedError",
    "RequestRefusedError",
    "RequestRetriesExhaustedError",
    "RetriesExhaustedError",
    "RetryableError",
    "ServerUnavailableError",
    "SettingsError",
    "SlowConsumerError",
    "SubscriptionError",
    "TLSError",
    "UpgradeRefusedError",
]

# planstream.errors is the one public home of the tree: tracebacks, reprs and
# pickles name planstream.errors.X (as before the classes moved into modules by
# theme), and the package tests collect the tree by __module__. EXCERPT_LIMIT and
# frame_excerpt are helpers, not errors: re-exported (``as``) but not in __all__.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
