"""Running a hypothesis property inside a behave step."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["run_property"]


def run_property(prop: Callable[[], None]) -> None:
    """Run a hypothesis test; on failure, show its falsifying example in behave's report."""
    try:
        prop()
    except AssertionError as exc:
        notes = "\n".join(getattr(exc, "__notes__", ()))
        raise AssertionError(f"{exc}\n{notes}") from exc
