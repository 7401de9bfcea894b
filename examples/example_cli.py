"""The command line the reading examples share: ``PLAN_ID [--url URL] [--token T]``.

``subscribe.py``, ``callbacks.py`` and ``watch_state.py`` differ only in how
they consume the stream; this module parses their arguments and turns the
plan's final status into the exit status (0 when it succeeded).
"""

from __future__ import annotations

import argparse

from planstream import PlanStatus

__all__ = ["exit_status", "parse_plan_arguments"]


def parse_plan_arguments(description: str) -> argparse.Namespace:
    """``plan_id``, ``url`` and ``token`` from the command line.

    ``--url`` and ``--token`` default to None, so that ``PlanStreamClient``
    reads ``PLANSTREAM_URL`` / ``PLANSTREAM_TOKEN``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("plan_id")
    parser.add_argument("--url", help="default: PLANSTREAM_URL or ws://127.0.0.1:8765/v1/stream")
    parser.add_argument("--token", help="default: PLANSTREAM_TOKEN")
    return parser.parse_args()


def exit_status(final: PlanStatus | None) -> int:
    """0 when the plan succeeded, 1 otherwise (failed, cancelled, or unknown)."""
    return 0 if final is PlanStatus.SUCCEEDED else 1
