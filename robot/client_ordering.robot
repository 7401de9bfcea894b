*** Settings ***
Documentation       The full client against a scripted mock server: order, duplicates, gaps.
...
...                 One connection of a real ``websockets`` mock server on
...                 127.0.0.1 sends a plan's events out of order, twice, inside
...                 ``batch`` frames or with one missing; the ``PlanStreamClient``
...                 (``ClientUnderTest``) must deliver each seq once, in order
...                 (protocol §1), and repair a gap by re-subscribing from the
...                 last event it delivered (protocol §3). Event ``n`` of the
...                 mock has the id ``evt-n``.
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/``
Library             libraries/MockPlanstreamServer.py
Library             libraries/ClientUnderTest.py
Test Setup          Start Mock Server For The Test
Test Teardown       Run Keywords    Stop Client    AND    Stop Mock Server


*** Test Cases ***
Events Sent Out Of Order Are Delivered In Order
    Script Connection    1    hello    expect_subscribe    subscribed none    events 3 1 2 5 4
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    Client Should Have Delivered Seqs    1    2    3    4    5
    Client Stat Should Be    reordered    2
    Client Stat Should Be    events_delivered    5
    Client Stat Should Be    duplicates_dropped    0
    Client Stat Should Be    gaps_repaired    0
    ${subscribes}=    Subscribe Frames    1
    Length Should Be    ${subscribes}    1

Duplicates On One Connection Are Delivered Once
    # 1, 3 and 2 come twice, 3 before and after its turn
    Script Connection    1    hello    expect_subscribe    subscribed none
    ...    events 3 1 1 2 5 3 4 2
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    Client Should Have Delivered Seqs    1    2    3    4    5
    # all three duplicates were read (and dropped), the last one after seq 5
    Client Stat Should Be    duplicates_dropped    3
    Client Stat Should Be    events_delivered    5
    Client Should Have Delivered Seqs    1    2    3    4    5

Disorder And Duplicates Inside A Batch Frame Are Delivered Once In Order
    # 3 waits for the batch; the batch repeats 3 and brings 5 early; 4 then 2 again
    Script Connection    1    hello    expect_subscribe    subscribed none    events 3
    ...    batch 1 2 3 3 5    events 4 2
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    Client Should Have Delivered Seqs    1    2    3    4    5
    Client Stat Should Be    duplicates_dropped    3
    Client Stat Should Be    reordered    2
    Client Should Have Delivered Seqs    1    2    3    4    5

A Batch Made Only Of Duplicates And Disorder Is Delivered Once In Order
    Script Connection    1    hello    expect_subscribe    subscribed none
    ...    batch 3 1 2 2 5 4 5 1
    Start Client    ${MOCK URL}
    Subscribe To Plan    plan-1
    Client Should Have Delivered Seqs    1    2    3    4    5
    Client Stat Should Be    duplicates_dropped    3
    Client Should Have Delivered Seqs    1    2    3    4    5

A Missing Event Is Repaired By Re-Subscribing From The Last Delivered One
    # seq 3 never comes; after gap_timeout the client asks again after seq 2
    Script Connection    1    hello    expect_subscribe    subscribed none    events 1 2 4 5
    ...    expect_subscribe    subscribed 5    events 3 4 5
    Start Client    ${MOCK URL}    gap_timeout=0.2
    Subscribe To Plan    plan-1
    Client Should Have Delivered Seqs    1    2    3    4    5
    ${second}=    Delivered Event Id    2
    Subscribe Frame Should Carry    connection=1    last_event_id=${second}    index=2
    Client Stat Should Be    gaps_repaired    1
    Client Stat Should Be    duplicates_dropped    2
    Mock Script Should Complete    1
    ${subscribes}=    Subscribe Frames    1
    Length Should Be    ${subscribes}    2
    ${connections}=    Mock Connection Count
    Should Be Equal    ${connections}    ${1}
    Client Should Have Delivered Seqs    1    2    3    4    5


*** Keywords ***
Start Mock Server For The Test
    [Documentation]    Start the mock (connections play what ``Script Connection`` says).
    ${url}=    Start Mock Server
    Set Test Variable    ${MOCK URL}    ${url}
