"""Reconnect delays (pure): exponential backoff with a choice of jitter.

The policy computes; the asyncio layer sleeps. Randomness comes from an
injectable :class:`RandomSource` (a seeded :class:`random.Random` in tests); by
default :class:`ModuleRandom`, which draws from the ``random`` module's own
generator and so costs no memory per client. Protocol §4's default is
full jitter: ``uniform(0, min(max_delay, initial_delay * factor**attempt))``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = ["BackoffPolicy", "BackoffSchedule", "JitterMode", "ModuleRandom", "RandomSource"]


class RandomSource(Protocol):
    """Where jitter comes from: anything with ``uniform`` (``random.Random`` has it)."""

    def uniform(self, a: float, b: float, /) -> float:
        """A float between ``a`` and ``b``."""
        ...


class ModuleRandom:
    """Draws from the ``random`` module's generator; keeps no state of its own.

    A ``random.Random`` carries 2.5 KB of generator state: one per client
    connection would be a tenth of an idle connection's memory.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "ModuleRandom()"

    def uniform(self, a: float, b: float, /) -> float:
        """``random.uniform(a, b)``. Jitter spreads reconnects; it is not a secret."""
        return random.uniform(a, b)  # noqa: S311


class JitterMode(StrEnum):
    """How a delay is randomised around the exponential curve.

    * ``full``: uniform between 0 and the curve (protocol §4's default);
    * ``equal``: half the curve plus a uniform half;
    * ``decorrelated``: uniform between ``initial_delay`` and 3 times the previous
      delay, capped (grows without a fixed curve);
    * ``none``: exactly the curve.
    """

    FULL = "full"
    EQUAL = "equal"
    DECORRELATED = "decorrelated"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Parameters of the reconnect delays.

    Attributes:
        initial_delay: the curve's first value, seconds.
        max_delay: the cap of the curve, seconds.
        factor: growth per attempt (>= 1).
        jitter: how delays are randomised.
        max_attempts: give up after this many delays; None retries forever.
        max_retry_after: the longest server ``retry_after`` hint honoured, so
            a confused server cannot park a client for hours.
    """

    initial_delay: float = 0.5
    max_delay: float = 30.0
    factor: float = 2.0
    jitter: JitterMode = JitterMode.FULL
    max_attempts: int | None = None
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        # Accept the mode as text ("full"), refusing unknown ones.
        object.__setattr__(self, "jitter", JitterMode(self.jitter))
        if not self.initial_delay > 0:
            raise ValueError("initial_delay must be positive")
        if not self.max_delay >= self.initial_delay:
            raise ValueError("max_delay must be at least initial_delay")
        if not self.factor >= 1:
            raise ValueError("factor must be at least 1")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None)")
        if not self.max_retry_after >= 0:
            raise ValueError("max_retry_after must not be negative")

    def curve(self, attempt: int) -> float:
        """The un-jittered delay of ``attempt`` (0-based), capped at ``max_delay``."""
        delay = self.initial_delay
        for _ in range(attempt):
            delay *= self.factor
            if delay >= self.max_delay:
                return self.max_delay
        return min(delay, self.max_delay)

    def schedule(self, rng: RandomSource | None = None) -> BackoffSchedule:
        """A fresh sequence of delays (attempt counter at 0)."""
        return BackoffSchedule(self, rng if rng is not None else ModuleRandom())


class BackoffSchedule(Iterator[float]):
    """The delays of one run of reconnect attempts.

    Iterating yields one delay per failed attempt and stops after
    ``max_attempts``. :meth:`next_delay` does the same but takes the server's
    ``retry_after`` hint (a lower bound) and returns None when exhausted.
    :meth:`reset` starts over once a connection proved healthy.
    """

    __slots__ = (
        "_previous",
        "_rng",
        "attempt",
        "policy",
    )

    def __init__(self, policy: BackoffPolicy, rng: RandomSource) -> None:
        self.policy = policy
        self._rng = rng
        self.attempt = 0
        self._previous = policy.initial_delay

    def reset(self) -> None:
        """Forget past failures (protocol §4: healthy for a while)."""
        self.attempt = 0
        self._previous = self.policy.initial_delay

    def next_delay(self, retry_after: float | None = None) -> float | None:
        """The delay before the next attempt, or None when attempts are exhausted."""
        policy = self.policy
        if policy.max_attempts is not None and self.attempt >= policy.max_attempts:
            return None
        delay = self._jittered()
        self.attempt += 1
        if retry_after is not None and retry_after > 0:
            delay = max(delay, min(retry_after, policy.max_retry_after))
        return delay

    def _jittered(self) -> float:
        policy = self.policy
        curve = policy.curve(self.attempt)
        jitter = policy.jitter
        if jitter is JitterMode.FULL:
            return self._rng.uniform(0.0, curve)
        if jitter is JitterMode.EQUAL:
            return curve / 2 + self._rng.uniform(0.0, curve / 2)
        if jitter is JitterMode.DECORRELATED:
            upper = min(policy.max_delay, self._previous * 3)
            self._previous = min(policy.max_delay, self._rng.uniform(policy.initial_delay, upper))
            return self._previous
        return curve

    def __next__(self) -> float:
        delay = self.next_delay()
        if delay is None:
            raise StopIteration
        return delay
