*** Settings ***
Documentation       Smoke tests of the pure planstream pipeline: the package imports,
...                 every server frame of protocol §3 decodes to its typed model,
...                 bad frames fail with a reason, and a disordered stream with
...                 duplicates comes out of the Sequencer in order, exactly once.
...
...                 Run: ``.venv/bin/robot --outputdir build/robot robot/``
Library             libraries/PlanstreamSmoke.py


*** Variables ***
${PLANS}                ${2}
${EVENTS_PER_PLAN}      ${500}


*** Test Cases ***
Package Imports And Reports Its Version
    ${version}=    Planstream Version
    Should Match Regexp    ${version}    ^\\d+\\.\\d+\\.\\d+

Package Reports The Protocol Constants
    ${protocol}=    Planstream Constant    PROTOCOL_VERSION
    Should Be Equal    ${protocol}    ${1}
    ${schema}=    Planstream Constant    SCHEMA_VERSION
    Should Be Equal    ${schema}    1.0
    ${subprotocol}=    Planstream Constant    SUBPROTOCOL
    Should Be Equal    ${subprotocol}    planstream.v1
    ${kinds}=    Planstream Constant    KNOWN_EVENT_KINDS
    Should Be Equal    ${{ sorted($kinds) }}    ${{ ["log", "plan.progress", "plan.status", "step.status"] }}

Hello Frame Decodes
    ${frame}=    Decode Sample Frame    hello
    Frame Should Be    ${frame}    HelloFrame
    Should Be Equal    ${frame.protocol}    ${1}
    Should Be Equal    ${frame.schema_version}    1.0
    Should Be Equal    ${frame.session_id}    sess-7f3a
    Should Be Equal    ${frame.heartbeat_s}    ${15.0}
    Should Be Equal    ${frame.max_frame_bytes}    ${1048576}

Subscribed Frame Decodes With And Without A Head
    ${frame}=    Decode Sample Frame    subscribed
    Frame Should Be    ${frame}    SubscribedFrame
    Should Be Equal    ${frame.id}    ${1}
    Should Be Equal    ${frame.plan_id}    plan-42
    Should Be Equal    ${frame.head.seq}    ${17}
    Should Be Equal    ${frame.head.event_id}    01HX-plan-42-0017
    ${empty}=    Decode Sample Frame    subscribed_empty
    Frame Should Be    ${empty}    SubscribedFrame
    Should Be Equal    ${empty.id}    req-2
    Should Be Equal    ${empty.head}    ${None}

Resync Frame Decodes With Its Snapshot
    ${frame}=    Decode Sample Frame    resync
    Frame Should Be    ${frame}    ResyncFrame
    Should Be Equal    ${frame.reason}    history_expired
    Should Be Equal    ${frame.snapshot.plan_id}    plan-42
    Should Be Equal    ${frame.snapshot.status}    running
    Should Be Equal    ${frame.snapshot.progress.percent}    ${40.0}
    Length Should Be    ${frame.snapshot.steps}    2
    Should Be Equal    ${frame.snapshot.steps[1].status}    running
    Should Be Equal    ${frame.snapshot.head.seq}    ${120}
    Should Be Equal    ${frame.snapshot.updated_at.isoformat()}    2025-03-01T12:04:10+00:00
    Should Not Be True    ${frame.snapshot.is_terminal}

Plan Status Event Decodes
    ${event}=    Decode Sample Frame    event_plan_status
    Frame Should Be    ${event}    PlanStatusEvent
    Should Be Equal    ${event.kind}    plan.status
    Should Be Equal    ${event.seq}    ${1}
    Should Be Equal    ${event.data.status}    running
    Should Be Equal    ${event.data.reason}    ${None}

Plan Progress Event Decodes
    ${event}=    Decode Sample Frame    event_plan_progress
    Frame Should Be    ${event}    PlanProgressEvent
    Should Be Equal    ${event.data.completed_steps}    ${1}
    Should Be Equal    ${event.data.total_steps}    ${4}
    # protocol §7: a whole number is accepted for a float field
    Should Be Equal    ${event.data.percent}    ${25.0}
    Should Be Equal    ${event.data.message}    1 of 4 steps done

Step Status Event Decodes
    ${event}=    Decode Sample Frame    event_step_status
    Frame Should Be    ${event}    StepStatusEvent
    Should Be Equal    ${event.data.step_id}    s-build
    Should Be Equal    ${event.data.index}    ${1}
    Should Be Equal    ${event.data.status}    failed
    Should Be Equal    ${event.data.error}    exit code 2
    Should Be Equal    ${event.ts.isoformat()}    2025-03-01T12:00:02.250000+00:00

Log Event Decodes And Ignores Unknown Fields
    ${event}=    Decode Sample Frame    event_log
    Frame Should Be    ${event}    LogEvent
    Should Be Equal    ${event.plan_id}    plan-42
    Should Be Equal    ${event.event_id}    01HX-plan-42-0004
    Should Be Equal    ${event.data.level}    warning
    Should Be Equal    ${event.data.stream}    stderr
    Should Be Equal    ${event.data.message}    disk 91% full
    Should Be Equal    ${event.seq}    ${4}

Unknown Event Kind Decodes To UnknownEvent
    ${event}=    Decode Sample Frame    event_unknown_kind
    Frame Should Be    ${event}    UnknownEvent
    Should Be Equal    ${event.kind}    artifact.uploaded
    Should Be Equal    ${event.seq}    ${5}
    Should Be Equal    ${event.data}    ${{ {"name": "report.html", "bytes": 20480} }}

Batch Frame Decodes Every Event To Its Model
    ${batch}=    Decode Sample Frame    batch
    Frame Should Be    ${batch}    BatchFrame
    Length Should Be    ${batch.events}    4
    Frame Should Be    ${batch.events[0]}    LogEvent
    Frame Should Be    ${batch.events[1]}    PlanStatusEvent
    Frame Should Be    ${batch.events[2]}    StepStatusEvent
    Frame Should Be    ${batch.events[3]}    UnknownEvent
    Should Be Equal    ${batch.events[1].plan_id}    plan-7
    Should Be Equal    ${batch.events[1].data.status}    queued
    Should Be Equal    ${batch.events[3].kind}    metrics.sample

Heartbeat Frame Decodes
    ${frame}=    Decode Sample Frame    heartbeat
    Frame Should Be    ${frame}    HeartbeatFrame
    Should Be Equal    ${frame.heads['plan-42'].seq}    ${8}
    Should Be Equal    ${frame.heads['plan-new']}    ${None}
    Should Be Equal    ${frame.ts.isoformat()}    2025-03-01T12:00:15+00:00

Pong Frame Decodes
    ${frame}=    Decode Sample Frame    pong
    Frame Should Be    ${frame}    PongFrame
    Should Be Equal    ${frame.id}    ping-9
    Should Be Equal    ${frame.ts.isoformat()}    2025-03-01T12:00:16.500000+00:00

Error Frame Decodes
    ${frame}=    Decode Sample Frame    error
    Frame Should Be    ${frame}    ErrorFrame
    Should Be Equal    ${frame.id}    ${4}
    Should Be Equal    ${frame.plan_id}    plan-missing
    Should Be Equal    ${frame.code}    not_found
    Should Be Equal    ${frame.message}    no such plan: plan-missing

Unsubscribed Frame Decodes
    ${frame}=    Decode Sample Frame    unsubscribed
    Frame Should Be    ${frame}    UnsubscribedFrame
    Should Be Equal    ${frame.plan_id}    plan-42

Malformed Frame Raises InvalidFrameError
    Run Keyword And Expect Error    InvalidFrameError: invalid frame: not valid JSON*
    ...    Decode Frame    {"type": "pong", "id": 1,
    Run Keyword And Expect Error    InvalidFrameError: invalid frame: unknown type 'telemetry'*
    ...    Decode Frame    {"type": "telemetry", "id": 1}

Malformed Frames Fail With A Reason
    [Template]    Decoding Should Fail With Reason
    not json at all                                                   not valid JSON
    \[1, 2, 3]                                                        not a JSON object
    {"id": 1}                                                         missing discriminator field 'type'
    {"type": "telemetry"}                                             unknown type 'telemetry'
    {"type": "pong", "id": 1}                                         ts: Field required
    {"type": "hello", "protocol": "1", "schema": "1.0"}               protocol: Input should be a valid integer
    {"type": "event", "plan_id": "p", "event_id": "e", "seq": 0, "ts": "2025-03-01T12:00:00Z", "kind": "log", "data": {"level": "info", "message": "m", "stream": "stdout"}}    event.seq: Input should be greater than or equal to 1
    {"type": "event", "plan_id": "p", "event_id": "e", "seq": 1, "ts": "2025-03-01T12:00:00Z", "kind": "log", "data": {"level": "loud", "message": "m", "stream": "stdout"}}    event.data.level: Input should be
    {"type": "batch", "events": [{"type": "event", "plan_id": "p"}]}    batch.events[0]

Shuffled Stream With Duplicates Comes Out In Order Exactly Once
    ${stream}=    Build Shuffled Stream    plans=${PLANS}    events_per_plan=${EVENTS_PER_PLAN}
    ...    window=64    duplicate_ratio=0.05
    Stream Should Be Out Of Order    ${stream}
    ${duplicates}=    Count Duplicates    ${stream}
    Should Be True    ${duplicates} >= 45    the stream should carry ~5% duplicates, got ${duplicates}
    ${deliveries}=    Feed Stream To Sequencer    ${stream}    plans=${PLANS}
    Deliveries Should Be In Order Exactly Once    ${deliveries}
    ...    plans=${PLANS}    events_per_plan=${EVENTS_PER_PLAN}
    Sequencer Should Have Requested No Repairs
    ${stats}=    Sequencer Stats
    Should Be Equal    ${stats.delivered}    ${{ $PLANS * $EVENTS_PER_PLAN }}
    Should Be Equal    ${stats.duplicates_dropped}    ${duplicates}
    Should Be True    ${stats.reordered} > 0


*** Keywords ***
Decoding Should Fail With Reason
    [Arguments]    ${text}    ${expected}
    ${reason}=    Decoding Should Fail    ${text}
    Should Contain    ${reason}    ${expected}
