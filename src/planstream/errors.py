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
"""

from __future__ import annotations

from collections.abc import Sequence

from planstream.redaction import redact_secrets

__all__ = [
    "AuthenticationError",
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

#: Longest excerpt of an offending frame kept in an error (protocol errors
#: must be debuggable without letting a hostile frame bloat logs).
EXCERPT_LIMIT = 200


def frame_excerpt(raw: bytes | str, limit: int = EXCERPT_LIMIT) -> str:
    """Return at most ``limit`` characters of ``raw`` for an error message."""
    if isinstance(raw, bytes | bytearray):
        text = bytes(raw[: limit * 4]).decode("utf-8", errors="replace")
    else:
        text = raw
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


class PlanStreamError(Exception):
    """Root of every exception planstream raises."""


class SettingsError(PlanStreamError, ValueError):
    """Configuration is invalid.

    ``problems`` lists ``(env_var, message)`` pairs, one per bad value; the
    offending values themselves are never included (they may be secrets).
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        lines = "; ".join(f"{name}: {message}" for name, message in self.problems)
        super().__init__(f"invalid planstream settings: {lines}")


class PlanStateError(PlanStreamError, ValueError):
    """An event was folded into the state of a different plan."""


class InvalidIdError(PlanStreamError, ValueError):
    """A plan id or ``last_event_id`` the caller passed breaks protocol §1.

    Raised by ``subscribe()``, ``watch()`` and ``run()`` before anything is
    sent, so a bad id never reaches the server (and never costs the other
    subscriptions on the connection anything). The text says which rule was
    broken; it never repeats the id (it may be huge or hold control characters).

    Attributes:
        field: ``"plan_id"`` or ``"last_event_id"``.
        problem: what is wrong with it.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"the client refused this {field} before sending it: {problem}")


class ClientClosedError(PlanStreamError):
    """The client was closed while an iterator or a wait was still running."""


class SubscriptionError(PlanStreamError):
    """The server refused or ended one subscription (an ``error`` frame, protocol §3).

    The connection and the other subscriptions carry on.

    Attributes:
        plan_id: the plan whose subscription failed.
        code: the server's ``error.code`` (``not_found``, ``forbidden``,
            ``too_many_subscriptions``, ...).
    """

    def __init__(self, plan_id: str, code: str, message: str) -> None:
        self.plan_id = plan_id
        self.code = code
        super().__init__(f"subscription to plan {plan_id!r} failed ({code}): {message}")


class RepairFailedError(SubscriptionError):
    """One plan's stream stayed broken through every repair (protocol §1).

    The client re-subscribed the plan from its last delivered event, backing
    off as the reconnect policy says, ``attempts`` times without the stream
    making progress (e.g. the server always answers with an event far ahead,
    or keeps sending an event the client cannot read). That subscription ends
    with this error; the connection and the other plans carry on. ``code`` is
    ``"repair_failed"``.

    Attributes:
        attempts: the re-subscriptions made without progress.
        last_seq: the seq last delivered (None: not known).
        cause: why the last repair was needed, in words.
    """

    def __init__(self, plan_id: str, *, attempts: int, last_seq: int | None, cause: str) -> None:
        self.attempts = attempts
        self.last_seq = last_seq
        self.cause = cause
        where = "its start" if last_seq is None else f"seq {last_seq}"
        super().__init__(
            plan_id,
            "repair_failed",
            f"the client gave up after {attempts} re-subscriptions without progress "
            f"past {where}; last cause: {cause}",
        )


class FatalError(PlanStreamError):
    """Retrying cannot help; the stream stops and the user is told why."""


class RetryableError(PlanStreamError):
    """A transient failure: the client reconnects with backoff and resumes."""


class ProtocolError(PlanStreamError):
    """The peer sent something the wire protocol does not allow."""


class InvalidFrameError(ProtocolError):
    """A frame could not be decoded.

    Attributes:
        reason: what is wrong, e.g. ``"not valid JSON"`` or
            ``"event.seq: Input should be a valid integer"``.
        excerpt: the start of the frame (at most 200 characters).
    """

    def __init__(self, reason: str, raw: bytes | str) -> None:
        self.reason = reason
        self.excerpt = frame_excerpt(raw)
        super().__init__(f"invalid frame: {reason} (frame: {self.excerpt!r})")


class FrameTooLargeError(ProtocolError):
    """A frame exceeded the negotiated ``max_frame_bytes`` (or a poll answer the
    client's ``polling.max_response_bytes``: ``what`` says which; ``size`` is then
    what was read before the client stopped reading)."""

    def __init__(self, size: int, limit: int, raw: bytes | str, *, what: str = "frame") -> None:
        self.size = size
        self.limit = limit
        self.what = what
        self.excerpt = frame_excerpt(raw)
        if what == "frame":
            message = f"frame of {size} bytes exceeds the limit of {limit} bytes"
        else:
            message = (
                f"the client refused a {what} of more than {limit} bytes "
                f"(stopped reading at {size} bytes)"
            )
        super().__init__(message)


class IncompatibleProtocolError(FatalError, ProtocolError):
    """The server speaks a protocol or schema major this client does not.

    Attributes:
        server: the server's versions as text (e.g. ``"protocol 2, schema 2.0"``).
        client: this client's versions as text.
    """

    def __init__(self, *, server: str, client: str, detail: str = "") -> None:
        self.server = server
        self.client = client
        message = f"incompatible server: server has {server}, client supports {client}"
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message)


class InvalidStateError(PlanStreamError):
    """An input the connection state machine does not accept in its current state.

    The caller's mistake (a transport bug), not the server's: like h11's
    ``LocalProtocolError``. Attributes: ``state`` and ``trigger``, as text.
    """

    def __init__(self, state: str, trigger: str) -> None:
        self.state = str(state)
        self.trigger = str(trigger)
        super().__init__(f"cannot handle {self.trigger!r} in connection state {self.state!r}")


# --- fatal: stop and tell the user (protocol §2, §4) ---------------------------------


class AuthenticationError(FatalError):
    """The token was refused (HTTP 401, close 4001) and cannot be renewed.

    Raised when there is no token provider, or when the token was refused
    again right after a refresh.
    """


class ForbiddenError(FatalError):
    """The token is valid but may not read (HTTP 403, close 4003)."""


class PolicyViolationError(FatalError):
    """The server closed the connection for a policy violation (close 1008)."""


class MessageTooBigError(FatalError):
    """A frame was too big for one side (close 1009).

    Attributes:
        refused_by: ``"server"`` (the server closed with 1009: a frame we sent
            exceeded its limit) or ``"client"`` (this client refused a frame
            larger than its ``max_frame_bytes`` and closed with 1009).
    """

    def __init__(self, message: str, *, refused_by: str = "server") -> None:
        self.refused_by = refused_by
        super().__init__(message)


class TLSError(FatalError):
    """The TLS handshake failed: retrying cannot fix a certificate or a TLS setup.

    An unknown CA, a certificate for another host name, an expired
    certificate, or TLS spoken to a plain-text port. Configure the CA
    (``PLANSTREAM_SSL__CA_FILE``, ``--ca-file``) or the URL.

    Attributes:
        reason: what the TLS library said (e.g. ``"Hostname mismatch,
            certificate is not valid for 'example.org'."``).
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"TLS failed: {reason}")


class RetriesExhaustedError(FatalError):
    """Every reconnect attempt allowed by ``max_attempts`` failed.

    Attributes:
        last_error: the failure of the last attempt (also the ``__cause__``).
        attempts: how many delayed attempts were made.
    """

    def __init__(self, last_error: PlanStreamError, attempts: int) -> None:
        self.last_error = last_error
        self.attempts = attempts
        super().__init__(f"gave up after {attempts} reconnect attempts; last error: {last_error}")
        self.__cause__ = last_error


# --- retryable: reconnect with backoff and resume (protocol §3, §4) ------------------


class ConnectionLostError(RetryableError):
    """The connection dropped or could not be made (1006, refused, DNS, timeout)."""


class ServerUnavailableError(RetryableError):
    """The server is going away, restarting, failing or overloaded.

    Attributes:
        retry_after: the server's hint in seconds, or None.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class RateLimitedError(RetryableError):
    """The server rate-limited this client (close 4029, HTTP 429).

    Attributes:
        retry_after: the server's hint in seconds, or None.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class SlowConsumerError(RetryableError):
    """The server dropped the connection because we fell behind (close 4008)."""


class HeartbeatTimeoutError(RetryableError):
    """No frame at all arrived for too long: the connection is dead (protocol §3).

    Attributes:
        silent_for: seconds without a frame.
        limit: the allowed silence (``heartbeat_s`` x ``dead_after_factor``).
    """

    def __init__(self, *, silent_for: float, limit: float) -> None:
        self.silent_for = silent_for
        self.limit = limit
        super().__init__(f"no frame for {silent_for:.1f} s (limit {limit:.1f} s)")


class UpgradeRefusedError(RetryableError):
    """An HTTP answer came where a WebSocket upgrade was expected.

    Typically a proxy that does not pass WebSockets; with transport ``auto``
    repeated refusals switch the client to HTTP polling (protocol §6).

    Attributes:
        status: the HTTP status.
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class InvalidCallbackError(PlanStreamError, TypeError):
    """``client.on(...)`` refused a registration: nothing was registered.

    The target was not an event model (``StepStatusEvent``, ...) or
    ``Resync`` - a kind string such as ``"step.status"``, ``None``, any other
    object - or the handler was not callable. The text names what to pass
    instead (the model of a kind string, the closest model of a misspelled
    one). Also a ``TypeError``: the argument has the wrong type.

    Attributes:
        target: what was passed as the target (or the handler, when the
            handler was the problem).
    """

    def __init__(self, target: object, message: str) -> None:
        self.target = target
        super().__init__(message)


# --- the HTTP half (protocol §6): plans, snapshots, publishing ------------------------


class PlanNotFoundError(PlanStreamError, LookupError):
    """The server does not know the plan: ``GET /v1/plans/{plan_id}`` answered 404.

    Raised by ``client.snapshot()`` and by ``subscribe(plan_id, must_exist=True)``
    (checked over HTTP before subscribing). A plan is known from its first event.

    Attributes:
        plan_id: the plan asked for.
    """

    def __init__(self, plan_id: str, url: str) -> None:
        self.plan_id = plan_id
        super().__init__(
            f"the server at {url} does not know plan {plan_id!r} "
            "(a plan exists from its first event)"
        )


class RequestRefusedError(FatalError):
    """The server refused an HTTP request, and sending it again cannot help.

    A ``400`` (the event or the request is invalid: ``problem`` is the
    server's explanation), ``413``, ``422`` (an ``Idempotency-Key`` reused
    with another body), or an answer that is no planstream endpoint's (a
    ``404`` or ``405`` at a wrong URL). 401 and 403 are
    :class:`AuthenticationError` and :class:`ForbiddenError`.

    Attributes:
        status: the HTTP status.
        code: the server's ``error`` code (``bad_request``, ...), None when the
            answer was no planstream error body.
        problem: what the server said (its ``message``, else the reason phrase).
    """

    def __init__(self, what: str, status: int, code: str | None, problem: str) -> None:
        self.status = status
        self.code = code
        self.problem = problem
        named = f"{code}: {problem}" if code else problem
        super().__init__(f"{what}: HTTP {status} {named}".rstrip(": "))


class PlanEndedError(RequestRefusedError):
    """HTTP 409: the plan already has a terminal status, so its stream is closed
    and nothing more can be published to it (protocol §6)."""


class RequestRetriesExhaustedError(RetryableError):
    """An HTTP request failed with a transient error on every attempt allowed.

    Retryable: the server may answer later. A publish raised this without
    knowing whether the server appended the events; publishing again with the
    same ``idempotency_key`` is safe (protocol §6: a repeat appends nothing).

    Attributes:
        last_error: the failure of the last attempt (also the ``__cause__``).
        attempts: how many requests were sent.
        idempotency_key: the key every attempt carried (None for a read).
    """

    def __init__(
        self,
        what: str,
        last_error: PlanStreamError,
        attempts: int,
        idempotency_key: str | None = None,
        *,
        why: str = "",
    ) -> None:
        self.last_error = last_error
        self.attempts = attempts
        self.idempotency_key = idempotency_key
        message = f"{what}: gave up after {attempts} attempt{'s' if attempts != 1 else ''}"
        if why:
            message += f" ({why})"
        message += f"; last error: {last_error}"
        if idempotency_key is not None:
            message += f"; retry with idempotency_key={idempotency_key!r} to publish exactly once"
        super().__init__(message)
        self.__cause__ = last_error


class InvalidResponseError(ProtocolError):
    """An HTTP answer that is not a planstream one (another server at that URL?).

    Attributes:
        status: the HTTP status of the answer.
        excerpt: the start of its body (at most 200 characters).
    """

    def __init__(self, what: str, status: int, raw: bytes) -> None:
        self.status = status
        self.excerpt = frame_excerpt(raw)
        super().__init__(f"{what}: the server's answer is not a planstream one")


# --- fail loudly (issue 13): wrong URLs, no first connection, misspelled settings ----


class InvalidUrlError(SettingsError):
    """A server URL planstream cannot use (``ServerEndpoints.from_url``).

    The message shows the URL with its credentials redacted and says what is
    wrong; it names no environment variable (the URL may be an argument).

    Attributes:
        url: the URL as given, credentials redacted.
        problem: what is wrong with it.
        reason: ``"credentials"`` (user:password@ or a credential query
            parameter: protocol §2 never accepts tokens in URLs) or ``"form"``.
    """

    def __init__(self, url: str, problem: str, *, reason: str = "form") -> None:
        self.url = redact_secrets(url)
        shown = frame_excerpt(self.url)
        self.problem = problem
        self.reason = reason
        self.problems = (("url", f"{shown!r} {problem}"),)
        PlanStreamError.__init__(self, f"the server URL {shown!r} {problem}")


class ConnectTimeoutError(FatalError):
    """No connection opened within ``connect_timeout`` of the client's start.

    Every waiting ``subscribe()`` iterator and ``wait_open()`` raise it. It is
    only about the *first* connection: once one opened, later outages are
    retried as ``reconnect.*`` says.

    Attributes:
        urls: the server URLs tried (credentials redacted).
        timeout: the ``connect_timeout`` that ran out, seconds.
        last_error: the last failure before the deadline (also the
            ``__cause__``), or None when none had failed (the first attempt
            was still under way: a server that accepts and never answers).
    """

    def __init__(
        self, urls: Sequence[str], timeout: float, last_error: PlanStreamError | None
    ) -> None:
        self.urls = tuple(redact_secrets(url) for url in urls)
        self.timeout = timeout
        self.last_error = last_error
        where = ", ".join(self.urls) if self.urls else "the server"
        why = (
            f"last failure: {last_error}"
            if last_error is not None
            else "no answer yet (the first attempt was still under way)"
        )
        super().__init__(f"no connection to {where} within {timeout:g} s (connect_timeout); {why}")
        self.__cause__ = last_error


class EndpointNotFoundError(UpgradeRefusedError):
    """No planstream endpoint answers at the URL: something else refused the upgrade.

    A 404, or a 403 that is not a planstream refusal (a planstream server's
    403 carries its JSON error body, protocol §2/§6): typically a wrong path,
    or a server mounted under a prefix the URL does not name
    (``http://host:8001/planstream``). Retryable like every
    :class:`UpgradeRefusedError` (a proxy may answer so during a deploy); the
    ``connect_timeout`` ends the wait for a first connection.

    Attributes:
        url: the URL tried (credentials redacted).
        status: the HTTP status.
    """

    def __init__(self, status: int, url: str, detail: str = "") -> None:
        self.url = redact_secrets(url)
        suffix = f": {detail}" if detail else ""
        super().__init__(
            status,
            f"no planstream endpoint answers at {self.url} (HTTP {status}{suffix}); "
            "check the URL's host, port and path",
        )


class PlanStreamWarning(PlanStreamError, UserWarning):  # noqa: N818 - a warning category
    """The category of planstream's warnings (``warnings.warn``), e.g. an
    unknown ``PLANSTREAM_*`` variable. Filter it with
    ``warnings.filterwarnings("ignore", category=PlanStreamWarning)``."""
