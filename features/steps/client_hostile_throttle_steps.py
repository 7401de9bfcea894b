"""Steps of client_hostile.feature about the client's warning throttle: pure, with
an injected clock."""

from __future__ import annotations

import logging
from typing import Any

from behave import given, then, when
from support.servers import on_cleanup

# --- the warning throttle (pure, an injected clock) ------------------------------------


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@given("a hostile warning throttle letting {burst:d} lines through per {interval:g} s")
def step_throttle(context: Any, burst: int, interval: float) -> None:
    logger = logging.getLogger("planstream.tests.throttle")
    logger.propagate = False
    handler = _Lines()
    logger.addHandler(handler)

    async def remove() -> None:
        logger.removeHandler(handler)

    on_cleanup(context, remove)
    from planstream.client.log_throttle import (
        WarningThrottle,  # here: the code before the fix has none
    )

    context.hostile_throttle = WarningThrottle(logger, burst=burst, interval=interval)
    context.hostile_throttle_lines = handler.lines


@when(
    "the hostile throttle is given {count:d} warnings at {at:g} s, ticked at {tick:g} s "
    "and given 1 warning at {later:g} s"
)
@when("the hostile throttle is given {count:d} warnings at {at:g} s and ticked at {tick:g} s")
def step_throttle_feed(
    context: Any, count: int, at: float, tick: float, later: float | None = None
) -> None:
    throttle = context.hostile_throttle
    for n in range(count):
        throttle.warning(at, "bad frame %d", n)
    throttle.tick(tick, "bad frame")
    if later is not None:
        throttle.warning(later, "bad frame %d", count)


@then('the hostile throttle wrote {count:d} lines, the last saying "{text}"')
def step_throttle_lines(context: Any, count: int, text: str) -> None:
    lines = context.hostile_throttle_lines
    assert len(lines) == count, lines
    assert text in lines[-1], lines
