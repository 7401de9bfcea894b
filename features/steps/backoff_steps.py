"""Steps for the pure reconnect backoff (BackoffPolicy / BackoffSchedule)."""

from __future__ import annotations

import json
import math
import random
from typing import Any

from behave import given, then, use_step_matcher, when

from planstream.backoff import BackoffPolicy, BackoffSchedule, JitterMode

use_step_matcher("parse")


def _policy(context: Any) -> BackoffPolicy:
    policy = context.backoff_policy
    assert isinstance(policy, BackoffPolicy)
    return policy


def _rng(context: Any) -> random.Random:
    rng = getattr(context, "backoff_rng", None)
    if rng is None:
        rng = context.backoff_rng = random.Random(0)
    return rng


def _schedule(context: Any) -> BackoffSchedule:
    schedule = getattr(context, "backoff_schedule", None)
    if schedule is None:
        schedule = context.backoff_schedule = _policy(context).schedule(_rng(context))
    assert isinstance(schedule, BackoffSchedule)
    return schedule


def _bounds(policy: BackoffPolicy, jitter: str, attempt: int) -> tuple[float, float]:
    curve = policy.curve(attempt)
    return {
        "full": (0.0, curve),
        "equal": (curve / 2, curve),
        "decorrelated": (policy.initial_delay, policy.max_delay),
        "none": (curve, curve),
    }[jitter]


# --- Given --------------------------------------------------------------------------


@given("the default backoff policy")
def given_default_policy(context: Any) -> None:
    context.backoff_policy = BackoffPolicy()


@given(
    "a backoff policy of initial delay {initial:g}, max delay {maximum:g},"
    ' factor {factor:g} and jitter "{jitter}"'
)
def given_policy(context: Any, initial: float, maximum: float, factor: float, jitter: str) -> None:
    context.backoff_policy = BackoffPolicy(
        initial_delay=initial, max_delay=maximum, factor=factor, jitter=JitterMode(jitter)
    )


@given(
    "a backoff policy of initial delay {initial:g}, max delay {maximum:g},"
    ' factor {factor:g} and jitter text "{jitter}"'
)
def given_policy_text(
    context: Any, initial: float, maximum: float, factor: float, jitter: str
) -> None:
    text_jitter: Any = str(jitter)  # a plain str, as a user or a config file would pass it
    assert type(text_jitter) is str
    context.backoff_policy = BackoffPolicy(
        initial_delay=initial, max_delay=maximum, factor=factor, jitter=text_jitter
    )


@given(
    "a backoff policy of initial delay {initial:g}, max delay {maximum:g},"
    ' factor {factor:g}, jitter "{jitter}" and max attempts {attempts:d}'
)
@given(
    "a backoff policy of initial delay {initial:g}, max delay {maximum:g},"
    ' factor {factor:g}, jitter "{jitter}" and max_retry_after {cap:g}'
)
def given_policy_limited(
    context: Any,
    initial: float,
    maximum: float,
    factor: float,
    jitter: str,
    attempts: int | None = None,
    cap: float | None = None,
) -> None:
    limits = {"max_attempts": attempts, "max_retry_after": cap}
    context.backoff_policy = BackoffPolicy(
        initial_delay=initial,
        max_delay=maximum,
        factor=factor,
        jitter=JitterMode(jitter),
        **{name: value for name, value in limits.items() if value is not None},
    )


@given("the backoff randomness is seeded with {seed:d}")
def given_seed(context: Any, seed: int) -> None:
    context.backoff_rng = random.Random(seed)


# --- When ---------------------------------------------------------------------------


@when("{count:d} backoff delays are drawn")
def when_draw(context: Any, count: int) -> None:
    schedule = _schedule(context)
    context.backoff_drawn = []
    for _ in range(count):
        attempt = schedule.attempt
        delay = schedule.next_delay()
        assert delay is not None
        context.backoff_drawn.append((attempt, delay))


@when("{count:d} backoff delays are drawn from an unseeded schedule")
def when_draw_unseeded(context: Any, count: int) -> None:
    context.backoff_schedule = _policy(context).schedule()
    when_draw(context, count)


@when("the backoff schedule is iterated to its end")
def when_iterate(context: Any) -> None:
    schedule = _schedule(context)
    context.backoff_iterated = list(schedule)


@when("the backoff schedule is reset")
def when_reset(context: Any) -> None:
    _schedule(context).reset()


@when("a backoff policy is built with {arguments}")
def when_build_policy(context: Any, arguments: str) -> None:
    try:
        context.backoff_policy = BackoffPolicy(**json.loads(arguments))
    except Exception as exc:  # asserted on by the Then step
        context.backoff_error = exc
    else:
        context.backoff_error = None


# --- Then -----------------------------------------------------------------------------


@then(
    "the backoff policy has initial delay {initial:g}, max delay {maximum:g}, factor {factor:g},"
    ' jitter "{jitter}" and unlimited attempts'
)
def then_policy_is(
    context: Any, initial: float, maximum: float, factor: float, jitter: str
) -> None:
    policy = _policy(context)
    assert (policy.initial_delay, policy.max_delay, policy.factor) == (initial, maximum, factor)
    assert policy.jitter is JitterMode(jitter)
    assert policy.max_attempts is None
    schedule = policy.schedule(random.Random(1))
    assert all(schedule.next_delay() is not None for _ in range(1000)), "never gives up"


@then("the backoff curve for attempts {first:d} to {last:d} is {values}")
def then_curve_values(context: Any, first: int, last: int, values: str) -> None:
    expected = [float(value) for value in values.split(",")]
    actual = [_policy(context).curve(attempt) for attempt in range(first, last + 1)]
    assert actual == expected, actual


@then(
    "the backoff curve follows min(max_delay, initial_delay * factor^attempt)"
    " for attempts {first:d} to {last:d}"
)
def then_curve_formula(context: Any, first: int, last: int) -> None:
    policy = _policy(context)
    for attempt in range(first, last + 1):
        expected = min(policy.max_delay, policy.initial_delay * policy.factor**attempt)
        assert math.isclose(policy.curve(attempt), expected), (attempt, policy.curve(attempt))


@then('every drawn backoff delay lies within the bounds of jitter "{jitter}"')
def then_within_bounds(context: Any, jitter: str) -> None:
    policy = _policy(context)
    assert context.backoff_drawn
    for attempt, delay in context.backoff_drawn:
        low, high = _bounds(policy, jitter, attempt)
        assert low <= delay <= high, (attempt, delay, low, high)


@then("no drawn backoff delay exceeds the max delay of {maximum:g}")
def then_below_max(context: Any, maximum: float) -> None:
    assert _policy(context).max_delay == maximum
    assert max(delay for _, delay in context.backoff_drawn) <= maximum


@then("the drawn backoff delays are {spread}")
def then_spread(context: Any, spread: str) -> None:
    policy = _policy(context)
    drawn = context.backoff_drawn
    distinct = len({delay for _, delay in drawn})
    below_curve = [delay for attempt, delay in drawn if delay < policy.curve(attempt)]
    if spread == "exactly the curve":
        assert all(delay == policy.curve(attempt) for attempt, delay in drawn), drawn[:10]
    elif spread == "spread below the curve":
        assert distinct >= len(drawn) // 2, f"only {distinct} distinct delays"
        assert len(below_curve) >= len(drawn) // 2, f"{len(below_curve)} below the curve"
    elif spread == "spread between initial and max":
        assert distinct >= len(drawn) // 2, f"only {distinct} distinct delays"
        assert max(delay for _, delay in drawn) > policy.curve(0) * 3, "it should grow"
    else:
        raise AssertionError(f"unknown spread {spread!r}")


@then("two schedules seeded with {seed:d} draw the same {count:d} backoff delays")
def then_same_seed(context: Any, seed: int, count: int) -> None:
    policy = _policy(context)
    first = next(policy.schedule(random.Random(seed)))
    one = policy.schedule(random.Random(seed))
    two = policy.schedule(random.Random(seed))
    a = [one.next_delay() for _ in range(count)]
    b = [two.next_delay() for _ in range(count)]
    assert a == b
    assert a[0] == first
    context.backoff_seeded = (seed, count, a)


@then(
    "a schedule seeded with {other:d} draws different backoff delays than one seeded with {seed:d}"
)
def then_other_seed(context: Any, other: int, seed: int) -> None:
    saved_seed, count, delays = context.backoff_seeded
    assert saved_seed == seed
    schedule = _policy(context).schedule(random.Random(other))
    assert [schedule.next_delay() for _ in range(count)] != delays


@then("the backoff schedule gave exactly {count:d} delays")
def then_gave(context: Any, count: int) -> None:
    delays = context.backoff_iterated
    assert len(delays) == count, delays
    assert all(isinstance(delay, float) and delay >= 0 for delay in delays), delays
    assert _schedule(context).attempt == count


@then("the next backoff delay of the exhausted schedule is None")
def then_exhausted(context: Any) -> None:
    schedule = _schedule(context)
    assert schedule.next_delay() is None
    assert schedule.next_delay(retry_after=5) is None
    assert schedule.attempt == _policy(context).max_attempts


@then("iterating the exhausted backoff schedule again gives nothing")
def then_exhausted_iter(context: Any) -> None:
    schedule = _schedule(context)
    assert list(schedule) == []
    assert iter(schedule) is schedule


@then("the next backoff delays with these retry_after hints are:")
def then_retry_after(context: Any) -> None:
    schedule = _schedule(context)
    for row in context.table:
        hint = None if row["retry_after"] == "none" else float(row["retry_after"])
        delay = schedule.next_delay(retry_after=hint)
        assert delay == float(row["delay"]), (row["why"], hint, delay)


@then("{count:d} backoff delays drawn with retry_after {hint:g} are all at least {low:g}")
def then_retry_after_bound(context: Any, count: int, hint: float, low: float) -> None:
    schedule = _schedule(context)
    delays = [schedule.next_delay(retry_after=hint) for _ in range(count)]
    assert all(delay is not None and delay >= low for delay in delays), delays
    # The hint is a floor, not a fixed value: later attempts exceed it.
    assert any(delay is not None and delay > low for delay in delays), delays


@then("the backoff schedule is at attempt {attempt:d}")
def then_attempt(context: Any, attempt: int) -> None:
    assert _schedule(context).attempt == attempt


@then('the next backoff delay is within the bounds of attempt {attempt:d} for jitter "{jitter}"')
def then_next_within(context: Any, attempt: int, jitter: str) -> None:
    policy = _policy(context)
    schedule = _schedule(context)
    assert schedule.attempt == attempt
    delay = schedule.next_delay()
    assert delay is not None
    low, high = _bounds(policy, jitter, attempt)
    if jitter == "decorrelated":
        # Right after a reset the decorrelated range starts over as well.
        high = min(policy.max_delay, policy.initial_delay * 3)
    assert low <= delay <= high, (delay, low, high)


@then('building the backoff policy fails with ValueError mentioning "{problem}"')
def then_policy_invalid(context: Any, problem: str) -> None:
    error = context.backoff_error
    assert error is not None, f"built: {context.backoff_policy!r}"
    assert isinstance(error, ValueError), repr(error)
    assert problem in str(error), str(error)


@then("the backoff curve at attempt {attempt:d} is {delay:g}")
def then_curve_at(context: Any, attempt: int, delay: float) -> None:
    actual = _policy(context).curve(attempt)
    assert math.isfinite(actual)
    assert math.isclose(actual, delay, rel_tol=1e-4), actual


@then("a backoff schedule at attempt {attempt:d} gives a finite delay of at most {maximum:g}")
def then_schedule_at(context: Any, attempt: int, maximum: float) -> None:
    schedule = _schedule(context)
    schedule.attempt = attempt
    delay = schedule.next_delay()
    assert delay is not None
    assert math.isfinite(delay)
    assert 0 < delay <= maximum
    assert schedule.attempt == attempt + 1


@then("every drawn backoff delay equals {delay:g}")
def then_constant(context: Any, delay: float) -> None:
    assert context.backoff_drawn
    assert all(value == delay for _, value in context.backoff_drawn), context.backoff_drawn
