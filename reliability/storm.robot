*** Settings ***
Documentation       The reconnect storm: 500 clients, one reference server that restarts.
...
...                 For each jitter mode of the reconnect backoff (``none``, ``equal``,
...                 ``full``, ``decorrelated``) 500 clients in 4 processes follow 10
...                 plans on one reference server with a Redis event log; the server
...                 is killed and started again, and the clients come back. Each storm
...                 counts per 100 ms (the peaks) the attempts the backoff offers the
...                 restarted server (the peak judged: the physics of the jitter) and
...                 the handshakes it completed (capped by what this machine's server
...                 can take, so shown, not judged), the time until
...                 every client resumed (its subscription flowing again: it got an
...                 event published once the server was back), and checks that every
...                 client saw every event exactly once. Full jitter must cut the peak
...                 at least 5× against none, and bring every client back within the
...                 backoff cap + 2 s. The table lands in ``build/reliability/storm.md``
...                 (and ``storm.json``); ``docs/reliability.md`` explains it.
...
...                 Run alone: ``.venv/bin/robot --pythonpath features --pythonpath
...                 reliability --outputdir /tmp/storm reliability/storm.robot``
Library             storm_library.StormLibrary    clients=${STORM CLIENTS}    processes=${STORM PROCESSES}
Suite Setup         Start Redis For The Storms
Suite Teardown      Run Keywords    Write The Storm Report    AND    Stop Redis For The Storms
Test Timeout        2 minutes


*** Variables ***
${STORM CLIENTS}        500
${STORM PROCESSES}      4


*** Test Cases ***
Storm Without Jitter
    Run A Storm With Jitter    none
    Every Client Should Have Seen Every Event Exactly Once    none

Storm With Full Jitter
    Run A Storm With Jitter    full
    Every Client Should Have Seen Every Event Exactly Once    full

Storm With Equal Jitter
    Run A Storm With Jitter    equal
    Every Client Should Have Seen Every Event Exactly Once    equal

Storm With Decorrelated Jitter
    Run A Storm With Jitter    decorrelated
    Every Client Should Have Seen Every Event Exactly Once    decorrelated

Full Jitter Cuts The Peak Of Attempts On The Restarted Server At Least Five Times
    Peak Attempts Should Be Cut At Least    5    full    against=none

With Full Jitter Every Client Is Back Within The Backoff Cap Plus Two Seconds
    Every Client Should Be Back Within The Cap Plus    2    full
