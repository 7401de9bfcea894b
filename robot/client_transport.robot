*** Settings ***
Documentation       The client WebSocket transport against a scripted mock server.
...
...                 Each test starts a real ``websockets`` server on 127.0.0.1 that
...                 selects ``planstream.v1`` and plays a script (its first frame,
...                 then frames or a close), runs ``open_websocket`` against it and
...                 checks the verdict: its kind (retry, refresh_token, fatal) and
...                 error class (protocol §2 and §4).
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/``
Library             libraries/MockPlanstreamServer.py
Test Teardown       Stop Mock Server


*** Variables ***
${TOKEN}        transport-SECRET-robot-5eed


*** Test Cases ***
Hello Of Another Schema Major Is Fatal And Closed With 4006
    Start Mock Server    hello 2.0
    ${kind}=    Open Transport Should Fail
    Should Be Equal    ${kind}    fatal
    Verdict Should Be    fatal    IncompatibleProtocolError
    ${message}=    Verdict Message
    Should Contain    ${message}    schema 2.0
    Should Contain    ${message}    schema 1.0
    Mock Server Should Have Received Close Code    4006

A First Frame That Is Not Hello Is Fatal
    Start Mock Server    send {"type": "heartbeat", "ts": "2025-03-01T12:00:15Z", "heads": {}}
    Open Transport Should Fail
    Verdict Should Be    fatal    IncompatibleProtocolError
    ${message}=    Verdict Message
    Should Contain    ${message}    'heartbeat'
    Should Contain    ${message}    expected hello
    Mock Server Should Have Received Close Code    4006

A Server Selecting No Subprotocol Is Fatal And Closed With 4006
    Select No Subprotocol
    Start Mock Server    hello 1.0
    Open Transport Should Fail
    Verdict Should Be    fatal    IncompatibleProtocolError
    ${message}=    Verdict Message
    Should Contain    ${message}    no common subprotocol
    Mock Server Should Have Received Close Code    4006

An Undecodable Hello Is Fatal
    Start Mock Server    send {"type": "hello", "protocol": "one"}
    Open Transport Should Fail
    Verdict Should Be    fatal    IncompatibleProtocolError
    ${message}=    Verdict Message
    Should Contain    ${message}    undecodable hello
    Mock Server Should Have Received Close Code    4006

Hello Of Another Minor Of Schema 1 Is Accepted
    Start Mock Server    hello 1.9
    ${hello}=    Open Transport Should Succeed
    Should Be Equal    ${hello.schema_version}    1.9
    Should Be Equal    ${hello.session_id}    mock-session-1
    Should Be Equal    ${hello.server}    mock-planstream/0.1
    Mock Server Should Have Received Close Code    1000

The Upgrade Request Carries The Bearer Token And Offers planstream.v1
    Start Mock Server    hello
    Open Transport Should Succeed    token=${TOKEN}
    ${authorization}=    Recorded Authorization
    Should Be Equal    ${authorization}    Bearer ${TOKEN}
    ${offered}=    Recorded Subprotocols
    Should Be Equal    ${offered}    ${{ ["planstream.v1"] }}

Without A Token No Authorization Header Is Sent
    Start Mock Server    hello
    Open Transport Should Succeed
    ${authorization}=    Recorded Authorization
    Should Be Equal    ${authorization}    ${None}

Close 4029 With A Retry After Reason Is A Retry After 7 Seconds
    Start Mock Server    hello    close 4029 {"retry_after": 7}
    ${kind}=    Receive From Transport Until It Fails    token=${TOKEN}
    Should Be Equal    ${kind}    retry
    Verdict Should Be    retry    RateLimitedError    retry_after=7
    ${received}=    Received Messages
    Should Be Empty    ${received}
    ${message}=    Verdict Message
    Should Not Contain    ${message}    ${TOKEN}

Close 4001 Before Hello Asks For A Token Refresh When A Provider Exists
    Start Mock Server    close 4001 token expired
    ${kind}=    Open Transport Should Fail    token=${TOKEN}    has_token_provider=${True}
    Should Be Equal    ${kind}    refresh_token
    Verdict Should Be    refresh_token    AuthenticationError
    ${message}=    Verdict Message
    Should Not Contain    ${message}    ${TOKEN}

Close 4001 Without A Provider Is Fatal
    Start Mock Server    hello    close 4001 token expired
    Receive From Transport Until It Fails    token=${TOKEN}    has_token_provider=${False}
    Verdict Should Be    fatal    AuthenticationError

Messages Reach recv Before The Server Goes Away
    Start Mock Server    hello    send {"type": "pong", "id": 1, "ts": "2025-03-01T12:00:16Z"}
    ...    close 1001 shutting down
    Receive From Transport Until It Fails
    Verdict Should Be    retry    ServerUnavailableError
    ${received}=    Received Messages
    Should Be Equal    ${received}    ${{ ['{"type": "pong", "id": 1, "ts": "2025-03-01T12:00:16Z"}'] }}

A Frame Larger Than max_frame_bytes Is Fatal
    Start Mock Server    hello    send_large 10000
    Receive From Transport Until It Fails    max_frame_bytes=4096
    Verdict Should Be    fatal    MessageTooBigError
    Mock Server Should Have Received Close Code    1009

A Frame Too Big Is Fatal Even If The Server Then Drops The Connection
    Start Mock Server    hello    send_large 10000    block 0.5    abort
    Receive From Transport Until It Fails    max_frame_bytes=4096
    Verdict Should Be    fatal    MessageTooBigError

A Connection Dropped Without A Close Frame Is A Retry
    Start Mock Server    hello    abort
    Receive From Transport Until It Fails
    Verdict Should Be    retry    ConnectionLostError
    ${message}=    Verdict Message
    Should Contain    ${message}    1006

A Server Silent After The Upgrade Times Out As A Retry
    Start Mock Server    sleep 1
    Open Transport Should Fail    open_timeout=0.3
    Verdict Should Be    retry    ConnectionLostError

HTTP 400 Without A Common Subprotocol Is Fatal And Names Both Sides
    Start Mock Server    hello
    Refuse Upgrades With    400    {"error": "incompatible_protocol", "message": "no common subprotocol", "supported": ["planstream.v2"]}
    ...    X-Planstream-Protocols: planstream.v2
    Open Transport Should Fail
    Verdict Should Be    fatal    IncompatibleProtocolError
    ${message}=    Verdict Message
    Should Contain    ${message}    planstream.v2
    Should Contain    ${message}    planstream.v1

HTTP 503 With Retry-After Is A Retry
    Start Mock Server    hello
    Refuse Upgrades With    503    {"error": "unavailable", "message": "draining"}    Retry-After: 3
    Open Transport Should Fail
    Verdict Should Be    retry    ServerUnavailableError    retry_after=3
