*** Settings ***
Documentation       The dashboard's views in Debian's headless Chromium against real reference
...                 servers with the dashboard on: the plan list (pages, status filter, live
...                 rows), the plan page's log tail (bound, level filter, auto-scroll), step
...                 durations, control characters shown as control pictures, the token form,
...                 an anonymous server and an invalid plan id in the address.
...                 (The issue's end-to-end runs live in the end-to-end suite.)
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/dashboard_views.robot``
Library             Collections
Library             SeleniumLibrary    timeout=10 s    run_on_failure=Capture Page Screenshot
Library             libraries/DashboardBrowser.py
Library             libraries/DashboardViews.py
Suite Setup         Start Servers And Browser
Suite Teardown      Stop Servers And Browser
Test Setup          Mark Console Start
Test Teardown       Browser Console Should Have No Errors


*** Variables ***
${READER}           views-reader
${PUBLISHER}        views-publisher
${ROWS}             css:#plan-list tbody tr[data-plan-id]
${LOG_ROWS}         css:#log-tail .log-row
${SHOWN_IDS}        return [...document.querySelectorAll('#plan-list tbody tr[data-plan-id]')].map((row) => row.dataset.planId)
${SHOWN_LOG_ROWS}   return [...document.querySelectorAll('#log-tail .log-row')].filter((row) => getComputedStyle(row).display !== 'none').length
${AT_BOTTOM}        const t = document.getElementById('log-tail'); return t.scrollHeight - t.clientHeight - t.scrollTop <= 24


*** Test Cases ***
Plan List Pages Through More Than Twenty Plans Exactly
    ${published}=    Publish Plans With Statuses    main    list    25
    ${pages}=    Listed Plan Pages    main    20
    Length Should Be    ${pages}    2
    Open Dashboard    ${MAIN}    \#/    ${READER}
    Shown Plans Should Be    ${pages}[0]
    Element Should Be Disabled    id:prev-page
    Element Should Be Enabled    id:next-page
    Element Should Contain    id:page-info    page 1
    Click Button    id:next-page
    Shown Plans Should Be    ${pages}[1]
    Element Should Be Disabled    id:next-page
    Element Should Contain    id:page-info    page 2
    ${first}=    Plan Ids Of    ${pages}[0]
    ${second}=    Plan Ids Of    ${pages}[1]
    ${both}=    Combine Lists    ${first}    ${second}
    Lists Should Be Equal    ${both}    ${published}    no plan twice, none missing
    Click Button    id:prev-page
    Shown Plans Should Be    ${pages}[0]
    Element Should Be Disabled    id:prev-page

Status Filter Keeps The Matching Rows Of The Page
    ${pages}=    Listed Plan Pages    main    20
    Open Dashboard    ${MAIN}    \#/    ${READER}
    Shown Plans Should Be    ${pages}[0]
    ${failed}=    Evaluate    [plan["plan_id"] for plan in $pages[0] if plan["status"] == "failed"]
    Should Not Be Empty    ${failed}
    Select From List By Value    id:status-filter    failed
    Wait Until Keyword Succeeds    10 s    0.1 s    Shown Plan Ids Should Be    ${failed}
    Element Should Contain    id:page-info    ${{ len($failed) }} of 20 shown
    Element Should Not Be Visible    id:plan-list-empty
    Page Should Contain    The status filter applies to the plans of the page shown.
    Select From List By Value    id:status-filter    all
    Shown Plans Should Be    ${pages}[0]

A Row Shows Status And Progress Live
    ${pages}=    Listed Plan Pages    main    20
    Should Be Equal    ${pages}[0][0][plan_id]    list-00
    Should Be Equal    ${pages}[0][0][status]    queued
    Open Dashboard    ${MAIN}    \#/    ${READER}
    ${row}=    Set Variable    css:#plan-list tr[data-plan-id="list-00"]
    Wait Until Element Is Visible    ${row}
    Wait Until Element Attribute Is    ${row} .plan-status    data-status    queued
    Wait Until Element Text Is    ${row} .plan-progress    0/4
    Wait Until Connection State Is    connected
    Publish Plan Status    main    list-00    running
    Publish Progress    main    list-00    2    5
    Wait Until Element Attribute Is    ${row} .plan-status    data-status    running
    Wait Until Element Text Is    ${row} .plan-progress    2/5
    Publish Progress    main    list-00    5    5
    Publish Plan Status    main    list-00    succeeded
    Wait Until Element Attribute Is    ${row} .plan-status    data-status    succeeded
    Element Text Should Be    ${row} .plan-status    succeeded
    Wait Until Element Text Is    ${row} .plan-progress    5/5

Log Tail Keeps The Last 1000 Lines And Counts The Dropped Ones
    ${seqs}=    Publish Log Lines    main    log-bound    1050
    Open Dashboard    ${MAIN}    \#/plans/log-bound    ${READER}
    Wait Until Element Attribute Is    id:log-dropped    data-count    50
    Element Should Contain    id:log-dropped    50 older lines dropped
    ${count}=    Get Element Count    ${LOG_ROWS}
    Should Be Equal As Integers    ${count}    1000
    Element Attribute Value Should Be    css:#log-tail .log-row:first-child    data-seq    ${seqs}[50]
    Element Attribute Value Should Be    css:#log-tail .log-row:last-child    data-seq    ${seqs}[-1]

Log Level Filter Shows The Chosen Level And Above
    Publish Log Lines    main    log-levels    40
    Open Dashboard    ${MAIN}    \#/plans/log-levels    ${READER}
    Wait Until Keyword Succeeds    10 s    0.1 s    Shown Log Rows Should Be    40
    Select From List By Value    id:log-level-filter    warning
    Shown Log Rows Should Be    20
    Element Should Not Be Visible    css:#log-tail .log-row[data-level="info"]
    Select From List By Value    id:log-level-filter    error
    Shown Log Rows Should Be    10
    Select From List By Value    id:log-level-filter    debug
    Shown Log Rows Should Be    40

Log Tail Stops Following When Scrolled Up And Resumes On Jump To Latest
    Publish Log Lines    main    log-scroll    120
    Open Dashboard    ${MAIN}    \#/plans/log-scroll    ${READER}
    Wait Until Keyword Succeeds    10 s    0.1 s    Shown Log Rows Should Be    120
    Wait Until Keyword Succeeds    5 s    0.1 s    Log Tail Should Be At The Bottom
    Element Attribute Value Should Be    id:log-tail    data-autoscroll    true
    Element Should Not Be Visible    id:log-follow
    Execute Javascript    document.getElementById('log-tail').scrollTop = 0
    Wait Until Element Attribute Is    id:log-tail    data-autoscroll    false
    Wait Until Element Is Visible    id:log-follow
    ${seq}=    Publish Log    main    log-scroll    while the reader looks up
    Wait Until Page Contains Element    css:#log-tail .log-row[data-seq="${seq}"]
    ${top}=    Execute Javascript    return document.getElementById('log-tail').scrollTop
    Should Be Equal As Integers    ${top}    0    the tail must not move while paused
    Click Button    id:log-follow
    Wait Until Element Attribute Is    id:log-tail    data-autoscroll    true
    Element Should Not Be Visible    id:log-follow
    Log Tail Should Be At The Bottom
    ${seq}=    Publish Log    main    log-scroll    following again
    Wait Until Page Contains Element    css:#log-tail .log-row[data-seq="${seq}"]
    Wait Until Keyword Succeeds    5 s    0.1 s    Log Tail Should Be At The Bottom

Step Table Shows Running And Finished Durations And The Final State
    Publish Plan Status    main    durations    running
    Publish Step    main    durations    0    compile    running
    Publish Step    main    durations    1    ship    pending
    Open Dashboard    ${MAIN}    \#/plans/durations    ${READER}
    ${compile}=    Set Variable    css:#step-table tr[data-step-id="s0"]
    Wait Until Element Attribute Is    ${compile} .step-status    data-status    running
    Element Text Should Be    css:#step-table tr[data-step-id="s1"] .step-duration    —
    # The running step's elapsed time ticks once a second: wait until it passed 1 s.
    Wait Until Keyword Succeeds    5 s    0.2 s    Step Duration Should Be At Least    s0    1.0
    Publish Step    main    durations    0    compile    succeeded
    Wait Until Element Attribute Is    ${compile} .step-status    data-status    succeeded
    Step Duration Should Be At Least    s0    1.0
    ${finished}=    Get Text    ${compile} .step-duration
    Wait Until Keyword Succeeds    3 s    0.5 s    Element Text Should Be    ${compile} .step-duration    ${finished}
    Element Text Should Be    css:#step-table tr[data-step-id="s0"] .step-index    0
    Element Text Should Be    css:#step-table tr[data-step-id="s0"] .step-name    compile
    Page Should Not Contain Element    id:plan-final
    Publish Plan Status    main    durations    cancelled    stopped by <ops>
    Wait Until Element Attribute Is    id:plan-final    data-status    cancelled
    Element Text Should Be    id:plan-final    cancelled
    Element Should Contain    css:.final-line .final-reason    stopped by <ops>

Control Characters Show As Control Pictures, Markup As Text
    ${seq}=    Publish Log    main    control-chars    \x1b[31mred\x1b[0m bell\x07 nul\x00 <b>bold</b> <script>window.pwned=1</script>
    Open Dashboard    ${MAIN}    \#/plans/control-chars    ${READER}
    ${message}=    Set Variable    \#log-tail .log-row[data-seq="${seq}"] .log-message
    Wait Until Page Contains Element    css:${message}
    ${text}=    Execute Javascript    return document.querySelector(arguments[0]).textContent
    ...    ARGUMENTS    ${message}
    Should Be Equal    ${text}    \u241b[31mred\u241b[0m bell\u2407 nul\u2400 <b>bold</b> <script>window.pwned=1</script>
    Page Should Not Contain Element    css:#log-tail b
    Page Should Not Contain Element    css:#log-tail script
    ${pwned}=    Execute Javascript    return window.pwned === undefined
    Should Be True    ${pwned}

Invalid Plan Id In The Address Shows A Clear Message
    Open Dashboard    ${MAIN}    \#/plans/not%20a%20plan%3Cx%3E    ${READER}
    Wait Until Element Is Visible    id:invalid-plan-id
    Element Should Contain    id:invalid-plan-id    Not a plan id
    Element Should Contain    id:invalid-plan-id    not a plan<x>
    Page Should Not Contain Element    id:plan-page
    Click Link    id:back-to-list
    Wait Until Element Is Visible    id:plan-list

Routes Accept Exactly The Plan Ids Of Protocol Section 1 And The Builder Refuses Handlers
    Open Dashboard    ${MAIN}    \#/no-such-page    ${READER}
    ${script}=    Catenate    SEPARATOR=\n
    ...    const main = await import('./dashboard/js/main.js');
    ...    const dom = await import('./dashboard/js/dom.js');
    ...    const route = (hash) => main.parseRoute(hash);
    ...    let refused = 0;
    ...    for (const attrs of [{onclick: 'x()'}, {style: 'color: red'}, {href: 'javascript:x()'}]) {
    ...    try { dom.el('a', {attrs}); } catch { refused += 1; }
    ...    }
    ...    return {
    ...    list: [route(''), route('#'), route('#/')].map((r) => r.name),
    ...    symbols: route('#/plans/a.b_c:d@e-f9').planId,
    ...    encoded: route('#/plans/a%3Ab').planId,
    ...    longest: route('#/plans/' + 'p'.repeat(256)).name,
    ...    tooLong: route('#/plans/' + 'p'.repeat(257)).name,
    ...    space: route('#/plans/a%20b').name,
    ...    slash: route('#/plans/a%2Fb').name,
    ...    badEscape: route('#/plans/%E0%A4%A').name,
    ...    empty: route('#/plans/').name,
    ...    unknown: route('#/elsewhere').name,
    ...    pictures: dom.visibleText('\\x1b[1m\\x07\\x00\\x7f\\ttab\\nline\\r'),
    ...    refused,
    ...    };
    ${checks}=    Run Page Script    ${script}
    Should Be Equal    ${checks}[list]    ${{ ["list", "list", "list"] }}
    Should Be Equal    ${checks}[symbols]    a.b_c:d@e-f9
    Should Be Equal    ${checks}[encoded]    a:b
    Should Be Equal    ${checks}[longest]    plan
    Should Be Equal    ${checks}[tooLong]    invalid-plan
    Should Be Equal    ${checks}[space]    invalid-plan
    Should Be Equal    ${checks}[slash]    invalid-plan
    Should Be Equal    ${checks}[badEscape]    invalid-plan
    Should Be Equal    ${checks}[empty]    invalid-plan
    Should Be Equal    ${checks}[unknown]    unknown
    Should Be Equal    ${checks}[pictures]    \u241b[1m\u2407\u2400\u2421\ttab\nline\u240d
    Should Be Equal As Integers    ${checks}[refused]    3

Plan Page Marks A Resync In The Log And Shows The Snapshot
    Publish Plan Status    open    resync-plan    running
    Publish Progress    open    resync-plan    1    4
    Publish Log Lines    open    resync-plan    30
    Open Dashboard    ${OPEN}    \#/plans/resync-plan    ${None}
    # The server keeps 20 events: the first ones are gone, so the page starts from a snapshot.
    Wait Until Page Contains Element    css:#log-tail .log-resync
    Element Text Should Be    css:#log-tail .log-resync
    ...    history before this point is not available: history_expired
    Element Attribute Value Should Be    id:plan-status    data-status    running
    Element Text Should Be    id:progress-text    1/4 steps · 25%
    Element Attribute Value Should Be    id:progress-bar    value    25
    Page Should Not Contain Element    ${LOG_ROWS}
    ${seq}=    Publish Log    open    resync-plan    after the resync
    Wait Until Page Contains Element    css:#log-tail .log-resync + .log-row[data-seq="${seq}"]
    ${stats}=    Execute Javascript    return window.planstreamDashboard.stats()
    Should Be Equal As Integers    ${stats}[resyncs]    1

Incompatible Server Shows A Banner And The Page Does Not Retry
    Go To    ${SCRIPTED}incompatible/\#/plans/any-plan
    Wait Until Page Contains Element    css:#banner[data-kind="incompatible"]
    Element Should Contain    id:banner    This server speaks an incompatible protocol version
    Wait Until Connection State Is    failed
    Page Should Contain Element    css:#plan-page[data-plan-id="any-plan"]
    Scripted Connections Should Be    incompatible    1

A Refused Subscription Shows A Banner For That Plan Only
    Go To    ${SCRIPTED}refusing/\#/plans/secret-plan
    Wait Until Page Contains Element    css:#banner[data-kind="forbidden"]
    Element Should Contain    id:banner    This token may not read this plan.
    Element Should Contain    id:banner    secret-plan
    Page Should Contain Element    css:#plan-page[data-plan-id="secret-plan"]
    Wait Until Connection State Is    connected
    Go To    ${SCRIPTED}refusing/\#/plans/ghost-plan
    Wait Until Page Contains Element    css:#banner[data-kind="not_found"]
    Element Should Contain    id:banner    The server knows no plan with this id.
    Go To    ${SCRIPTED}refusing/\#/plans/fine-plan
    Wait Until Page Contains Element    css:#plan-page[data-plan-id="fine-plan"]
    Page Should Not Contain Element    id:banner
    Element Text Should Be    id:plan-status    no status yet
    Go To    ${SCRIPTED}refusing/\#/
    Wait Until Element Is Visible    id:plan-list-empty
    Element Should Contain    id:plan-list-empty    No plan has published an event yet.
    Scripted Connections Should Be    refusing    1

Connection State Counts The Reconnect Delay Down
    Go To    ${SCRIPTED}restarting/\#/plans/any-plan
    # Each connection is closed with 1012 after its hello: the backoff grows until a
    # delay of 2 s or more is drawn, which the badge must count down second by second.
    ${seconds}=    Wait Until Keyword Succeeds    30 s    0.05 s    Reconnect Countdown Of At Least    2
    ${next}=    Evaluate    ${seconds} - 1
    Wait Until Keyword Succeeds    2.5 s    0.05 s
    ...    Element Text Should Be    id:connection-state    reconnecting in ${next} s
    Element Attribute Value Should Be    id:connection-state    data-state    reconnecting
    Go To    about:blank

An Unannounced Stream Reset Shows The Marker And The Server's Snapshot
    [Documentation]    The resumed subscription's head is behind what the page showed:
    ...    the client reports a stream_reset with no state, and the page reads the
    ...    plan's snapshot over HTTP instead of blanking its steps.
    Go To    ${SCRIPTED}forgetful/\#/plans/reset-plan
    Wait Until Element Is Visible    css:#log-tail .log-resync
    Element Should Contain    css:#log-tail .log-resync    stream_reset
    Wait Until Element Is Visible    css:#step-table tbody tr[data-step-id="s2"]
    Element Attribute Value Should Be
    ...    css:#step-table tbody tr[data-step-id="s1"] .step-status    data-status    succeeded
    Element Attribute Value Should Be    id:plan-status    data-status    running
    Element Should Contain    css:#log-tail    before the reset
    Scripted Connections Should Be    forgetful    2
    Go To    about:blank

Anonymous Server Needs No Token
    Publish Plan Status    open    open-plan    running
    Open Dashboard    ${OPEN}    \#/    ${None}
    Wait Until Element Is Visible    css:#plan-list tr[data-plan-id="open-plan"]
    Wait Until Connection State Is    connected
    Page Should Not Contain Element    id:token-form
    Page Should Not Contain Element    id:banner
    Page Should Not Contain Element    id:token-forget
    ${state}=    Execute Javascript    return window.planstreamDashboard.state()
    Should Be Equal    ${state}    connected

Token Form Keeps The Token In The Tab And Forget Clears It
    # Chromium itself logs the 401s of the refused tries (the page logs nothing).
    Expect Browser Network Error    /v1/\\S* - Failed to load resource: the server responded with a status of 401
    Expect Browser Network Error    WebSocket connection to '\\S+/v1/stream' failed: .*(401|Authentication)
    Open Dashboard    ${MAIN}    \#/    ${None}
    Wait Until Element Is Visible    id:token-form
    Element Attribute Value Should Be    id:banner    data-kind    unauthorized
    Element Should Contain    id:banner    needs a token
    Element Attribute Value Should Be    id:token-input    type    password
    Input Password    id:token-input    not-the-token
    Click Button    id:token-submit
    Wait Until Element Contains    id:banner    was refused
    Stored Token Should Be    not-the-token
    Input Password    id:token-input    ${READER}
    Click Button    id:token-submit
    Wait Until Element Is Visible    css:#plan-list tr[data-plan-id="list-01"]
    Page Should Not Contain Element    id:token-form
    Page Should Not Contain Element    id:banner
    Stored Token Should Be    ${READER}
    Page Should Not Contain    ${READER}
    Click Button    id:token-forget
    Stored Token Should Be    ${None}
    Wait Until Element Is Visible    id:token-form
    Element Should Contain    id:banner    needs a token
    Page Should Not Contain Element    id:token-forget


*** Keywords ***
Start Servers And Browser
    ${main}=    Start Dashboard Server    main    ${READER}    ${PUBLISHER}
    ${open}=    Start Dashboard Server    open    retention=${20}
    Set Suite Variable    ${MAIN}    ${main}
    Set Suite Variable    ${OPEN}    ${open}
    ${scripted}=    Start Scripted Dashboard Server
    Set Suite Variable    ${SCRIPTED}    ${scripted}
    Start Dashboard Browser

Stop Servers And Browser
    Close Dashboard Browser
    Stop Dashboard Servers
    Stop Scripted Dashboard Server

Open Dashboard
    [Documentation]    Open the page at ``hash`` with ``token`` kept in the tab (none: no token).
    ...    The token is put in sessionStorage from the page's own "no such page" route
    ...    (which reads nothing from the server) before the page loads afresh, so it
    ...    never starts without it.
    [Arguments]    ${url}    ${hash}    ${token}
    Go To    ${url}\#/no-such-page
    Wait Until Page Contains Element    id:unknown-route
    IF    $token is None
        Execute Javascript    sessionStorage.removeItem('planstream.token')
    ELSE
        Execute Javascript    sessionStorage.setItem('planstream.token', arguments[0])    ARGUMENTS    ${token}
    END
    Go To    about:blank
    Go To    ${url}${hash}
    Wait Until Page Contains Element    id:app

Plan Ids Of
    [Arguments]    ${plans}
    ${ids}=    Evaluate    [plan["plan_id"] for plan in $plans]
    RETURN    ${ids}

Shown Plans Should Be
    [Documentation]    Wait until the list shows exactly ``plans`` (the server's page), in order.
    [Arguments]    ${plans}
    ${expected}=    Plan Ids Of    ${plans}
    Wait Until Keyword Succeeds    10 s    0.1 s    Shown Plan Ids Should Be    ${expected}

Shown Plan Ids Should Be
    [Arguments]    ${expected}
    ${shown}=    Execute Javascript    ${SHOWN_IDS}
    Lists Should Be Equal    ${shown}    ${expected}

Shown Log Rows Should Be
    [Arguments]    ${expected}
    ${shown}=    Execute Javascript    ${SHOWN_LOG_ROWS}
    Should Be Equal As Integers    ${shown}    ${expected}

Log Tail Should Be At The Bottom
    ${bottom}=    Execute Javascript    ${AT_BOTTOM}
    Should Be True    ${bottom}    the log tail is not scrolled to its newest line

Step Duration Should Be At Least
    [Arguments]    ${step_id}    ${seconds}
    ${text}=    Get Text    css:#step-table tr[data-step-id="${step_id}"] .step-duration
    Should Match Regexp    ${text}    ^\\d+\\.\\d s$
    Should Be True    float($text.split()[0]) >= ${seconds}    ${text}

Reconnect Countdown Of At Least
    [Documentation]    The seconds ``#connection-state`` counts down, failing while below ``least``.
    [Arguments]    ${least}
    ${text}=    Execute Javascript    return document.getElementById('connection-state').textContent
    ${match}=    Should Match Regexp    ${text}    ^reconnecting in (\\d+) s$
    Should Be True    ${match}[1] >= ${least}
    RETURN    ${match}[1]

Stored Token Should Be
    [Arguments]    ${expected}
    ${stored}=    Execute Javascript    return sessionStorage.getItem('planstream.token')
    Should Be Equal    ${stored}    ${expected}

Wait Until Connection State Is
    [Arguments]    ${state}
    Wait Until Element Attribute Is    id:connection-state    data-state    ${state}

Wait Until Element Attribute Is
    [Arguments]    ${locator}    ${attribute}    ${expected}
    Wait Until Keyword Succeeds    10 s    0.1 s
    ...    Element Attribute Value Should Be    ${locator}    ${attribute}    ${expected}

Wait Until Element Text Is
    [Arguments]    ${locator}    ${expected}
    Wait Until Keyword Succeeds    10 s    0.1 s    Element Text Should Be    ${locator}    ${expected}
