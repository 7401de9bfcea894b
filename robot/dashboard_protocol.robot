*** Settings ***
Documentation       The dashboard's JavaScript protocol client, run in headless Chromium.
...
...                 The modules under ``static/assets/js/protocol/`` are imported by a
...                 blank page of the same origin and driven with ``Run Client Script``
...                 (``ProtocolHarness``): the pure ones (backoff, plan_state, sequencer)
...                 against the SDK's Python results, ``StreamClient`` against a scripted
...                 server (``ScriptedStreamServer``: each script under ``/s/<name>/``,
...                 scenarios in ``ProtocolScenarios``) and against the reference server
...                 behind a TCP proxy the test cuts (``ProtocolRealServer``).
...                 Event ``n`` of the scripts has the id ``evt-n``.
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/dashboard_protocol.robot``
Library             Collections
Library             SeleniumLibrary    run_on_failure=Nothing
Library             libraries/DashboardBrowser.py
Library             libraries/ScriptedStreamServer.py
Library             libraries/ProtocolHarness.py
Library             libraries/ProtocolRealServer.py
Suite Setup         Start Browser And Servers
Suite Teardown      Stop Browser And Servers
Test Setup          Mark Console Start
Test Teardown       Close Client And Check Console


*** Variables ***
${READER TOKEN}     reader-token?>>~
${PUBLISH TOKEN}    pub-token


*** Test Cases ***
Backoff Delays Are The SDK's Full-Jitter Delays, Capped
    Load Script Page    reorder
    ${draws}=    Create List    0.5    0.999    0.25    0.0    0.75    0.5    0.999    0.1    0.999    0.5
    ${expected}=    Python Backoff Delays    ${draws}
    ${json}=    To Json    ${draws}
    ${result}=    Run Client Script
    ...    const { BackoffSchedule } = await mod('backoff');
    ...    const draws = ${json}; let i = 0;
    ...    const schedule = new BackoffSchedule({ initial: 0.5, factor: 2, max: 30 }, () => draws[i++]);
    ...    const delays = draws.map(() => schedule.nextDelay());
    ...    let seed = 42; const seeded = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    ...    const many = new BackoffSchedule({ initial: 0.5, factor: 2, max: 30 }, seeded);
    ...    const bounds = Array.from({ length: 200 }, (_, n) => [many.nextDelay(), Math.min(30, 0.5 * 2 ** n)]);
    ...    const hinted = new BackoffSchedule({}, () => 0.1).nextDelay(7);
    ...    schedule.reset();
    ...    return { delays, bounds, hinted, attemptAfterReset: schedule.attempt };
    FOR    ${js}    ${python}    IN ZIP    ${result}[delays]    ${expected}
        Should Be True    abs(${js} - ${python}) < 1e-9    JS ${js} != Python ${python}
    END
    Should Be True    ${result}[delays][9] == 15.0    the cap (30 s) times the draw 0.5
    FOR    ${pair}    IN    @{result}[bounds]
        Should Be True    0 <= ${pair}[0] <= ${pair}[1] <= 30
    END
    Should Be Equal As Numbers    ${result}[hinted]    7    retry_after is a lower bound
    Should Be Equal As Integers    ${result}[attemptAfterReset]    0

The Plan State Folds A Stream To The SDK's Snapshot
    Load Script Page    reorder
    ${events}=    Six Step Plan Events
    ${expected}=    Python Folded Snapshot    ${events}
    ${json}=    To Json    ${events}
    ${state}=    Run Client Script
    ...    const { applyEvent, emptyPlanState, stateFromSnapshot, TERMINAL_STATUSES } = await mod('plan_state');
    ...    const events = ${json};
    ...    let state = emptyPlanState('plan-1');
    ...    for (const event of [...events, events[3], events[0]]) state = applyEvent(state, event);
    ...    const again = stateFromSnapshot(JSON.parse(JSON.stringify(state)));
    ...    if (JSON.stringify(again) !== JSON.stringify(state)) throw new Error('stateFromSnapshot changed the state');
    ...    if (!TERMINAL_STATUSES.has(state.status)) throw new Error('failed is terminal');
    ...    return state;
    Dictionaries Should Be Equal    ${state}    ${expected}
    Should Be Equal    ${state}[status]    failed
    Length Should Be    ${state}[steps]    6

The Sequencer Drops Duplicates, Reorders, And Asks For Repairs
    Load Script Page    reorder
    ${result}=    Run Client Script
    ...    const { Sequencer } = await mod('sequencer');
    ...    const ev = (seq, id = 'e' + seq) => ({ plan_id: 'p', seq, event_id: id });
    ...    const s = new Sequencer({ reorderWindow: 4, gapTimeout: 2, repairTimeout: 10 });
    ...    s.track('p');
    ...    const out = [];
    ...    for (const e of [ev(1), ev(1), ev(3), ev(2), ev(3), ev(4, 'e2'), ev(4)]) out.push(...s.onEvent(e, 0).events.map((x) => x.seq));
    ...    const gap = s.onEvent(ev(6), 1);
    ...    const early = s.tick(2.5);
    ...    const late = s.tick(3.1);
    ...    const answered = s.onSubscribed('p', { seq: 6, event_id: 'e6' }, 3.2);
    ...    const fill = s.onEvent(ev(5), 3.3).events.map((x) => x.seq);
    ...    const far = s.onEvent(ev(20), 4);
    ...    s.onSubscribed('p', { seq: 20, event_id: 'e20' }, 4.1);
    ...    const beat = s.onHeartbeat({ p: { seq: 9, event_id: 'e9' } }, 5);
    ...    const beatAgain = s.onHeartbeat({ p: { seq: 9, event_id: 'e9' } }, 6);
    ...    return { out, gap: gap.events.length, early: early.repairs, late: late.repairs, fill, far: far.repairs,
    ...             beat: beat.repairs, beatAgain: beatAgain.repairs, stats: s.stats, position: s.position('p') };
    ${in order}=    Create List    ${1}    ${2}    ${3}    ${4}
    Lists Should Be Equal    ${result}[out]    ${in order}
    Should Be Equal As Integers    ${result}[stats][duplicates]    3    seq 1 again, seq 3 again, id e2 at seq 4
    Should Be Equal As Integers    ${result}[gap]    0    seq 6 waits for seq 5
    Should Be Empty    ${result}[early]    the gap is younger than gapTimeout
    Should Be Equal    ${result}[late]    ${{['p']}}
    Should Be Equal    ${result}[fill]    ${{[5, 6]}}
    Should Be Equal    ${result}[far]    ${{['p']}}    seq 20 is beyond the reorder window of 4
    Should Be Equal    ${result}[beat]    ${{['p']}}    head 9 ahead of 6, nothing buffered
    Should Be Empty    ${result}[beatAgain]    a repair is already on its way
    Should Be Equal As Integers    ${result}[stats][gapRepairs]    3
    Should Be Equal    ${result}[position]    ${{{'eventId': 'e6', 'seq': 6}}}

A Hello Of Protocol 2 Is Fatal And Never Retried
    Load Script Page    incompatible
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1');
    ...    await waitFor(() => h.record.fatals.length, 'a fatal problem');
    ...    await pause(0.5);    // a retry would come within 0.05 s
    ...    return report();
    Should Be Equal    ${report}[fatals][0][kind]    incompatible
    Should Contain    ${report}[fatals][0][message]    protocol 2
    Should Contain    ${report}[fatals][0][message]    schema 2.0
    Should Be Equal    ${report}[state]    failed
    Script Should Have Seen Connections    incompatible    1
    Wait Until Keyword Succeeds    5 s    50 ms    Client Close Code Should Be    incompatible    4006

Duplicates And Out-Of-Order Events Are Delivered Once, In Order
    Load Script Page    reorder
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1');
    ...    await waitFor(() => seqs().length >= 7, 'seqs 1-7');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1, 2, 3, 4, 5, 6, 7]}}
    Should Be Equal    ${report}[plans][plan-1][ids]    ${{[f'evt-{n}' for n in range(1, 8)]}}
    Should Be Equal As Integers    ${report}[stats][duplicates]    4    two of the first five, seq 3 in the batch, evt-5 at seq 6
    Should Be Equal As Integers    ${report}[stats][events]    7
    Should Be Equal    ${report}[state]    connected
    ${offered}=    Offered Subprotocols    reorder
    Should Be Equal    ${offered}    ${{['planstream.v1']}}    no token: no bearer subprotocol
    ${closed}=    Run Client Script
    ...    h.client.close();
    ...    return report();
    Should Be Equal    ${closed}[states][-1]    closed
    Wait Until Keyword Succeeds    5 s    50 ms    Client Close Code Should Be    reorder    1000

A Resync Frame Is Delivered And The Stream Continues From Its Head
    Load Script Page    resync
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1', 'x.7');
    ...    await waitFor(() => seqs().length >= 3, 'the resync and seqs 11, 12');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{['resync@10', 11, 12]}}
    Should Be Equal    ${report}[plans][plan-1][resyncs][0][reason]    history_expired
    Should Be Equal    ${report}[plans][plan-1][resyncs][0][snapshot][status]    running
    Should Be Equal As Integers    ${report}[stats][resyncs]    1
    Should Be Equal As Integers    ${report}[stats][duplicates]    1
    ${subscribes}=    Subscribe Frames    resync    1
    Should Be Equal    ${subscribes}[0][last_event_id]    x.7

A Silent Server Is Dropped And The Client Resumes From The Last Event
    Load Script Page    dead-link
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1');
    ...    await waitFor(() => seqs().length >= 5, 'seqs 1-5 over two connections');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1, 2, 3, 4, 5]}}
    ${subscribes}=    Subscribe Frames    dead-link    2
    Should Be Equal    ${subscribes}[0][last_event_id]    evt-3
    Should Be Equal As Integers    ${report}[stats][reconnects]    1
    List Should Contain Value    ${report}[states]    reconnecting
    ${silence}=    Evaluate    [c for c in $report['changes'] if c['state'] == 'reconnecting'][0]['at'] - [c for c in $report['changes'] if c['state'] == 'connected'][0]['at']
    Should Be True    2400 <= ${silence} <= 6000    dead after heartbeat 1 s (clamped) x 2.5, not ${silence} ms

A Heartbeat Head Ahead Makes The Client Re-Subscribe From Its Last Event
    Load Script Page    heartbeat-ahead
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1');
    ...    await waitFor(() => seqs().length >= 4, 'seqs 1-4');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1, 2, 3, 4]}}
    Should Be Equal As Integers    ${report}[stats][gapRepairs]    1
    ${subscribes}=    Subscribe Frames    heartbeat-ahead    1
    Should Be Equal    ${subscribes}[1][last_event_id]    evt-2
    Should Be Equal    ${subscribes}[1][id]    ${{$subscribes[0]['id'] + 1}}    request ids are increasing integers
    Script Should Have Seen Connections    heartbeat-ahead    1

Close 4001 And 4003 Are Fatal
    [Template]    Close Code Should Be Fatal
    close-4001    token_expired
    close-4003    forbidden

Close 4029 Waits At Least Its retry_after Before Resuming
    Load Script Page    close-4029
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1');
    ...    await waitFor(() => seqs().length >= 3, 'seqs 1-3');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1, 2, 3]}}
    ${waited}=    Pause Between Connections    close-4029
    Should Be True    ${waited} >= 0.95    the client came back after ${waited} s, retry_after is 1 s
    ${retry}=    Evaluate    [c for c in $report['changes'] if c['state'] == 'reconnecting'][0]
    Should Be True    ${retry}[retryInSeconds] >= 1
    ${subscribes}=    Subscribe Frames    close-4029    2
    Should Be Equal    ${subscribes}[0][last_event_id]    evt-1

Close 1012 Reconnects And Resumes
    Load Script Page    close-1012
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1');
    ...    await waitFor(() => seqs().length >= 3, 'seqs 1-3');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1, 2, 3]}}
    Should Be Equal As Integers    ${report}[stats][reconnects]    1
    Should Be Equal As Integers    ${report}[stats][duplicates]    1
    ${subscribes}=    Subscribe Frames    close-1012    2
    Should Be Equal    ${subscribes}[0][last_event_id]    evt-1
    Should Be Equal    ${report}[states]    ${{['connecting', 'connected', 'reconnecting', 'connecting', 'connected']}}

The Backoff Grows Across Short Connections And Resets After A Healthy One
    [Documentation]    Four connections closed with 1012 after 0.5 s each, with every
    ...    random draw 0.99: counted as healthy after 10 s (the default) they never
    ...    reset the attempt and the delays double; healthy after 0.2 s they reset
    ...    it every time.
    [Template]    Reconnect Delays Should Be
    10     ${{[0.099, 0.198, 0.396, 0.792]}}
    0.2    ${{[0.099, 0.099, 0.099, 0.099]}}

A Blocked WebSocket Falls Back To Polling And Comes Back Without Loss
    Expect Refusals
    Load Script Page    blocked
    ${report}=    Run Client Script
    ...    await startClient({ pollWait: 20 }); follow('plan-1');
    ...    await waitFor(() => seqs().length >= 6 && h.client.stats.transport === 'websocket', 'seqs 1-6, back on the WebSocket');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1, 2, 3, 4, 5, 6]}}
    List Should Contain Value    ${report}[states]    polling
    Should Be Equal    ${report}[states][-1]    connected
    Should Be Equal    ${report}[stats][transport]    websocket
    ${polls}=    Http Requests    blocked
    Should Be Equal    ${polls}[0]    poll after=None wait=20
    Should Be Equal    ${polls}[1]    poll after=evt-2 wait=20
    Should Be Equal    ${polls}[2]    poll after=evt-4 wait=20
    ${connections}=    Script Connections    blocked
    Should Be True    ${connections} >= 3    two refusals before polling, then the way back
    ${subscribes}=    Subscribe Frames    blocked    ${connections}
    Should Be Equal    ${subscribes}[0][last_event_id]    evt-4

A Resync In A Poll Answer Is Delivered And Polling Continues From Its Head
    Expect Refusals
    Load Script Page    polled-resync
    ${report}=    Run Client Script
    ...    await startClient({ pollWait: 1 }); follow('plan-1');
    ...    await waitFor(() => seqs().length >= 3, 'the resync and seqs 11, 12');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{['resync@10', 11, 12]}}
    Should Be Equal    ${report}[plans][plan-1][resyncs][0][reason]    history_expired
    Should Be Equal As Integers    ${report}[stats][resyncs]    1
    Should Be Equal As Integers    ${report}[stats][duplicates]    1
    Should Be Equal    ${report}[stats][transport]    polling
    Should Be Equal    ${report}[state]    polling
    ${polls}=    Http Requests    polled-resync
    Should Be Equal    ${polls}[1]    poll after=evt-10 wait=1

A Refused Token Is Fatal Unauthorized After The HTTP Probe
    Expect Refusals
    Load Script Page    unauthorized
    ${report}=    Run Client Script
    ...    await startClient({ token: 'not-a-token' }); follow('plan-1');
    ...    await waitFor(() => h.record.fatals.length, 'a fatal problem');
    ...    await pause(0.5);
    ...    return report();
    Should Be Equal    ${report}[fatals][0][kind]    unauthorized
    Should Be Equal    ${report}[state]    failed
    Script Should Have Seen Connections    unauthorized    1
    ${offered}=    Offered Subprotocols    unauthorized
    Should Be Equal    ${offered}    ${{['planstream.v1', 'planstream.bearer.bm90LWEtdG9rZW4']}}

A Server That Is Down Is Retried With Backoff, Not Polled
    Expect Refusals
    Load Script Page    server-down
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1');
    ...    await waitFor(() => seqs().length >= 1, 'seq 1 on the third connection');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1]}}
    List Should Not Contain Value    ${report}[states]    polling
    Should Be Equal    ${report}[stats][transport]    websocket
    Script Should Have Seen Connections    server-down    3

A Forbidden Subscription Fails Alone Beside A Working One
    Load Script Page    forbidden-beside
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1'); follow('plan-secret');
    ...    await waitFor(() => seqs().length >= 3, 'seqs 1-3 of plan-1');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1, 2, 3]}}
    Should Be Equal    ${report}[plans][plan-secret][errors][0][code]    forbidden
    Should Be Empty    ${report}[plans][plan-secret][seqs]
    Should Be Empty    ${report}[plans][plan-1][errors]
    Should Be Equal    ${report}[state]    connected
    Script Should Have Seen Connections    forbidden-beside    1

The Reference Server Accepts The Token As A Subprotocol And Refuses A Wrong One
    Expect Refusals
    Go To Reference Server
    ${seqs}=    Publish Log Lines    ${PUBLISH TOKEN}    real-1    one    two    three
    ${report}=    Run Client Script
    ...    await startClient({ token: ${{json.dumps($READER_TOKEN)}} }); follow('real-1');
    ...    await waitFor(() => seqs('real-1').length >= 3, 'three published lines');
    ...    return report();
    Should Be Equal    ${report}[plans][real-1][messages]    ${{['one', 'two', 'three']}}
    Should Be Equal    ${report}[stats][transport]    websocket
    ${wrong}=    Run Client Script
    ...    h.client.close();
    ...    await startClient({ token: 'wrong-token' }); follow('real-1');
    ...    await waitFor(() => h.record.fatals.length, 'a fatal problem');
    ...    return report();
    Should Be Equal    ${wrong}[fatals][0][kind]    unauthorized

The Client Resumes From The Reference Server After A Dropped Connection
    Go To Reference Server
    Publish Log Lines    ${PUBLISH TOKEN}    real-2    a1    a2    a3
    ${report}=    Run Client Script
    ...    await startClient({ token: ${{json.dumps($READER_TOKEN)}} }); follow('real-2');
    ...    await waitFor(() => seqs('real-2').length >= 3, 'the first three lines');
    ...    return report();
    ${dropped}=    Drop Proxied Connections
    Should Be True    ${dropped} >= 2
    Publish Log Lines    ${PUBLISH TOKEN}    real-2    b4    b5
    ${report}=    Run Client Script
    ...    await waitFor(() => seqs('real-2').length >= 5, 'five lines');
    ...    await waitFor(() => h.client.state === 'connected', 'connected again');
    ...    return report();
    Should Be Equal    ${report}[plans][real-2][seqs]    ${{[1, 2, 3, 4, 5]}}
    Should Be Equal    ${report}[plans][real-2][messages]    ${{['a1', 'a2', 'a3', 'b4', 'b5']}}
    Should Be Equal As Integers    ${report}[stats][reconnects]    1
    List Should Contain Value    ${report}[states]    reconnecting


*** Keywords ***
Start Browser And Servers
    Start Dashboard Browser
    Start Scripted Server
    ${proxy}=    Start Reference Server With Proxy    ${READER TOKEN}    ${PUBLISH TOKEN}
    Set Suite Variable    ${PROXY URL}    ${proxy}

Stop Browser And Servers
    Close Dashboard Browser
    Stop Scripted Server
    Stop Reference Server

Expect Refusals
    [Documentation]    Chromium logs every refused upgrade and every 4xx/5xx answer
    ...    itself: this test refuses on purpose.
    Expect Browser Network Error    WebSocket connection to
    Expect Browser Network Error    Failed to load resource: the server responded with a status of


Close Client And Check Console
    Run Keyword And Ignore Error    Close Client In Page
    Browser Console Should Have No Errors

Go To Reference Server
    [Documentation]    A page of the reference server's origin without the dashboard:
    ...    ``/healthz``. A JSON page has no icon link, so Chromium asks for
    ...    ``/favicon.ico`` (404): forgiven here only.
    Expect Browser Network Error    /favicon.ico - Failed to load resource
    Go To    ${PROXY URL}healthz

Reconnect Delays Should Be
    [Arguments]    ${healthy after}    ${expected}
    Load Script Page    restarts
    ${report}=    Run Client Script
    ...    await startClient({ healthyAfter: ${healthy after}, random: () => 0.99,
    ...        backoff: { initial: 0.1, factor: 2, max: 5 } });
    ...    follow('plan-1');
    ...    await waitFor(() => seqs().length >= 5, 'seqs 1-5 over five connections');
    ...    return report();
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1, 2, 3, 4, 5]}}
    ${delays}=    Evaluate
    ...    [round(c["retryInSeconds"], 3) for c in $report["changes"] if c["state"] == "reconnecting"]
    Should Be Equal    ${delays}    ${expected}
    Script Should Have Seen Connections    restarts    5


Close Code Should Be Fatal
    [Arguments]    ${script}    ${kind}
    Load Script Page    ${script}
    ${report}=    Run Client Script
    ...    await startClient(); follow('plan-1');
    ...    await waitFor(() => h.record.fatals.length, 'a fatal problem');
    ...    await pause(0.5);    // a retry would come within 0.05 s
    ...    return report();
    Should Be Equal    ${report}[fatals][0][kind]    ${kind}
    Should Be Equal    ${report}[fatals][0][state]    failed
    Should Be Equal    ${report}[plans][plan-1][seqs]    ${{[1]}}
    Script Should Have Seen Connections    ${script}    1

Client Close Code Should Be
    [Arguments]    ${script}    ${code}
    ${seen}=    Client Close Code    ${script}
    Should Be Equal As Integers    ${seen}    ${code}
