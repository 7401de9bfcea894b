"""Steps of redis_log.feature: RedisEventLog answers as MemoryEventLog does.

The same calls go to both logs; outcomes are compared with the ids' own
parts (incarnation, stream number) taken out, as they differ by design.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from behave import given, then, when
from support.redis_servers import start_redis
from support.servers import run

from planstream.errors import SettingsError
from planstream.server import ServerSettings
from planstream.server.event_log import (
    BadCursorError,
    EventLog,
    PlanClosedError,
    ResumeAfter,
)
from planstream.server.memory_log import MemoryEventLog
from planstream.server.publishing import validate_new_event
from planstream.server.redis_log import RedisEventLog

_LOG = validate_new_event(
    "log", {"level": "info", "stream": "stdout", "message": "m"}, allow_unknown_kinds=False
)
_END = validate_new_event("plan.status", {"status": "succeeded"}, allow_unknown_kinds=False)
_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _reason(where: Any) -> Any:
    return getattr(where, "reason", where)


async def _script(log: EventLog) -> list[Any]:
    """The calls compared, and what each answered (ids reduced to their seq)."""
    out: list[Any] = []
    p1 = await log.append("p1", [_LOG, _LOG, _LOG], ts=_NOW)
    await log.append("p2", [_LOG], ts=_NOW)
    await log.append("p3", [_LOG, _END], ts=_NOW)
    own = p1[1].event.event_id
    incarnation, number, _ = own.split(".")
    ids = {
        "none": None,
        "own seq 2": own,
        "garbage": "garbage",
        "other incarnation": "f" * len(incarnation) + f".{number}.1",
        "foreign id": "abc.1.1",
        "other stream": f"{incarnation}.1234.1",
        "past the head": f"{incarnation}.{number}.9",
    }
    for label, event_id in ids.items():
        where = await log.locate("p1", event_id)
        out.append((label, where if isinstance(where, ResumeAfter) else where.reason))
    out.append(("unknown plan", (await log.locate("nope", own)).reason))  # type: ignore[union-attr]
    out.append(("unknown plan, no id", await log.locate("nope", None)))
    for name in ("head", "snapshot"):
        out.append((name, await getattr(log, name)("nope")))
    out.append(("read", await log.read("nope", 0, 1)))
    snapshot = await log.snapshot("p3")
    out.append(("p3 status", snapshot and snapshot.status))
    out.append(("p1 first", (await log.read("p1", 0, 1))[0].seq))
    out.append(("empty append", await log.append("p1", [], ts=_NOW)))
    for label, plan, batch in (("closed", "p3", []), ("after end", "p4", [_END, _LOG])):
        try:
            await log.append(plan, batch, ts=_NOW)
            out.append((label, "appended"))
        except PlanClosedError:
            out.append((label, "PlanClosedError"))
    pages, cursor = [], None
    while True:
        page = await log.plan_page(1, cursor)
        pages.append([snap.plan_id for snap in page.snapshots])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    out.append(("pages", pages))
    try:
        await log.plan_page(1, "x.1.p1")
        out.append(("bad cursor", "listed"))
    except BadCursorError:
        out.append(("bad cursor", "BadCursorError"))
    out.append(("evict, wrong head", await log.evict("p3", own)))
    out.append(("evict, garbage", await log.evict("p3", "garbage")))
    head = await log.head("p3")
    assert head is not None
    out.append(("evict", await log.evict("p3", head.event_id)))
    out.append(("count", await log.plan_count()))
    await log.append("p3", [_LOG], ts=_NOW)
    where = await log.locate("p3", head.event_id)
    out.append(("id of the evicted stream", _reason(where)))
    # Retention: 250 events kept 5 (Redis trims whole stream nodes: at least 5).
    long = await log.append("long", [_LOG] * 250, ts=_NOW)
    out.append(("expired id", _reason(await log.locate("long", long[0].event.event_id))))
    out.append(("expired start", _reason(await log.locate("long", None))))
    oldest = (await log.read("long", 0, 10))[0].seq
    out.append(("trimmed", 1 < oldest <= 246))
    return out


@given("a Redis event log and a memory event log")
def step_two_logs(context: Any) -> None:
    redis = start_redis(context)
    for bad in ({"retention": 0}, {"idempotency_keys": 0}):
        try:
            RedisEventLog(redis.url, **bad)
            raise AssertionError(f"{bad} was accepted")
        except ValueError:
            pass
    context.redis_log = RedisEventLog(redis.url, retention=5)
    context.memory_log = MemoryEventLog(retention=5)

    async def close() -> None:
        await context.redis_log.close()

    from support.servers import on_cleanup

    on_cleanup(context, close)


@when("the same appends, resumes, pages and evictions go to both")
def step_same_calls(context: Any) -> None:
    context.log_outcomes = (
        run(context, _script(context.memory_log)),
        run(context, _script(context.redis_log)),
    )


@then("both logs answer alike")
def step_alike(context: Any) -> None:
    memory, redis = context.log_outcomes
    differ = [(m, r) for m, r in zip(memory, redis, strict=True) if m != r]
    assert not differ, differ
    assert ("pages", [["p1"], ["p2"], ["p3"]]) in redis, redis


@then('PLANSTREAM_SERVER_REDIS_URL "{url}" is refused without "{secret}" in the error')
def step_bad_url(context: Any, url: str, secret: str) -> None:
    message = ""
    try:
        ServerSettings(redis_url=url)
    except SettingsError as exc:
        message = str(exc)
    assert "PLANSTREAM_SERVER_REDIS_URL" in message, f"{url} was accepted, or: {message}"
    assert secret not in message, message
    settings = ServerSettings(redis_url=url.replace("http", "redis"))
    assert secret not in repr(settings), settings


@then('the Redis log of "{url}" shows itself as "{shown}"')
def step_log_repr(context: Any, url: str, shown: str) -> None:
    log = RedisEventLog(url)  # connects lazily: no Redis is needed to build it
    assert repr(log) == shown, repr(log)
