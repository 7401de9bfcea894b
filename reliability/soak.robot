*** Settings ***
Documentation       The chaos soak (issue 15): exactly once, in order, through hundreds of faults.
...
...                 A steady publisher (5 plans, one sequential ``PlanPublisher`` each, an
...                 ``Idempotency-Key`` on every batch) and three consumer processes
...                 (fast, sleepy, slow with a small queue) around the reference server
...                 as a subprocess, behind the fault-injecting proxy
...                 (``features/support/fault_proxy.py``): random drops, close codes and
...                 stalls from a seeded RNG, and server restarts (SIGTERM, same port).
...                 Every consumer's record is checked against the publisher's
...                 (``features/support/stream_checker.py``). The report lands in
...                 ``build/reliability/soak.json`` and ``soak.md``.
...
...                 Run: ``nox -s reliability``, or alone:
...                 ``.venv/bin/robot --pythonpath features --pythonpath reliability
...                 --outputdir build/reports/reliability reliability/soak.robot``
Library             soak_harness.py    seed=15    events_per_plan=20000    rate=2000


*** Variables ***
${SOAK_TIMEOUT}     5 minutes


*** Test Cases ***
Redis log: 100 000 events through drops, stalls and 3 restarts arrive exactly once
    [Documentation]    Exact resume across restarts: no loss, no duplicate, no Resync.
    [Timeout]    ${SOAK_TIMEOUT}
    Run The Redis Log Phase    restarts=3    consumer_kills=2    checkpoint=True    deadline=240
    Phase Should Have Kept Every Rule    redis    min_disconnects=100    restarts=3
    ...    resync_expected=False
    Every Consumer Should Have Delivered Every Event    redis
    A Slow Consumer Should Have Been Rewound    redis

Memory log: a restart is told with a Resync
    [Documentation]    The memory log's history dies with the server: every consumer
    ...    mid-stream is told with a Resync in every plan, and nothing else is lost.
    [Timeout]    3 minutes
    Run The Memory Log Phase    events_per_plan=1000    deadline=120
    Phase Should Have Kept Every Rule    memory    restarts=1    resync_expected=True

The soak report is written
    [Documentation]    build/reliability/soak.json and soak.md, with every phase that ran.
    Write Soak Report
