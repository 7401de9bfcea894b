"""Steps of features/publisher.feature: idempotency keys of the caller, typed
refusals, token providers, secrets, and what mypy --strict says of the API."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from behave import then, when
from support.publisher_support import _log, _placed, attempt, publisher

import planstream


@when('the publisher publishes a log line to plan "{plan_id}" with idempotency key "{key}"')
def when_publish_keyed(context: Any, plan_id: str, key: str) -> None:
    made = publisher(context)
    _placed(context, attempt(context, lambda: made.publish(plan_id, _log(), idempotency_key=key)))
    assert context.publish_error is None, context.publish_error


@then("both publishes got the same position")
def then_same_position(context: Any) -> None:
    first, second = context.placed
    assert first == second, context.placed


@when('the publisher sends {data} to plan "{plan_id}" with token "{token}"')
def when_publish_data(context: Any, data: str, plan_id: str, token: str) -> None:
    match = re.fullmatch(r'a log line(?: of (\d+) "(.)")?', data)
    assert match is not None, data
    message = match.group(2) * int(match.group(1)) if match.group(1) else "a line"
    made = publisher(context, token=token)
    attempt(context, lambda: made.publish(plan_id, _log(message)))


@then('the publish failed at once with {error} containing "{text}"')
def then_failed_at_once(context: Any, error: str, text: str) -> None:
    raised = context.publish_error
    assert type(raised) is getattr(planstream, error), repr(raised)
    assert isinstance(raised, planstream.FatalError), repr(raised)
    assert text in str(raised), str(raised)
    assert context.publish_seconds < 2, context.publish_seconds


@when(
    'the publisher with a token provider answering "{first}", then "{second}" publishes a log '
    'line to plan "{plan_id}"'
)
def when_token_provider(context: Any, first: str, second: str, plan_id: str) -> None:
    tokens = [first, second]
    context.provider_calls = 0

    async def provider() -> str:
        context.provider_calls += 1
        return tokens[min(context.provider_calls, len(tokens)) - 1]

    made = publisher(context, token_provider=provider)
    attempt(context, lambda: made.publish(plan_id, _log()))
    assert context.publish_error is None, context.publish_error


@then("the token provider was asked {count:d} times")
def then_provider_calls(context: Any, count: int) -> None:
    assert context.provider_calls == count, context.provider_calls


@when(
    'the publisher with token "{token}" publishes a log line to plan "{plan_id}", logging at DEBUG'
)
def when_publish_logged(context: Any, token: str, plan_id: str) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        made = publisher(context, token=token)
        context.publisher_repr = repr(made)
        attempt(context, lambda: made.publish(plan_id, _log()))
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    context.publish_log = stream.getvalue()


@then('neither the publisher\'s repr, the error nor the log holds "{secret}"')
def then_no_secret(context: Any, secret: str) -> None:
    assert context.publish_log, "nothing was logged"
    for text in (context.publisher_repr, str(context.publish_error), context.publish_log):
        assert secret not in text, text


@when("mypy --strict checks this use of PlanPublisher:")
def when_mypy(context: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "typed_publisher.py"
        path.write_text(context.text + "\n", encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    context.mypy_source = context.text
    context.mypy_output = result.stdout + result.stderr
    context.mypy_lines = {
        int(match.group(1))
        for match in re.finditer(r"typed_publisher\.py:(\d+): error:", context.mypy_output)
    }


@then("mypy reports errors on exactly the lines marked expect-error")
def then_mypy_lines(context: Any) -> None:
    marked = {
        number
        for number, line in enumerate(context.mypy_source.splitlines(), start=1)
        if line.rstrip().endswith("# expect-error")
    }
    assert marked, "no line is marked"
    assert context.mypy_lines == marked, context.mypy_output
