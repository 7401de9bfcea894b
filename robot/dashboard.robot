*** Settings ***
Documentation       The browser dashboard end to end, in Debian's headless Chromium (issue 14).
...
...                 The reference server runs as a subprocess (``python -m planstream.server``,
...                 dashboard on, a reader and a publish token); the tests publish plans to it
...                 over HTTP and watch the page follow them live, through the DOM contract's
...                 ids only. Real TCP proxies cut the connection mid-plan or refuse WebSocket
...                 upgrades; a second server, its event log in Redis, restarts mid-plan.
...                 Every test ends by checking the browser console: an uncaught exception, a
...                 CSP refusal, a 404 or a logged error fails it; only the network refusals a
...                 test provokes on purpose (the page's first try without a token, a refused
...                 token, a blocked upgrade, a cut link, a stopped server) are named and allowed.
...
...                 Without chromium or chromedriver every test is reported as skipped (and the
...                 restart test without redis-server). Leaves ``build/dashboard/``: the servers'
...                 logs, ``plan-page.png`` (the plan page mid-run, 1280x900) and ``cost.json``
...                 (a 1,000-event plan's bytes and JS heap).
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/dashboard.robot``
Library             Collections
Library             SeleniumLibrary    timeout=15s    run_on_failure=Capture Page Screenshot
Library             libraries/DashboardBrowser.py
Library             libraries/DashboardTcpProxy.py
Library             libraries/DashboardScenario.py    reader_token=${READER TOKEN}
...                     publish_token=${PUBLISH TOKEN}
Suite Setup         Start Browser And Server
Suite Teardown      Stop Browser And Server
Test Setup          Open Fresh Dashboard Tab
Test Teardown       Run Keywords    Browser Console Should Have No Errors
...                     AND    Stop Proxies    AND    Stop Test Servers


*** Variables ***
${READER TOKEN}         reader-token-5f1c
${PUBLISH TOKEN}        publish-token-a93e
${SCREENSHOT}           ${CURDIR}/../build/dashboard/plan-page.png


*** Test Cases ***
A Six-Step Plan Advances Live And Ends Succeeded
    [Documentation]    The token typed once; the plan list links to the plan page, whose
    ...    progress bar and step table follow the publisher step by step.
    ${plan}=    Set Variable    live-six-steps
    Publish Six Step Plan    ${plan}    pause=0    until=queued
    Open Dashboard With Token    ${SERVER}    ${READER TOKEN}
    Wait Until Page Contains Element    css:#plan-list tbody tr[data-plan-id="${plan}"]
    Wait Until Page Contains Element
    ...    css:#plan-list tr[data-plan-id="${plan}"] .plan-status[data-status="queued"]
    Page Should Not Contain    ${READER TOKEN}
    Click Element    css:#plan-list tr[data-plan-id="${plan}"] a[href="#/plans/${plan}"]
    Wait Until Page Contains Element    css:#plan-page[data-plan-id="${plan}"]
    Wait Until Page Contains Element    css:#plan-status[data-status="queued"]
    Connection State Should Become    connected
    Publish Six Step Plan    ${plan}    until=step 1 succeeded
    Step Should Become    s1    succeeded
    Wait Until Element Contains    id:progress-text    1/6
    ${first}=    Progress Percent
    Publish Six Step Plan    ${plan}    until=step 3 running
    Step Should Become    s3    running
    Step Should Be    s4    pending
    Wait Until Element Contains    id:progress-text    2/6
    Element Attribute Value Should Be    id:plan-status    data-status    running
    ${middle}=    Progress Percent
    Should Be True    0 < ${first} < ${middle} < 100    progress ${first} then ${middle}
    Page Should Not Contain Element    id:plan-final
    ${duration}=    Get Text    css:#step-table tr[data-step-id="s1"] .step-duration
    Should Match Regexp    ${duration}    \\d    a finished step shows its duration
    Save Page Screenshot    ${SCREENSHOT}    width=1280    height=900
    Publish Six Step Plan    ${plan}    until=succeeded
    Wait Until Page Contains Element    css:#plan-final[data-status="succeeded"]
    Element Should Contain    id:plan-final    succeeded
    Element Attribute Value Should Be    id:plan-status    data-status    succeeded
    Wait Until Element Contains    id:progress-text    6/6
    ${last}=    Progress Percent
    Should Be Equal As Numbers    ${last}    100
    Page Should Contain Element    css:#step-table .step-status[data-status="succeeded"]    limit=6
    Log Tail Should Hold Exactly    ${plan}

After A Cut Link The Page Reconnects And Shows Each Line Once
    [Documentation]    A proxy aborts every connection mid-plan and refuses new ones for a
    ...    while; events published meanwhile arrive after the resume, none twice.
    ${plan}=    Set Variable    cut-link
    ${proxy}=    Start Relay Proxy    ${SERVER}
    ${origin}=    Origin Pattern    ${proxy}
    # While the link is cut, Chromium logs each refused reconnect (WebSocket or fetch).
    Expect Browser Network Error    ${origin}/\\S*('? failed: | - Failed to load resource: net::ERR_)
    Publish Six Step Plan    ${plan}    pause=0    until=step 2 succeeded
    Open Dashboard With Token    ${proxy}    ${READER TOKEN}
    Open Plan Page    ${proxy}    ${plan}
    Step Should Become    s2    succeeded
    Connection State Should Become    connected
    ${aborted}=    Cut Proxy Links
    Should Be True    ${aborted} >= 1    the page had no open connection to cut
    Wait Until Keyword Succeeds    15s    0.1s
    ...    Connection State Should Read    reconnecting    ^reconnecting in \\d+ s$
    Publish Six Step Plan    ${plan}    pause=0    until=step 4 succeeded
    Restore Proxy Links
    Connection State Should Become    connected    timeout=40s
    Step Should Become    s4    succeeded
    Publish Six Step Plan    ${plan}    until=succeeded
    Wait Until Page Contains Element    css:#plan-final[data-status="succeeded"]
    Log Tail Should Hold Exactly    ${plan}
    Page Should Not Contain Element    css:#log-tail .log-resync
    ${stats}=    Dashboard Stats
    Client Should Have Delivered Every Event Once    ${plan}    ${stats}
    Should Be True    ${stats}[reconnects] >= 1    ${stats}
    Proxied Request Lines Should Not Contain    ${READER TOKEN}
    Server Logs Should Not Contain Tokens

After A Server Restart The Page Resumes Where It Stopped
    [Documentation]    The server (its event log in Redis) stops mid-plan, closing with 1001,
    ...    and starts again on the same port; the page reconnects and resumes from its
    ...    last event: each log line once, no resync.
    ${plan}=    Set Variable    server-restart
    ${redis}=    Start Redis For Dashboard
    ${server}=    Start Dashboard Server    redis_url=${redis}    name=restarted-server
    ${origin}=    Origin Pattern    ${server}
    # While the server is down, Chromium logs each refused reconnect.
    Expect Browser Network Error    ${origin}/\\S*('? failed: | - Failed to load resource: net::ERR_)
    Publish Six Step Plan    ${plan}    pause=0    until=step 2 succeeded    server=${server}
    Open Dashboard With Token    ${server}    ${READER TOKEN}
    Open Plan Page    ${server}    ${plan}
    Step Should Become    s2    succeeded
    Connection State Should Become    connected
    Stop Dashboard Server    ${server}
    Wait Until Keyword Succeeds    15s    0.1s
    ...    Connection State Should Read    reconnecting    ^reconnecting in \\d+ s$
    Start Dashboard Server Again    ${server}
    Publish Six Step Plan    ${plan}    pause=0    until=step 4 succeeded    server=${server}
    Connection State Should Become    connected    timeout=40s
    Step Should Become    s4    succeeded
    Publish Six Step Plan    ${plan}    until=succeeded    server=${server}
    Wait Until Page Contains Element    css:#plan-final[data-status="succeeded"]
    Log Tail Should Hold Exactly    ${plan}
    Page Should Not Contain Element    css:#log-tail .log-resync
    ${stats}=    Dashboard Stats
    Client Should Have Delivered Every Event Once    ${plan}    ${stats}
    Should Be True    ${stats}[reconnects] >= 1    ${stats}
    Server Logs Should Not Contain Tokens

Hostile Texts Are Shown As Text And Nothing Runs
    [Documentation]    HTML, a script and ANSI escapes in a step name, a step error and a
    ...    log message: the literal characters are in the page, no element is made of them.
    ${plan}=    Set Variable    hostile-texts
    ${texts}=    Publish Hostile Plan    ${plan}
    Open Dashboard With Token    ${SERVER}    ${READER TOKEN}
    Open Plan Page    ${SERVER}    ${plan}
    Wait Until Page Contains Element    css:#plan-final[data-status="failed"]
    Wait Until Page Contains Element    css:#log-tail .log-row[data-level="error"]
    ${messages}=    Log Tail Messages
    Length Should Be    ${messages}    1
    ${name}=    Text Content    css:#step-table tr[data-step-id="s1"] .step-name
    Should Be Equal    ${name}    ${texts}[step_name]
    ${error}=    Text Content    css:#step-table tr[data-step-id="s1"] .step-error
    Should Contain    ${error}    <img src=x onerror="window.__pwned=1">
    Should Match Regexp    ${error}    (\x1b|\u241b)\\[31mred
    ${row}=    Text Content    css:#log-tail .log-row .log-message
    Should Contain    ${row}    <script>window.__pwned=1</script>
    Should Contain    ${row}    <img src=x onerror="window.__pwned=1">
    # ESC is shown as itself or as its control picture, never interpreted.
    Should Match Regexp    ${row}    (\x1b|\u241b)\\[31mred(\x1b|\u241b)\\[0m
    Page Should Not Contain Element
    ...    css:#log-tail img, #log-tail script, #step-table img, #step-table script
    ${pwned}=    Run Page Script    return typeof window.__pwned;
    Should Be Equal    ${pwned}    undefined

A Wrong Token Is Refused With A Clear Message
    [Documentation]    The refusal is shown in the page (not logged as a page error), the
    ...    form is offered again, and the right token then opens the plan list.
    Open Dashboard With Token    ${SERVER}    wrong-token-77d1    expect_list=${False}
    Wait Until Page Contains Element    css:#banner[data-kind="unauthorized"]
    Element Should Contain    id:banner    token
    Wait Until Element Is Visible    id:token-form
    Page Should Not Contain    wrong-token-77d1
    Submit Token    ${READER TOKEN}
    Wait Until Page Contains Element    id:plan-list
    Wait Until Page Does Not Contain Element    css:#banner[data-kind="unauthorized"]

With WebSockets Blocked The Page Polls And Still Updates
    [Documentation]    A proxy answers every upgrade with 403 and relays plain HTTP.
    ${plan}=    Set Variable    polled-plan
    ${proxy}=    Start WebSocket Blocking Proxy    ${SERVER}
    ${origin}=    Origin Pattern    ${proxy}
    Expect Browser Network Error
    ...    ${origin}/v1/stream' failed: Error during WebSocket handshake: Unexpected response code: 403
    Publish Six Step Plan    ${plan}    pause=0    until=step 1 succeeded
    Open Dashboard With Token    ${proxy}    ${READER TOKEN}
    Open Plan Page    ${proxy}    ${plan}
    Connection State Should Become    polling
    Connection State Should Read    polling    polling
    Step Should Become    s1    succeeded
    Publish Six Step Plan    ${plan}    until=step 3 running
    Step Should Become    s3    running
    Publish Six Step Plan    ${plan}    until=succeeded
    Wait Until Page Contains Element    css:#plan-final[data-status="succeeded"]
    Log Tail Should Hold Exactly    ${plan}
    ${stats}=    Proxy Stats
    Should Be True    ${stats.upgrades_blocked} >= 1    the page never tried a WebSocket
    Should Be Equal    ${stats.upgrades_relayed}    ${0}
    ${client}=    Dashboard Stats
    Should Be Equal    ${client}[transport]    polling
    Client Should Have Delivered Every Event Once    ${plan}    ${client}

The Page Cost Of A 1,000-Event Plan Is Measured
    [Documentation]    Bytes received for a fresh load of the plan page (assets, API,
    ...    WebSocket payloads) and the JS heap after a GC; ``build/dashboard/cost.json``.
    ${plan}=    Set Variable    thousand-events
    ${published}=    Publish Large Plan    ${plan}    events=1000
    Open Dashboard With Token    ${SERVER}    ${READER TOKEN}
    Open Plan Page    ${SERVER}    ${plan}
    Wait Until Page Contains Element    css:#plan-final[data-status="succeeded"]    timeout=30s
    Start Page Cost Measurement
    Reload Page
    Wait Until Page Contains Element    css:#plan-final[data-status="succeeded"]    timeout=30s
    Wait Until Keyword Succeeds    30s    0.5s
    ...    Log Tail Should Have Rows    ${published}[log_lines]
    Page Should Contain Element    css:#step-table tbody tr[data-step-id]    limit=${published}[steps]
    ${stats}=    Dashboard Stats
    Should Be Equal As Integers    ${stats}[events]    ${published}[events]
    ${cost}=    Measure Page Cost    ${plan}    ${published}[events]
    # Generous bounds: a few hundred bytes per event and a modest heap.
    Should Be True    100_000 < ${cost}[total_bytes] < 2_000_000    ${cost}
    Should Be True    ${cost}[js_heap_used_bytes] < 64_000_000    ${cost}


*** Keywords ***
Start Browser And Server
    Start Dashboard Browser    width=1280    height=900
    ${server}=    Start Dashboard Server
    Set Suite Variable    ${SERVER}    ${server}

Stop Browser And Server
    Stop Proxies
    Close Dashboard Browser
    Stop Dashboard Servers

Submit Token
    [Arguments]    ${token}
    Wait Until Element Is Visible    id:token-input
    Input Password    id:token-input    ${token}
    Click Element    id:token-submit

Open Dashboard With Token
    [Documentation]    Load the page at ${base}; the server asks for a token; type it.
    [Arguments]    ${base}    ${token}    ${expect_list}=${True}
    # The page first tries without a token (anonymous readers): Chromium logs the
    # server's 401s as network lines; so it does for a refused token.
    ${origin}=    Origin Pattern    ${base}
    Expect Browser Network Error    ${origin}/v1/plans\\S* - Failed to load resource: .* 401
    Expect Browser Network Error    ${origin}/v1/stream' failed: HTTP Authentication failed
    Go To    ${base}
    Submit Token    ${token}
    IF    ${expect_list}
        Wait Until Page Contains Element    id:plan-list
        Wait Until Element Is Not Visible    id:token-form
    END

Open Plan Page
    [Arguments]    ${base}    ${plan}
    Go To    ${base}#/plans/${plan}
    Wait Until Page Contains Element    css:#plan-page[data-plan-id="${plan}"]

Connection State Should Become
    [Arguments]    ${state}    ${timeout}=15s
    Wait Until Page Contains Element    css:#connection-state[data-state="${state}"]    ${timeout}

Step Should Become
    [Arguments]    ${step}    ${status}
    Wait Until Page Contains Element
    ...    css:#step-table tbody tr[data-step-id="${step}"] .step-status[data-status="${status}"]

Step Should Be
    [Arguments]    ${step}    ${status}
    Element Attribute Value Should Be
    ...    css:#step-table tbody tr[data-step-id="${step}"] .step-status    data-status    ${status}

Log Tail Should Hold Exactly
    [Documentation]    The log tail's messages are the plan's published ones: same order,
    ...    each once.
    [Arguments]    ${plan}
    ${published}=    Published Log Messages    ${plan}
    Wait Until Keyword Succeeds    15s    0.25s    Log Tail Should Have Rows    ${{ len($published) }}
    ${shown}=    Log Tail Messages
    Lists Should Be Equal    ${shown}    ${published}

Client Should Have Delivered Every Event Once
    [Documentation]    The page's protocol client counted each published event once:
    ...    no duplicate, no resync (a resume from the last event, not a replay).
    [Arguments]    ${plan}    ${stats}
    ${published}=    Published Event Count    ${plan}
    Should Be Equal As Integers    ${stats}[events]    ${published}    ${stats}
    Should Be Equal As Integers    ${stats}[duplicates]    0    ${stats}
    Should Be Equal As Integers    ${stats}[resyncs]    0    ${stats}

Log Tail Should Have Rows
    [Arguments]    ${count}
    ${shown}=    Log Tail Messages
    Length Should Be    ${shown}    ${count}
