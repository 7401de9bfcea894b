"""Steps of authorization_scopes.feature: the plan scope rules, and what clients show
(the SDK over the WebSocket and polling, the router, the CLI)."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from behave import then, when
from support.scoped_principals import scope_of
from support.servers import on_cleanup, run

from planstream import ClientSettings, PlanStreamClient, SubscriptionError
from planstream.client.router_signals import ConnectionSignals
from planstream.router import StreamRouter
from planstream.sequencer import Sequencer
from planstream.server import PlanScope

# --- PlanScope ---------------------------------------------------------------------------


@then("plan scopes allow exactly these plans:")
def then_scope_rules(context: Any) -> None:
    for row in context.table:
        allowed = scope_of(row["patterns"]).allows(row["plan id"])
        assert allowed == (row["allowed"] == "yes"), (row["patterns"], row["plan id"], allowed)


def _pattern_cell(cell: str) -> Any:
    repeated = re.fullmatch(r'"(.)" \* (\d+)', cell)
    if repeated:
        return repeated.group(1) * int(repeated.group(2))
    return ast.literal_eval(cell)


@then("building a plan scope from these patterns fails naming the problem:")
def then_bad_patterns(context: Any) -> None:
    for row in context.table:
        pattern = _pattern_cell(row["patterns"])
        problem = ""
        try:
            PlanScope.of(["ok", pattern])
        except ValueError as exc:
            problem = str(exc)
        assert problem, f"{row['patterns']} was accepted"
        assert row["problem"] in problem, (row["patterns"], problem)


@then('a plan scope of "{patterns}" keeps "{kept}", is neither empty nor everything')
def then_scope_kept(context: Any, patterns: str, kept: str) -> None:
    scope = scope_of(patterns)
    assert str(scope) == kept, str(scope)
    assert not scope.is_empty, scope
    assert not scope.is_everything, scope


@then('a plan scope of "{patterns}" is everything, shown as "{shown}"')
def then_scope_everything(context: Any, patterns: str, shown: str) -> None:
    scope = scope_of(patterns)
    assert scope.is_everything, scope
    assert str(scope) == shown, scope
    assert scope == PlanScope.everything()


@then('an empty plan scope is empty, allows nothing and is shown as "{shown}"')
def then_scope_empty(context: Any, shown: str) -> None:
    scope = PlanScope.nothing()
    assert scope.is_empty, scope
    assert not scope.is_everything, scope
    assert not scope.allows("a"), scope
    assert str(scope) == shown, scope
    assert scope == PlanScope.of([]), scope


# --- the SDK ----------------------------------------------------------------------------


@when(
    'an SDK client with the token "{token}" in transport "{transport}" subscribes to '
    '"{first}" and "{second}"'
)
def when_sdk_subscribes(context: Any, token: str, transport: str, first: str, second: str) -> None:
    settings = ClientSettings(url=context.http_url, token=token, transport=transport)
    client = context.sdk = PlanStreamClient(settings=settings)
    run(context, client.__aenter__())
    on_cleanup(context, lambda: client.__aexit__(None, None, None))
    context.sdk_subs = {plan_id: client.subscribe(plan_id) for plan_id in (first, second)}
    for sub in context.sdk_subs.values():
        run(context, sub.__aenter__())
        on_cleanup(context, lambda sub=sub: sub.__aexit__(None, None, None))
    context.sdk_seqs = {plan_id: [] for plan_id in context.sdk_subs}


@then('its subscription to "{plan_id}" ends with SubscriptionError "{code}"')
def then_sdk_sub_ended(context: Any, plan_id: str, code: str) -> None:
    async def drain() -> SubscriptionError:
        try:
            async for _ in context.sdk_subs[plan_id]:
                raise AssertionError(f"{plan_id} delivered an item")
        except SubscriptionError as exc:
            return exc
        raise AssertionError(f"{plan_id} ended without an error")

    error = run(context, drain())
    assert (error.plan_id, error.code) == (plan_id, code), error
    assert f"may not read plan {plan_id!r}" in str(error), error


@then('its subscription to "{plan_id}" receives seq {first:d} to {last:d}')
@then('its subscription to "{plan_id}" receives seq {last:d}')
def then_sdk_receives(context: Any, plan_id: str, last: int, first: int | None = None) -> None:
    async def until() -> None:
        subscription = context.sdk_subs[plan_id]
        while not context.sdk_seqs[plan_id] or context.sdk_seqs[plan_id][-1] < last:
            item = await anext(aiter(subscription))
            context.sdk_seqs[plan_id].append(item.seq)

    run(context, until())
    expected = list(range(first if first is not None else 1, last + 1))
    assert context.sdk_seqs[plan_id][-len(expected) :] == expected, context.sdk_seqs


@then('the SDK client is still "{state}"')
def then_sdk_state(context: Any, state: str) -> None:
    assert context.sdk.state.value == state, context.sdk.state


@then(
    'a stream router told that a poll of "{plan_id}" was forbidden, with no subscription to '
    "it, keeps no plan and raises nothing"
)
def then_router_forbidden_unknown(context: Any, plan_id: str) -> None:
    # The plan was unsubscribed while its poll was in flight: nothing is left to end.
    router = StreamRouter(Sequencer(), ConnectionSignals())
    router.on_poll_forbidden(plan_id, "this token may not read plan")
    assert router.channels == {}, router.channels


# --- the CLI -----------------------------------------------------------------------------


@then('the command exited {status:d} with one error line saying "{text}"')
def then_cli_error(context: Any, status: int, text: str) -> None:
    result = context.cli
    assert result.returncode == status, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("planstream: error")]
    assert len(errors) == 1, result
    assert text in errors[0], result
    assert "Traceback" not in result.stderr, result


@then('the command exited 0 listing exactly the plans "{plans}"')
def then_cli_plans(context: Any, plans: str) -> None:
    result = context.cli
    assert result.returncode == 0, result
    listed = [json.loads(line)["plan_id"] for line in result.stdout.splitlines()]
    assert listed == plans.split(), result
