"""Steps of client_edges.feature about callbacks, run(), failing hooks and token
providers, the client's logs and the edge proxy's answers and counts."""

from __future__ import annotations

from typing import Any

from behave import given, then, when
from support.client_api_support import until
from support.servers import run

from planstream import LogEvent, StateChange

_SECRET = "edge-provider-internal-detail-0c9a"  # the provider's own error text


# --- token providers --------------------------------------------------------------------


@given('an edge token provider handing out "{tokens}"')
def step_provider(context: Any, tokens: str) -> None:
    """Comma-separated tokens, the last one repeated; RAISE: the provider raises."""
    plan = [token.strip() for token in tokens.split(",")]
    context.edge_provider_calls = 0

    async def provide() -> str:
        calls: int = context.edge_provider_calls
        context.edge_provider_calls = calls + 1
        token = plan[min(calls, len(plan) - 1)]
        if token == "RAISE":
            raise RuntimeError(_SECRET)
        return token

    context.edge_provider = provide


@given('the edge static token "{token}"')
def step_static_token(context: Any, token: str) -> None:
    context.edge_token = token


# --- callbacks and run() --------------------------------------------------------------


@when(
    'the edge callback "all" is registered for every item and "logs" twice for LogEvent, '
    'then "logs" is removed'
)
def step_register(context: Any) -> None:
    client = context.edge_client
    context.edge_seen = {"all": [], "logs": []}

    async def record_all(item: Any) -> None:
        context.edge_seen["all"].append(item)

    def record_logs(item: Any) -> None:
        context.edge_seen["logs"].append(item)

    assert client.on_any(record_all) is record_all
    assert client.on(LogEvent)(record_logs) is record_logs  # the decorator form
    client.on(LogEvent, record_logs)
    client.off(record_logs)


@when('the edge client runs plan "{first}" into its callbacks')
@when('the edge client runs plans "{first}" and "{second}" into its callbacks')
def step_run(context: Any, first: str, second: str | None = None) -> None:
    async def run_plans() -> None:
        try:
            await context.edge_client.run(*filter(None, (first, second)))
        except BaseException as exc:  # recorded for the steps to check, groups included
            context.edge_run_error = exc

    context.edge_run_error = None
    run(context, run_plans())


@then("the edge run ended without an error")
@then("the edge run raised {error} itself, the client's error, not an exception group")
def step_run_ended(context: Any, error: str | None = None) -> None:
    raised = context.edge_run_error
    assert type(raised).__name__ == (error or "NoneType"), repr(raised)
    assert raised is context.edge_client.error, (raised, context.edge_client.error)


@then('the edge callback "all" received seq 1 to {last:d} and "logs" received nothing')
def step_callbacks_received(context: Any, last: int) -> None:
    assert [item.seq for item in context.edge_seen["all"]] == list(range(1, last + 1))
    assert context.edge_seen["logs"] == []
    assert context.edge_client.stats.callback_errors == 0


# --- logs, hooks, providers, proxies ------------------------------------------------


@then('the edge log has a {level:w} record "{text}"')
@then('the edge log has an {level:w} record "{text}" with a {exc_type:w} traceback')
def step_log(context: Any, level: str, text: str, exc_type: str | None = None) -> None:
    """Also: no record shows the text of what a token provider raised."""
    texts = context.edge_logs.texts()
    assert not [t for t in texts if _SECRET in t], texts
    records = [
        r
        for r in context.edge_logs.records
        if r.levelname == level and r.name.startswith("planstream") and text in r.getMessage()
    ]
    assert records, texts
    if exc_type is not None:
        assert all(r.exc_info and r.exc_info[0].__name__ == exc_type for r in records), records


@then('the edge state hook saw the states "{states}"')
def step_hook_states(context: Any, states: str) -> None:
    seen = [c.state.value for c in context.edge_changes if c.state is not c.previous]
    assert seen == [s.strip() for s in states.split(",")], seen


@then('the edge state hook saw an {error:w} while "{state}" with a retry')
@then('the edge state hook saw a {error:w} mentioning "{text}" with a retry')
def step_hook_error(context: Any, error: str, state: str = "", text: str = "") -> None:
    def seen() -> list[StateChange]:
        changes = context.edge_changes
        return [c for c in changes if type(c.error).__name__ == error and text in str(c.error)]

    run(context, until(lambda: bool(seen()), f"a {error} in the state hook"))
    for change in seen():
        assert change.retry_in is not None, change
        assert change.state.value == (state or "reconnecting"), change


@then("the edge token provider was called {calls:d} times")
@then("the reference server refused {refused:d} request")
@then("the reference server refused {refused:d} requests")
@then("the edge client connected {connects:d} times")
@then("the edge proxy answered {status:d} once")
def step_counted(context: Any, **expected: int) -> None:
    (what, count), *_ = expected.items()
    actual = {
        "calls": lambda: context.edge_provider_calls,
        "refused": lambda: context.server.state.metrics.auth_failures,
        "connects": lambda: context.edge_client.stats.connects,
        "status": lambda: context.edge_proxy.answered.count(count),
    }[what]()
    assert actual == (1 if what == "status" else count), (what, actual)


@when("the edge proxy answers the next WebSocket upgrades with {status:d}")
@when("the edge proxy answers the next WebSocket upgrade with {once:d} and passes the ones after")
def step_proxy_status(context: Any, status: int | None = None, once: int | None = None) -> None:
    context.edge_proxy.upgrade_status = status
    context.edge_proxy.script.extend([] if once is None else [once])


@when("the edge proxy holds the server's bytes on the open connections")
def step_proxy_hold(context: Any) -> None:
    context.edge_proxy.hold(True)
