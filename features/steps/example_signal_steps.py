"""Steps of features/cli_examples.feature for a signal that stops an example
early, while its plan runs."""

from __future__ import annotations

from typing import Any

from behave import then


@then(
    "the example server's last line says the plan was cancelled by SIGTERM, and its stderr "
    "holds no traceback"
)
def then_example_cancelled_cleanly(context: Any) -> None:
    server = context.example_server
    lines = server.stdout.splitlines()
    assert lines[0].startswith("serving 'nightly-build' on ws://"), server.stdout
    # Stopped before its end: never the "succeeded; serving for" line.
    assert lines[1:] == ["plan 'nightly-build' cancelled (stopped by SIGTERM)"], server.stdout
    assert "Traceback" not in server.stderr, server.stderr
