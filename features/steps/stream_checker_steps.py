"""Steps of features/stream_checker.feature: the soak's checker on small known records.

``context.checker_published`` holds the publisher's record lines (plans in
the order the Background gives them); a consumer's record is written to a
real file (``read_jsonl`` reads it back, torn last line included) and judged
into ``context.checker_verdict``. Step texts name the checker: behave's step
registry is global.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when
from support.stream_checker import (
    PublishedRecord,
    StreamVerdict,
    check_consumer,
    read_jsonl,
)


def _published(context: Any) -> list[dict[str, Any]]:
    if not hasattr(context, "checker_published"):
        context.checker_published = []
    lines: list[dict[str, Any]] = context.checker_published
    return lines


def _record_file(context: Any, text: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix="planstream-checker-"))
    context.add_cleanup(shutil.rmtree, directory, True)
    path = directory / "consumer.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def _judge(context: Any, text: str, *, plans: list[str] | None, complete: bool = True) -> None:
    lines = read_jsonl(_record_file(context, text))
    published = PublishedRecord.of(_published(context))
    context.checker_verdict = check_consumer(published, lines, plans=plans, complete=complete)


def _verdict(context: Any) -> StreamVerdict:
    verdict: StreamVerdict = context.checker_verdict
    return verdict


@given('the publisher acknowledged seqs {first:d} to {last:d} of plan "{plan}"')
def given_acknowledged(context: Any, first: int, last: int, plan: str) -> None:
    _published(context).extend(
        {"p": plan, "s": seq, "i": f"{plan}-{seq}"} for seq in range(first, last + 1)
    )


@given(
    'the publisher acknowledged seqs {first:d} to {last:d} of plan "{plan}" '
    'with ids "{pattern}" after a restart'
)
def given_acknowledged_again(context: Any, first: int, last: int, plan: str, pattern: str) -> None:
    _published(context).extend(
        {"p": plan, "s": seq, "i": pattern.replace("<seq>", str(seq))}
        for seq in range(first, last + 1)
    )


@when("the checker reads the consumer's record:")
def when_read_record(context: Any) -> None:
    _judge(context, context.text + "\n", plans=None)


@when("the checker reads the record of a consumer that did not read to the end:")
def when_read_unfinished(context: Any) -> None:
    _judge(context, context.text + "\n", plans=None, complete=False)


@when('the checker reads the consumer\'s record of plan "{plan}" only:')
def when_read_plan(context: Any, plan: str) -> None:
    _judge(context, context.text + "\n", plans=[plan])


@when('the checker reads the consumer\'s record of plan "{plan}" only, its last line torn:')
def when_read_torn(context: Any, plan: str) -> None:
    _judge(context, context.text, plans=[plan])  # no newline after the last line: torn


@when('the checker is given a consumer line of kind "{kind}"')
def when_unknown_kind(context: Any, kind: str) -> None:
    line = json.dumps({"k": kind, "p": "a"}) + "\n"
    _refusal(context, lambda: _judge(context, line, plans=None))


@when('the checker is given a consumer line of plan "{plan}", which it did not follow')
def when_unfollowed_plan(context: Any, plan: str) -> None:
    line = json.dumps({"k": "e", "p": plan, "s": 1, "i": f"{plan}-1"}) + "\n"
    _refusal(context, lambda: _judge(context, line, plans=None))


@when('the checker is given a publisher\'s record holding "{event_id}" twice')
def when_published_twice(context: Any, event_id: str) -> None:
    _published(context).append({"p": "a", "s": 6, "i": event_id})
    _refusal(context, lambda: PublishedRecord.of(_published(context)))


def _refusal(context: Any, attempt: Any) -> None:
    try:
        attempt()
    except ValueError as exc:
        context.checker_refusal = str(exc)
    else:
        context.checker_refusal = None


@then("the stream is exact")
def then_exact(context: Any) -> None:
    verdict = _verdict(context)
    assert verdict.ok, verdict.problems()
    assert verdict.problems() == [], verdict.problems()


@then("the stream fails")
def then_fails(context: Any) -> None:
    verdict = _verdict(context)
    assert not verdict.ok, verdict
    assert verdict.problems(), "a failed stream says why"


@then("the checker counts {counts}")
def then_counts(context: Any, counts: str) -> None:
    verdict = _verdict(context)
    for name, expected in re.findall(r"(\w+) (\d+)", counts):
        assert verdict.total(name) == int(expected), (name, verdict.total(name), verdict)


@then("the checker counted {count:d} incarnation")
@then("the checker counted {count:d} incarnations")
def then_incarnations(context: Any, count: int) -> None:
    assert _verdict(context).incarnations == count, _verdict(context)


@then('a problem of plan "{plan}" reads "{text}"')
def then_problem(context: Any, plan: str, text: str) -> None:
    problems = _verdict(context).problems()
    assert f"{plan}: {text}" in problems, problems


@then('the checker refuses it with "{message}"')
def then_refused(context: Any, message: str) -> None:
    assert context.checker_refusal == message, context.checker_refusal
