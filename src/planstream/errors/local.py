"""Errors found on this side, with no server involved.

Bad settings and URLs, bad ids and callback registrations refused before
anything is sent, an event folded into the wrong plan, our own state machine
fed the wrong input, a closed client; and ``PlanStreamWarning``, the category
of planstream's warnings (e.g. a misspelled ``PLANSTREAM_*`` variable).
"""

from __future__ import annotations

from collections.abc import Sequence

from planstream.errors.base import PlanStreamError, frame_excerpt
from planstream.redaction import redact_secrets

__all__ = [
    "CheckpointError",
    "ClientClosedError",
    "InvalidCallbackError",
    "InvalidIdError",
    "InvalidStateError",
    "InvalidUrlError",
    "PlanStateError",
    "PlanStreamWarning",
    "SettingsError",
]


class SettingsError(PlanStreamError, ValueError):
    """Configuration is invalid.

    ``problems`` lists ``(env_var, message)`` pairs, one per bad value; the
    offending values themselves are never included (they may be secrets).
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        lines = "; ".join(f"{name}: {message}" for name, message in self.problems)
        super().__init__(f"invalid planstream settings: {lines}")


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


class CheckpointError(PlanStreamError):
    """The durable cursor's file (``ClientSettings.checkpoint``) cannot be used.

    Raised by ``async with PlanStreamClient(...)`` when the file cannot be
    opened as a planstream checkpoint (a missing directory, a directory, a
    file that is not SQLite, another program's database), and by a
    subscription's iterator or ``commit()`` when a position cannot be written
    (disk full, the file removed or replaced, locked by another writer past
    the busy timeout): a lost commit is never silent.

    Attributes:
        path: the checkpoint file, as configured.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        super().__init__(f"checkpoint {self.path!r}: {problem}")


class InvalidStateError(PlanStreamError):
    """An input the connection state machine does not accept in its current state.

    The caller's mistake (a transport bug), not the server's: like h11's
    ``LocalProtocolError``. Attributes: ``state`` and ``trigger``, as text.
    """

    def __init__(self, state: str, trigger: str) -> None:
        self.state = str(state)
        self.trigger = str(trigger)
        super().__init__(f"cannot handle {self.trigger!r} in connection state {self.state!r}")


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


class PlanStreamWarning(PlanStreamError, UserWarning):  # noqa: N818 - a warning category
    """The category of planstream's warnings (``warnings.warn``), e.g. an
    unknown ``PLANSTREAM_*`` variable. Filter it with
    ``warnings.filterwarnings("ignore", category=PlanStreamWarning)``."""
