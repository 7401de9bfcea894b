"""Who may do what to which plan: every permission check of the server (pure).

A :class:`~planstream.server.auth.Principal` carries a
:class:`~planstream.server.plan_scope.PlanScope` per action. Each route asks
here, and nowhere else:

* :func:`action_refusal`: may it read (or publish to) *some* plan? The
  WebSocket upgrade and every HTTP route ask this first (403 when not).
* :func:`plan_refusal`: may it read (or publish to) *this* plan? A
  ``subscribe`` outside the read scope gets ``error`` ``forbidden`` for that
  subscription only (protocol §3); a poll or a snapshot gets ``403``; a
  publish outside the publish scope gets ``403``.
* :func:`readable_plans`: the filter ``GET /v1/plans`` lists through.

The answer to a plan outside the scope never depends on whether the plan
exists: the scope is checked before the log is asked anything, so a ``403``
says nothing about the plan and a ``404`` is only ever given to a principal
that may read the plan (reading 46 of ``docs/reference/server_websocket.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from planstream.server.auth import Principal

__all__ = ["PlanAction", "action_refusal", "plan_refusal", "readable_plans"]


class PlanAction(StrEnum):
    """What a principal asks to do to a plan."""

    READ = "read"  # subscribe, poll, snapshot, list
    PUBLISH = "publish"


def _scope_allows(principal: Principal, action: PlanAction, plan_id: str) -> bool:
    if action is PlanAction.READ:
        return principal.may_read(plan_id)
    return principal.may_publish(plan_id)


def action_refusal(principal: Principal, action: PlanAction) -> str | None:
    """Why ``principal`` may not ``action`` any plan at all, or None when it may some."""
    allowed = principal.can_read if action is PlanAction.READ else principal.can_publish
    return None if allowed else f"this token may not {action.value}"


def plan_refusal(principal: Principal, action: PlanAction, plan_id: str) -> str | None:
    """Why ``principal`` may not ``action`` ``plan_id``, or None when it may.

    The message names the plan (the caller's own input) and the action, never
    the principal's patterns nor whether the plan exists.
    """
    if _scope_allows(principal, action, plan_id):
        return None
    return f"this token may not {action.value} plan {plan_id!r}"


def readable_plans(principal: Principal) -> Callable[[str], bool] | None:
    """The filter of the plans ``principal`` may list, None when it may read every plan."""
    if principal.read.is_everything:
        return None
    return principal.may_read
