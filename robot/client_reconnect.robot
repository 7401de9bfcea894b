*** Settings ***
Documentation       The full client against a scripted mock server: reconnects and resumes.
...
...                 Each test starts a real ``websockets`` server on 127.0.0.1
...                 (``MockPlanstreamServer``) whose connections play scripts,
...                 and a ``PlanStreamClient`` in a background event loop
...                 (``ClientUnderTest``). The mock records every frame the
...                 client sends: the tests check what the client resumes from
...                 after a close, a drop, a silence or a ``resync`` (protocol
...                 §3), what it delivers, and when it gives up (protocol §4).
...                 Event ``n`` of the mock has the id ``evt-n``.
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/``
Library             libraries/MockPlanstreamServer.py
Library             libraries/ClientUnderTest.py
Test Setup          Start Mock Server For The Test
Test Teardown       Run Keywords    Stop Client    AND    Stop Mock Server


*** Test Cases ***
After Close 1012 The Client Resumes From The Last Delivered Event
    Script Connection    1    hello    expect_subscribe    subscribed none    events 1 2 3
    ...    close 1012 service restart
    Script Connection    2    hello    expect_subscribe    subscribed 5    events 3 4 5
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    Client Should Have Delivered Seqs    1    2    3    4    5
    Subscribe Frame Should Carry    connection=1    last_event_id=${None}
    ${last}=    Delivered Event Id    3
    Subscribe Frame Should Carry    connection=2    last_event_id=${last}
    Client Should Have Reported    ServerUnavailableError
    Client Stat Should Be    duplicates_dropped    1
    Client Stat Should Be    reconnects    1
    Mock Script Should Complete    2
    Client State Should Be    open

After A Dropped TCP Connection The Client Resumes From The Last Delivered Event
    # sync: the client has read events 1-3 before the connection drops
    Script Connection    1    hello    expect_subscribe    subscribed none    events 1 2 3
    ...    sync    abort
    Script Connection    2    hello    expect_subscribe    subscribed 5    events 3 4 5
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    Client Should Have Delivered Seqs    1    2    3    4    5
    ${last}=    Delivered Event Id    3
    Subscribe Frame Should Carry    connection=2    last_event_id=${last}
    ${change}=    Client Should Have Reported    ConnectionLostError
    Should Contain    ${change.error.args[0]}    1006
    Client Stat Should Be    duplicates_dropped    1
    Client Stat Should Be    reconnects    1
    Mock Script Should Complete    2

The First Subscribe Carries The Caller's Id And Later Ones The Resync Head
    Script Connection    1    hello    expect_subscribe    resync history_expired 10    sync    abort
    Script Connection    2    hello    expect_subscribe    subscribed 12    events 11 12
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1    last_event_id=x.7
    Subscribe Frame Should Carry    connection=1    last_event_id=x.7
    Client Should Have Delivered Seqs    resync@10    11    12
    ${items}=    Delivered Items
    Should Be Equal    ${items[0].reason}    history_expired
    Subscribe Frame Should Carry    connection=2    last_event_id=${items[0].snapshot.head.event_id}
    Should Be Equal    ${items[0].snapshot.head.event_id}    evt-10
    Client Stat Should Be    resyncs    1

A Silent Connection Is Declared Dead And Replaced
    # heartbeat_s 0.2: the client gives the connection up after 0.5 s without a frame
    Script Connection    1    hello 1.0 0.2    expect_subscribe    subscribed none    events 1
    Script Connection    2    hello    expect_subscribe    subscribed 1    events 2
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    Wait For Mock Connections    2    timeout=5s
    Client Should Have Reported    HeartbeatTimeoutError
    Mock Connection Should Have Ended With    1    1000
    Subscribe Frame Should Carry    connection=2    last_event_id=evt-1
    Client Should Have Delivered Seqs    1    2
    Mock Connection Count Should Stay    2    period=0.3s

Close 4003 Is Fatal: ForbiddenError And No Reconnect
    Script Connection    1    hello    expect_subscribe    subscribed none    events 1
    ...    close 4003 forbidden
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    Client Error Should Be    ForbiddenError
    Client State Should Be    closed
    # the event received before the close is still delivered, then the error
    Client Should Have Delivered Seqs    1
    Subscription Should Have Ended With    ForbiddenError
    Mock Connection Count Should Stay    1    period=1s

Close 4006 Is Fatal: IncompatibleProtocolError And No Reconnect
    Script Connection    1    hello    close 4006 schema 2.0
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    ${message}=    Client Error Should Be    IncompatibleProtocolError
    Should Contain    ${message}    schema 2.0
    Subscription Should Have Ended With    IncompatibleProtocolError
    Client Should Have Delivered Seqs
    Mock Connection Count Should Stay    1    period=1s

Close 1013 With retry_after Delays The Reconnect At Least That Long
    # the backoff alone would be under 0.01 s
    Script Connection    1    hello    expect_subscribe    subscribed none
    ...    close 1013 {"retry_after": 0.5}
    Script Connection    2    hello    expect_subscribe    subscribed none    events 1
    Start Client    ${MOCK URL}    reconnect_initial_delay=0.01
    Subscribe To Plan    plan-1
    Client Should Have Delivered Seqs    1
    ${gap}=    Seconds Between Close And Next Connection    1
    Should Be True    0.45 <= ${gap} < 5    reconnected ${gap} s after the close
    ${change}=    Client Should Have Reported    ServerUnavailableError
    Should Be True    ${change.retry_in} >= 0.45    retry_in ${change.retry_in}
    Should Be Equal    ${change.error.retry_after}    ${0.5}


*** Keywords ***
Start Mock Server For The Test
    [Documentation]    Start the mock (connections play what ``Script Connection`` says).
    ${url}=    Start Mock Server
    Set Test Variable    ${MOCK URL}    ${url}
