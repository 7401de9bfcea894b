"""The soak's verdicts and its report (``build/reliability/soak.json`` and ``soak.md``).

:func:`summarize` checks every consumer's record of a phase against the
publisher's (``support.stream_checker``) and gathers the figures of the
report; :func:`problems` lists what breaks the soak's rules;
:func:`markdown` renders the page ``docs/reliability.md`` shows.
"""

from __future__ import annotations

from typing import Any

from soak_phases import PhaseOutcome
from support.stream_checker import PublishedRecord, check_consumer, read_jsonl

__all__ = ["markdown", "problems", "summarize"]

_COUNTS = ("delivered", "lost", "duplicated", "redelivered", "resyncs", "explained")


def summarize(outcome: PhaseOutcome) -> dict[str, Any]:
    """The phase's figures, every consumer's stream checked."""
    config = outcome.config
    published = PublishedRecord.of(read_jsonl(outcome.published))
    consumers: dict[str, Any] = {}
    for name in outcome.consumers:
        verdict = check_consumer(published, read_jsonl(outcome.record(name)), plans=config.plan_ids)
        stats = outcome.stats(name)
        client = stats.get("client", {})
        consumers[name] = {
            "pace": stats.get("pace", name.rsplit("-", 1)[-1]),
            **{count: verdict.total(count) for count in _COUNTS},
            "order_violations": verdict.total("order_violations"),
            "unknown": verdict.total("unknown"),
            "plans_without_resync": sorted(p for p, v in verdict.plans.items() if not v.resyncs),
            "reconnects": client.get("reconnects"),
            "slow_consumer_rewinds": client.get("slow_consumer_rewinds"),
            "duplicates_dropped": client.get("duplicates_dropped"),
            "gaps_repaired": client.get("gaps_repaired"),
            "seconds": stats.get("seconds"),
            "vm_hwm_kib": stats.get("vm_hwm_kib"),
            "exit_code": outcome.exit_codes.get(name),
            "incarnations": verdict.incarnations,
            "problems": verdict.problems()[:10],
        }
    publish_seconds = sum(part["seconds"] for part in outcome.publishers)
    return {
        "log": config.name,
        "seed": config.seed,
        "plans": config.plans,
        "events_published": published.total,
        "events_expected": config.plans * config.events_per_plan,
        "publish_seconds": round(publish_seconds, 1),
        "publish_rate": round(published.total / publish_seconds, 1) if publish_seconds else None,
        "delivered": sum(one["delivered"] for one in consumers.values()),
        **{
            count: sum(one[count] for one in consumers.values())
            for count in ("lost", "duplicated", "redelivered", "resyncs", "explained")
        },
        "disconnects": dict(sorted(outcome.disconnects.items())),
        "disconnects_total": sum(outcome.disconnects.values()),
        "injected_disconnects": sum(
            n for kind, n in outcome.disconnects.items() if not kind.startswith("server")
        ),
        "restarts": outcome.restarts.restarts,
        "consumer_kills": outcome.consumer_kills,
        "unseen_before_restart": outcome.unseen_per_plan * config.plans,
        "stalled_before_restart": outcome.stalled_before_restart,
        "restart_downtime_s": outcome.restarts.seconds,
        "server_peak_kib": [server.peak_kib for server in outcome.servers],
        "server_exit_codes": [server.exit_code for server in outcome.servers],
        "exit_codes": dict(outcome.exit_codes),
        "wall_seconds": outcome.seconds,
        "consumers": consumers,
    }


def problems(
    summary: dict[str, Any], *, min_disconnects: int, restarts: int, resync_expected: bool
) -> list[str]:
    """Every way the phase broke the soak's rules (empty: it passed)."""
    found = [f"{name} exited with {code}" for name, code in summary["exit_codes"].items() if code]
    if summary["events_published"] != summary["events_expected"]:
        found.append(
            f"{summary['events_published']} events acknowledged, "
            f"{summary['events_expected']} expected"
        )
    for name, consumer in summary["consumers"].items():
        for count in ("lost", "duplicated", "order_violations", "unknown"):
            if consumer[count]:
                found.append(f"{name}: {consumer[count]} {count}: {consumer['problems']}")
        if resync_expected and consumer["plans_without_resync"]:
            found.append(f"{name}: no Resync told for {consumer['plans_without_resync']}")
        if consumer["explained"] < summary["unseen_before_restart"]:
            found.append(
                f"{name}: {consumer['explained']} events explained by a Resync, but "
                f"{summary['unseen_before_restart']} were published while it could not see them"
            )
        if not resync_expected and consumer["resyncs"]:
            found.append(f"{name}: {consumer['resyncs']} unexpected Resync(s)")
    if summary["injected_disconnects"] < min_disconnects:
        found.append(f"{summary['injected_disconnects']} random disconnects, < {min_disconnects}")
    if min_disconnects:
        kinds = {kind.split()[0] for kind in summary["disconnects"]}
        missing = {"drop", "close", "stall"} - kinds
        if missing:
            found.append(f"no disconnect of kind {sorted(missing)}: {summary['disconnects']}")
    if summary["restarts"] != restarts:
        found.append(f"{summary['restarts']} server restarts, {restarts} planned")
    incarnations = sum(consumer["incarnations"] for consumer in summary["consumers"].values())
    if incarnations != len(summary["consumers"]) + summary["consumer_kills"]:
        found.append(
            f"{incarnations} consumer process starts recorded, for "
            f"{len(summary['consumers'])} consumers killed {summary['consumer_kills']} times"
        )
    return found


def _kib(value: int | None) -> str:
    return "?" if value is None else f"{value / 1024:.0f} MiB"


def markdown(report: dict[str, Any]) -> str:
    """The report as the tables ``docs/reliability.md`` shows."""
    phases: list[dict[str, Any]] = [report[name] for name in ("redis", "memory") if name in report]
    lines = [
        f"Seed {report['seed']}; wall time {report['wall_seconds']:.0f} s (`{report['command']}`).",
        "",
        "| | " + " | ".join(f"{phase['log']} log" for phase in phases) + " |",
        "|---|" + "---|" * len(phases),
    ]

    def row(label: str, cell: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(str(cell(p)) for p in phases) + " |")

    row("events published (acknowledged)", lambda p: f"{p['events_published']:,}")
    row(
        "publish rate",
        lambda p: f"{p['publish_rate']:,.0f} events/s over {p['publish_seconds']:.0f} s",
    )
    row("consumers (paces)", lambda p: ", ".join(c["pace"] for c in p["consumers"].values()))
    row("events delivered, all consumers", lambda p: f"{p['delivered']:,}")
    row("lost / duplicated", lambda p: f"{p['lost']} / {p['duplicated']}")
    row(
        "published unseen before a restart, per consumer",
        lambda p: f"{p['unseen_before_restart']:,}",
    )
    row("skipped, explained by a Resync", lambda p: f"{p['explained']:,}")
    row("resyncs", lambda p: p["resyncs"])
    row("random disconnects", lambda p: p["injected_disconnects"])
    row(
        "disconnects by kind",
        lambda p: ", ".join(f"{kind} {n}" for kind, n in p["disconnects"].items()) or "none",
    )
    row("server restarts", lambda p: p["restarts"])
    row("consumer processes SIGKILLed and restarted", lambda p: p["consumer_kills"])
    row("events redelivered after a SIGKILL", lambda p: p["redelivered"])
    row("wall time", lambda p: f"{p['wall_seconds']:.0f} s")
    row(
        "server peak memory (VmHWM, each run)", lambda p: ", ".join(map(_kib, p["server_peak_kib"]))
    )
    lines += [
        "",
        "| log | consumer | delivered | lost | duplicated | resyncs | reconnects "
        "| slow-consumer rewinds | peak memory |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        for name, one in phase["consumers"].items():
            lines.append(
                f"| {phase['log']} | {name} | {one['delivered']:,} | {one['lost']} "
                f"| {one['duplicated']} | {one['resyncs']} | {one['reconnects']} "
                f"| {one['slow_consumer_rewinds']} | {_kib(one['vm_hwm_kib'])} |"
            )
    return "\n".join(lines) + "\n"
