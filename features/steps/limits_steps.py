"""Steps for limits.feature: the protocol's id rules, TokenBucket and LogLimiter."""

from __future__ import annotations

from typing import Any

from behave import given, then, when

from planstream.log_limiter import LogLimiter
from planstream.schema.limits import clamp_heartbeat, event_id_problem, plan_id_problem
from planstream.server.token_bucket import TokenBucket


def _value(text: str) -> object:
    if text == "the number 7":
        return 7
    if text.endswith('"s'):  # e.g. 257 "a"s
        count, letter = text[:-2].split(' "')
        return letter * int(count)
    return text.strip('"')


@when("the plan id {value} is checked against protocol §1")
def step_check_plan_id(context: Any, value: str) -> None:
    context.problem = plan_id_problem(_value(value))


@when("the last_event_id {value} is checked against protocol §1")
def step_check_event_id(context: Any, value: str) -> None:
    context.problem = event_id_problem(_value(value))


@then('the problem is "{problem}"')
def step_problem(context: Any, problem: str) -> None:
    assert context.problem == (None if problem == "none" else problem), context.problem


@then("clamping heartbeats 1e300, 0.001, 15 gives 300, 1, 15")
def step_clamp(context: Any) -> None:
    assert [clamp_heartbeat(s) for s in (1e300, 0.001, 15.0)] == [300.0, 1.0, 15.0]


@given("a token bucket of rate 2 per second and burst 3 at time 0")
def step_bucket(context: Any) -> None:
    context.bucket = TokenBucket(2.0, 3.0, 0.0)


@then("taking 4 tokens at time 0 waits 0, 0, 0, 0.5")
def step_take(context: Any) -> None:
    assert [context.bucket.take(0.0) for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


@then("the bucket is not full at time 1 but full at time 2")
def step_full(context: Any) -> None:
    assert not context.bucket.is_full(1.0)
    assert context.bucket.is_full(2.0)


@then('its repr is "{text}"')
def step_repr(context: Any, text: str) -> None:
    subject = context.limiter if hasattr(context, "limiter") else context.bucket
    assert repr(subject) == text, repr(subject)


@then("a token bucket of rate 0 or burst 0 is refused")
def step_bucket_refused(context: Any) -> None:
    for rate, burst in ((0.0, 1.0), (1.0, 0.0)):
        try:
            TokenBucket(rate, burst, 0.0)
        except ValueError:
            continue
        raise AssertionError(f"TokenBucket({rate}, {burst}) was accepted")


@given("a log limiter of 2 lines per 10 seconds")
def step_limiter(context: Any) -> None:
    context.limiter = LogLimiter(10.0, 2)


@then("asking it at times 0, 1, 2, 3 allows, allows, silences, silences")
def step_allow(context: Any) -> None:
    assert [context.limiter.allow(t) for t in (0.0, 1.0, 2.0, 3.0)] == [0, 0, None, None]


@then("nothing is overdue at time 5, but 2 silenced lines are overdue at time 12, and none after")
def step_overdue(context: Any) -> None:
    limiter: LogLimiter = context.limiter
    assert limiter.overdue(5.0) == 0
    assert limiter.overdue(12.0) == 2
    assert limiter.overdue(12.5) == 0


@then("asking it at time 13 allows with 0 silenced lines mentioned")
def step_allow_after(context: Any) -> None:
    assert context.limiter.allow(13.0) == 0


@then("a log limiter of interval 0 or burst 0 is refused")
def step_limiter_refused(context: Any) -> None:
    for interval, burst in ((0.0, 1), (1.0, 0)):
        try:
            LogLimiter(interval, burst)
        except ValueError:
            continue
        raise AssertionError(f"LogLimiter({interval}, {burst}) was accepted")
