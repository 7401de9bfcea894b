*** Settings ***
Documentation       The dashboard with a scoped token (issue 16, item 6), in Debian's headless
...                 Chromium against a real reference server app whose token verifier
...                 hands out per-plan principals: the plan list shows only the plans the
...                 token may read; a plan outside its scope shows the plan page's
...                 "forbidden" banner while the connection stays up, and a readable plan
...                 opened next streams on the same connection.
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/dashboard_scopes.robot``
Library             SeleniumLibrary    timeout=10 s    run_on_failure=Capture Page Screenshot
Library             libraries/DashboardBrowser.py
Library             libraries/DashboardScoped.py
Suite Setup         Start Server And Browser
Suite Teardown      Stop Server And Browser
Test Setup          Mark Console Start
Test Teardown       Browser Console Should Have No Errors


*** Variables ***
${ROWS}             return [...document.querySelectorAll('#plan-list tbody tr[data-plan-id]')].map((row) => row.dataset.planId)


*** Test Cases ***
The Plan List Shows Only The Plans The Token May Read
    Open Dashboard    \#/    team-a
    Wait Until Keyword Succeeds    10 s    0.1 s    Shown Plan Ids Should Be    team-a:1    team-a:2
    Wait Until Connection State Is    connected
    Page Should Not Contain Element    id:banner

A Plan Outside The Scope Shows Forbidden While The Connection Stays
    # The page's snapshot request is refused too; Chromium logs that 403 itself.
    Expect Browser Network Error    /v1/plans/team-b:1 - Failed to load resource: the server responded with a status of 403
    Open Dashboard    \#/plans/team-b:1    team-a
    Wait Until Page Contains Element    css:#banner[data-kind="forbidden"]
    Element Should Contain    id:banner    This token may not read this plan.
    Element Should Contain    id:banner    team-b:1
    Wait Until Connection State Is    connected
    Go To    ${SERVER}\#/plans/team-a:1
    Wait Until Page Contains Element    css:#plan-page[data-plan-id="team-a:1"]
    Wait Until Keyword Succeeds    10 s    0.1 s    Element Text Should Be    id:plan-status    running
    Page Should Not Contain Element    id:banner
    Wait Until Connection State Is    connected


*** Keywords ***
Start Server And Browser
    ${server}=    Start Scoped Dashboard Server
    Set Suite Variable    ${SERVER}    ${server}
    FOR    ${plan_id}    IN    team-a:1    team-b:1    team-a:2    team-b:2
        Publish Running Plan    ${plan_id}
    END
    Start Dashboard Browser

Stop Server And Browser
    Close Dashboard Browser
    Stop Scoped Dashboard Server

Open Dashboard
    [Documentation]    Open the page at ``hash`` with ``token`` kept in the tab (see dashboard_views.robot).
    [Arguments]    ${hash}    ${token}
    Go To    ${SERVER}\#/no-such-page
    Wait Until Page Contains Element    id:unknown-route
    Execute Javascript    sessionStorage.setItem('planstream.token', arguments[0])    ARGUMENTS    ${token}
    Go To    about:blank
    Go To    ${SERVER}${hash}
    Wait Until Page Contains Element    id:app

Shown Plan Ids Should Be
    [Arguments]    @{expected}
    ${shown}=    Execute Javascript    ${ROWS}
    Should Be Equal    ${shown}    ${expected}

Wait Until Connection State Is
    [Arguments]    ${state}
    Wait Until Keyword Succeeds    10 s    0.1 s
    ...    Element Attribute Value Should Be    id:connection-state    data-state    ${state}
