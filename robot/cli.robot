*** Settings ***
Documentation       The ``planstream`` command line run through Robot's Process library:
...                 the demo (plain and with chaos) and ``watch`` against
...                 ``planstream serve``, with the exit statuses scripts rely on.
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/cli.robot``
Library             Process
Library             libraries/CliSupport.py
Suite Setup         Start Planstream Serve
Suite Teardown      Stop Planstream Serve


*** Variables ***
${SERVE}        serve
${TOKEN}        robot-reader
${PUBLISHER}    robot-writer


*** Test Cases ***
Demo Ends With A Summary That Lost Nothing
    ${result}=    Run Planstream    demo    --seconds    1
    Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}
    ${summary}=    Demo Summary    ${result.stdout}
    Should Be Equal    ${summary}[status]    succeeded
    Should Be Equal As Integers    ${summary}[lost]    0
    Should Be Equal As Integers    ${summary}[duplicated]    0
    Should Be True    ${summary}[received] >= 40
    Should Contain    ${result.stdout}    [demo-release #${summary}[received]] plan succeeded

Chaos Demo Reconnects And Still Loses Nothing
    ${result}=    Run Planstream    demo    --seconds    1.2    --chaos
    Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}
    ${summary}=    Demo Summary    ${result.stdout}
    Should Be True    ${summary}[reconnects] >= 1
    Should Be Equal As Integers    ${summary}[lost]    0
    Should Be Equal As Integers    ${summary}[duplicated]    0
    Should Contain    ${result.stdout}    connection: reconnecting…
    Should Match Regexp    ${result.stdout}    (?m)^demo-release: resumed from seq \\d+, 0 lost$

Watch Prints The Published Plan As JSON And Exits 0
    Publish Plan    robot-ok    2    succeeded
    ${result}=    Run Planstream    watch    robot-ok    --json    --token    ${TOKEN}    --url    ${URL}
    Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}
    ${events}=    Json Lines    ${result.stdout}
    Length Should Be    ${events}    8
    FOR    ${index}    ${event}    IN ENUMERATE    @{events}    start=1
        Should Be Equal As Integers    ${event}[seq]    ${index}
        Should Be Equal    ${event}[plan_id]    robot-ok
        Should Be Equal    ${event}[type]    event
    END
    Should Be Equal    ${events}[-1][kind]    plan.status
    Should Be Equal    ${events}[-1][data][status]    succeeded

Watch Exits 1 When The Plan Failed
    Publish Plan    robot-failed    1    failed
    ${result}=    Run Planstream    watch    robot-failed    --token    ${TOKEN}    --url    ${URL}
    Should Be Equal As Integers    ${result.rc}    1    ${result.stderr}
    Should Contain    ${result.stdout}    [robot-failed #5] plan failed
    Should Be Empty    ${result.stderr}

Watch Exits 2 With One Line When The Token Is Refused
    ${result}=    Run Planstream    watch    robot-ok    --token    wrong    --url    ${URL}
    Should Be Equal As Integers    ${result.rc}    2
    ${lines}=    Split To Lines Of    ${result.stderr}
    Length Should Be    ${lines}    1
    Should Start With    ${lines}[0]    planstream: error:
    Should Contain    ${lines}[0]    HTTP 401

Watch Exits 2 With One Line When Nothing Listens
    ${port}=    Free Port
    ${result}=    Run Planstream    watch    robot-ok    --url    ws://127.0.0.1:${port}/v1/stream
    ...    --connect-timeout    0.5
    Should Be Equal As Integers    ${result.rc}    2
    ${lines}=    Split To Lines Of    ${result.stderr}
    Length Should Be    ${lines}    1
    Should Start With    ${lines}[0]    planstream: error: cannot reach ws://127.0.0.1:${port}/v1/stream
    Should Not Contain    ${result.stderr}    Traceback


*** Keywords ***
Run Planstream
    [Arguments]    @{arguments}
    ${result}=    Run Process    ${PYTHON}    -m    planstream.cli    @{arguments}
    ...    cwd=${ROOT}    env:PYTHONPATH=${PYTHONPATH}    env:FORCE_COLOR=${EMPTY}
    ...    timeout=60s    on_timeout=kill
    RETURN    ${result}

Publish Plan
    [Arguments]    ${plan_id}    ${steps}    ${final}
    ${lines}=    Plan Events As Json Lines    ${steps}    ${final}
    ${result}=    Run Process    ${PYTHON}    -m    planstream.cli    publish    ${plan_id}    --stdin
    ...    --token    ${PUBLISHER}    --url    ${URL}    stdin=${lines}
    ...    cwd=${ROOT}    env:PYTHONPATH=${PYTHONPATH}    timeout=60s    on_timeout=kill
    Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}

Split To Lines Of
    [Arguments]    ${text}
    ${lines}=    Evaluate    $text.splitlines()
    RETURN    ${lines}

Start Planstream Serve
    ${python}=    Python Executable
    ${pythonpath}=    Cli Python Path
    ${port}=    Free Port
    VAR    ${PYTHON}    ${python}    scope=SUITE
    VAR    ${PYTHONPATH}    ${pythonpath}    scope=SUITE
    VAR    ${ROOT}    ${CURDIR}/..    scope=SUITE
    VAR    ${URL}    ws://127.0.0.1:${port}/v1/stream    scope=SUITE
    Start Process    ${PYTHON}    -m    planstream.cli    serve    --port    ${port}
    ...    --token    ${TOKEN}    --publish-token    ${PUBLISHER}
    ...    cwd=${ROOT}    env:PYTHONPATH=${PYTHONPATH}    alias=${SERVE}
    Wait Until Server Answers    ${port}

Stop Planstream Serve
    # SIGTERM: the server closes its connections with 1001 and exits 0
    ${result}=    Terminate Process    ${SERVE}
    Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}
    Should Contain    ${result.stdout}    planstream server listening on
