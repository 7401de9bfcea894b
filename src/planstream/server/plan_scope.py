"""Which plans a permission covers: glob patterns over the plan id alphabet (pure).

A pattern is made of the characters a plan id may hold (protocol §1: ASCII
letters, digits and ``. _ : @ -``) plus two wildcards: ``*`` stands for any
run of them (empty included, ``:`` included: ``team-a:*`` covers
``team-a:build:42``) and ``?`` for exactly one. Nothing else is special, so a
pattern means what it shows. ``*`` alone covers every plan; no pattern at all
covers none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

__all__ = ["MAX_PATTERN_LENGTH", "PlanScope"]

#: Longest pattern accepted (a plan id is at most 256 characters).
MAX_PATTERN_LENGTH: Final = 512
_PATTERN = re.compile(r"[A-Za-z0-9._:@\-*?]+")


@dataclass(frozen=True, slots=True)
class PlanScope:
    """The plans one permission (read or publish) covers.

    Build it with :meth:`of` (patterns checked), :meth:`everything` or
    :meth:`nothing`; ask :meth:`allows`.
    """

    patterns: tuple[str, ...] = ()
    _matcher: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, patterns: Iterable[str]) -> PlanScope:
        """The scope of ``patterns`` (duplicates dropped, order kept).

        Raises:
            ValueError: a pattern is empty, too long, or holds a character
                that is neither in the plan id alphabet nor ``*``/``?``.
        """
        checked: list[str] = []
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern:
                raise ValueError("a plan pattern must be a non-empty string")
            if len(pattern) > MAX_PATTERN_LENGTH:
                raise ValueError(f"a plan pattern is at most {MAX_PATTERN_LENGTH} characters")
            if not _PATTERN.fullmatch(pattern):
                raise ValueError(
                    f"plan pattern {pattern!r} holds a character that is not in the plan id "
                    "alphabet (letters, digits, . _ : @ -) nor * or ?"
                )
            if pattern not in checked:
                checked.append(pattern)
        if not checked:
            return cls()
        if "*" in checked:
            checked = ["*"]
        regex = "|".join(
            "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
            for pattern in checked
        )
        return cls(tuple(checked), re.compile(f"(?:{regex})", re.DOTALL))

    @classmethod
    def everything(cls) -> PlanScope:
        """Every plan (``*``)."""
        return cls.of(["*"])

    @classmethod
    def nothing(cls) -> PlanScope:
        """No plan."""
        return cls()

    @property
    def is_empty(self) -> bool:
        """Whether no plan is covered."""
        return not self.patterns

    @property
    def is_everything(self) -> bool:
        """Whether every plan is covered."""
        return self.patterns == ("*",)

    def allows(self, plan_id: str) -> bool:
        """Whether ``plan_id`` is covered."""
        matcher = self._matcher
        return matcher is not None and matcher.fullmatch(plan_id) is not None

    def __str__(self) -> str:
        return ", ".join(self.patterns) if self.patterns else "(no plan)"
