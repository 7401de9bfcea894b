Feature: The codec decodes and encodes every frame of the wire protocol
  Protocol §3, §5 and §7: every frame is a JSON object with a "type"; events
  carry typed data per kind; unknown kinds and unknown fields are tolerated;
  anything malformed surfaces as one typed InvalidFrameError, never as a raw
  pydantic or json error.

  # --- events of schema 1.0 --------------------------------------------------

  Scenario Outline: A <kind> event decodes to <model> with typed data and round-trips
    Given a raw wire event of kind "<kind>" with data <data>
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a <model>
    And the decoded wire attribute "kind" has type str and equals "<kind>"
    And the decoded wire attribute "<field1>" has type <type1> and equals <value1>
    And the decoded wire attribute "<field2>" has type <type2> and equals <value2>
    And the decoded wire attribute "seq" has type int and equals 3
    And the decoded wire attribute "ts" has type datetime and equals "2024-05-01T12:00:00Z"
    And encoding the decoded wire model and decoding it again gives an equal model

    Examples:
      | kind          | model             | data                                                                                                | field1               | type1      | value1    | field2            | type2 | value2    |
      | plan.status   | PlanStatusEvent   | {"status": "paused", "reason": "operator"}                                                          | data.status          | PlanStatus | "paused"  | data.reason       | str   | "operator" |
      | plan.progress | PlanProgressEvent | {"completed_steps": 1, "total_steps": 4, "percent": 25.5, "message": null}                          | data.completed_steps | int        | 1         | data.percent      | float | 25.5      |
      | step.status   | StepStatusEvent   | {"step_id": "s-1", "index": 0, "name": "Fetch", "status": "failed", "error": "exit 2"}              | data.status          | StepStatus | "failed"  | data.index        | int   | 0         |
      | log           | LogEvent          | {"level": "warning", "message": "disk low", "step_id": null, "stream": "stderr"}                    | data.level           | LogLevel   | "warning" | data.stream       | LogStream | "stderr" |

  Scenario: An event of an unknown kind is delivered as UnknownEvent keeping its raw data
    Given the raw wire frame:
      """
      {"type": "event", "plan_id": "plan-1", "event_id": "ev-9", "seq": 9,
       "ts": "2024-05-01T12:00:00Z", "kind": "plan.annotation",
       "data": {"note": "hello", "nested": {"list": [1, 2.5, null, "x"]}}}
      """
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a UnknownEvent
    And the decoded wire attribute "kind" has type str and equals "plan.annotation"
    And the decoded wire attribute "data" has type dict and equals {"note": "hello", "nested": {"list": [1, 2.5, null, "x"]}}
    And encoding the decoded wire model and decoding it again gives an equal model

  Scenario: Unknown fields are ignored at the top level and inside the data of an event
    Given the raw wire frame:
      """
      {"type": "event", "plan_id": "plan-1", "event_id": "ev-1", "seq": 1,
       "ts": "2024-05-01T12:00:00Z", "kind": "plan.status", "future_field": [1, 2],
       "data": {"status": "running", "reason": null, "colour": "red"}}
      """
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a PlanStatusEvent
    And the decoded wire attribute "data.status" has type PlanStatus and equals "running"
    And the encoded decoded wire model does not mention "future_field"
    And the encoded decoded wire model does not mention "colour"

  Scenario: A float field accepts a whole number (percent 100)
    Given a raw wire event of kind "plan.progress" with data {"completed_steps": 4, "total_steps": 4, "percent": 100}
    When the raw wire frame is decoded as a server frame
    Then the decoded wire attribute "data.percent" has type float and equals 100.0
    And the decoded wire attribute "data.message" is null

  Scenario: Optional event fields may be left out entirely
    Given a raw wire event of kind "step.status" with data {"step_id": "s", "index": 2, "name": "Deploy", "status": "skipped"}
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a StepStatusEvent
    And the decoded wire attribute "data.error" is null
    And the decoded wire attribute "data.status" has type StepStatus and equals "skipped"

  # --- every server frame -----------------------------------------------------

  Scenario Outline: A server "<type>" frame decodes to <model> and round-trips
    Given the raw wire JSON <frame>
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a <model>
    And the decoded wire attribute "type" has type str and equals "<type>"
    And encoding the decoded wire model and decoding it again gives an equal model

    Examples:
      | type         | model             | frame                                                                                                                                                    |
      | hello        | HelloFrame        | {"type": "hello", "protocol": 1, "schema": "1.0", "server": "ref/0.1", "session_id": "s-1", "heartbeat_s": 15.0, "max_frame_bytes": 1048576}         |
      | subscribed   | SubscribedFrame   | {"type": "subscribed", "id": 7, "plan_id": "plan-1", "head": {"seq": 4, "event_id": "ev-4"}}                                                          |
      | subscribed   | SubscribedFrame   | {"type": "subscribed", "id": "req-1", "plan_id": "plan-1", "head": null}                                                                               |
      | resync       | ResyncFrame       | {"type": "resync", "id": 3, "plan_id": "p", "reason": "stream_reset", "snapshot": {"plan_id": "p", "status": "running", "progress": null, "steps": [], "head": {"seq": 2, "event_id": "b"}, "updated_at": "2024-05-01T12:00:00Z"}} |
      | unsubscribed | UnsubscribedFrame | {"type": "unsubscribed", "id": 8, "plan_id": "plan-1"}                                                                                                 |
      | event        | LogEvent          | {"type": "event", "plan_id": "p", "event_id": "e", "seq": 1, "ts": "2024-05-01T12:00:00Z", "kind": "log", "data": {"level": "info", "message": "m", "step_id": "s", "stream": "system"}} |
      | batch        | BatchFrame        | {"type": "batch", "events": []}                                                                                                                         |
      | heartbeat    | HeartbeatFrame    | {"type": "heartbeat", "ts": "2024-05-01T12:00:15Z", "heads": {"plan-1": {"seq": 4, "event_id": "ev-4"}, "plan-2": null}}                               |
      | pong         | PongFrame         | {"type": "pong", "id": 12, "ts": "2024-05-01T12:00:00.250000Z"}                                                                                        |
      | error        | ErrorFrame        | {"type": "error", "id": null, "plan_id": null, "code": "internal", "message": "boom"}                                                                  |

  Scenario: A hello frame keeps the schema version and accepts a whole-number heartbeat
    Given the raw wire JSON {"type": "hello", "protocol": 1, "schema": "1.3", "server": "ref/0.1", "session_id": "s-1", "heartbeat_s": 15, "max_frame_bytes": 65536}
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a HelloFrame
    And the decoded wire attribute "schema_version" has type str and equals "1.3"
    And the decoded wire attribute "heartbeat_s" has type float and equals 15.0
    And the decoded wire attribute "max_frame_bytes" has type int and equals 65536
    And the encoded decoded wire JSON has "schema" equal to "1.3"
    And the encoded decoded wire JSON has no key "schema_version"

  Scenario: A subscribed frame for a plan without events has a null head
    Given the raw wire JSON {"type": "subscribed", "id": 1, "plan_id": "plan-new", "head": null}
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a SubscribedFrame
    And the decoded wire attribute "head" is null
    And the decoded wire attribute "id" has type int and equals 1

  Scenario: A resync frame carries a typed snapshot
    Given the raw wire frame:
      """
      {"type": "resync", "id": "r-1", "plan_id": "plan-1", "reason": "history_expired",
       "snapshot": {"plan_id": "plan-1", "status": "succeeded",
                    "progress": {"completed_steps": 2, "total_steps": 2, "percent": 100, "message": null},
                    "steps": [{"step_id": "a", "index": 0, "name": "A", "status": "succeeded", "error": null}],
                    "head": {"seq": 40, "event_id": "ev-40"}, "updated_at": "2024-05-01T12:30:00Z",
                    "unknown_snapshot_field": true}}
      """
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a ResyncFrame
    And the decoded wire attribute "reason" has type ResyncReason and equals "history_expired"
    And the decoded wire attribute "snapshot" has type PlanSnapshot and equals {"plan_id": "plan-1", "status": "succeeded", "progress": {"completed_steps": 2, "total_steps": 2, "percent": 100.0, "message": null}, "steps": [{"step_id": "a", "index": 0, "name": "A", "status": "succeeded", "error": null}], "head": {"seq": 40, "event_id": "ev-40"}, "updated_at": "2024-05-01T12:30:00Z"}
    And the decoded wire attribute "snapshot.status" has type PlanStatus and equals "succeeded"
    And the decoded wire attribute "snapshot.steps[0].status" has type StepStatus and equals "succeeded"
    And the decoded wire attribute "snapshot.head" has type Head and equals {"seq": 40, "event_id": "ev-40"}
    And encoding the decoded wire model and decoding it again gives an equal model

  Scenario: A batch holds events of several plans and an unknown kind, each typed
    Given the raw wire frame:
      """
      {"type": "batch", "events": [
        {"type": "event", "plan_id": "plan-a", "event_id": "a1", "seq": 1, "ts": "2024-05-01T12:00:00Z",
         "kind": "plan.status", "data": {"status": "queued", "reason": null}},
        {"type": "event", "plan_id": "plan-b", "event_id": "b7", "seq": 7, "ts": "2024-05-01T12:00:01Z",
         "kind": "step.status", "data": {"step_id": "s", "index": 1, "name": "S", "status": "running", "error": null}},
        {"type": "event", "plan_id": "plan-a", "event_id": "a2", "seq": 2, "ts": "2024-05-01T12:00:02Z",
         "kind": "metrics.cpu", "data": {"load": 0.5}},
        {"type": "event", "plan_id": "plan-b", "event_id": "b8", "seq": 8, "ts": "2024-05-01T12:00:03Z",
         "kind": "plan.progress", "data": {"completed_steps": 1, "total_steps": 3, "percent": 33.3, "message": "x"}}
      ]}
      """
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a BatchFrame
    And the decoded batch holds these events in order:
      | model             | plan_id | seq |
      | PlanStatusEvent   | plan-a  | 1   |
      | StepStatusEvent   | plan-b  | 7   |
      | UnknownEvent      | plan-a  | 2   |
      | PlanProgressEvent | plan-b  | 8   |
    And the decoded wire attribute "events[2].data" has type dict and equals {"load": 0.5}
    And the decoded wire attribute "events[1].data.status" has type StepStatus and equals "running"
    And encoding the decoded wire model and decoding it again gives an equal model

  Scenario: A heartbeat gives a head per plan, null while a plan has none
    Given the raw wire JSON {"type": "heartbeat", "ts": "2024-05-01T12:00:15Z", "heads": {"plan-1": {"seq": 4, "event_id": "ev-4"}, "plan-2": null}}
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a HeartbeatFrame
    And the decoded wire attribute "heads.plan-1" has type Head and equals {"seq": 4, "event_id": "ev-4"}
    And the decoded wire attribute "heads.plan-2" is null

  Scenario Outline: An error frame keeps its code as text, known (<code>) or not
    Given the raw wire JSON {"type": "error", "id": "req-5", "plan_id": "plan-1", "code": "<code>", "message": "nope"}
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a ErrorFrame
    And the decoded wire attribute "code" has type str and equals "<code>"
    And the decoded wire attribute "plan_id" has type str and equals "plan-1"
    And the decoded error code is a member of ErrorCode: <known>

    Examples:
      | code                   | known |
      | not_found              | yes   |
      | too_many_subscriptions | yes   |
      | teapot_overheated      | no    |

  Scenario Outline: A server frame given as <form> decodes the same as text
    Given the raw wire JSON {"type": "pong", "id": "p-1", "ts": "2024-05-01T12:00:00+02:00"}
    And the raw wire frame is passed as <form>
    When the raw wire frame is decoded as a server frame
    Then the decoded wire model is a PongFrame
    And the decoded wire attribute "ts" has type datetime and equals "2024-05-01T12:00:00+02:00"
    And encoding the decoded wire model and decoding it again gives an equal model

    Examples:
      | form      |
      | str       |
      | bytes     |
      | bytearray |

  # --- client frames ---------------------------------------------------------

  Scenario Outline: A client "<type>" frame decodes with decode_client_frame and round-trips
    Given the raw wire JSON <frame>
    When the raw wire frame is decoded as a client frame
    Then the decoded wire model is a <model>
    And the decoded wire attribute "id" has type <id_type> and equals <id>
    And encoding the decoded wire model and decoding it again gives an equal model

    Examples:
      | type        | model            | id_type | id      | frame                                                                               |
      | subscribe   | SubscribeFrame   | int     | 1       | {"type": "subscribe", "id": 1, "plan_id": "plan-1", "last_event_id": null}          |
      | subscribe   | SubscribeFrame   | str     | "req-2" | {"type": "subscribe", "id": "req-2", "plan_id": "plan-1", "last_event_id": "ev-9"}  |
      | unsubscribe | UnsubscribeFrame | int     | 3       | {"type": "unsubscribe", "id": 3, "plan_id": "plan-1"}                               |
      | ping        | PingFrame        | str     | "rtt-1" | {"type": "ping", "id": "rtt-1"}                                                     |

  Scenario: Client frames built in Python encode to the wire form of protocol §3
    When a subscribe frame with id 7 for plan "plan-1" after event "ev-9" is encoded
    Then the encoded wire JSON object equals {"type": "subscribe", "id": 7, "plan_id": "plan-1", "last_event_id": "ev-9"}
    When a subscribe frame with id 8 for plan "plan-2" from the start is encoded
    Then the encoded wire JSON object equals {"type": "subscribe", "id": 8, "plan_id": "plan-2", "last_event_id": null}
    When an unsubscribe frame with id 9 for plan "plan-2" is encoded
    Then the encoded wire JSON object equals {"type": "unsubscribe", "id": 9, "plan_id": "plan-2"}
    When a ping frame with id "rtt-4" is encoded
    Then the encoded wire JSON object equals {"type": "ping", "id": "rtt-4"}

  Scenario: A server frame is not a client frame
    Given the raw wire JSON {"type": "pong", "id": 1, "ts": "2024-05-01T12:00:00Z"}
    When the raw wire frame is decoded as a client frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "unknown type 'pong'"

  # --- decode_event on Python data -------------------------------------------

  Scenario: decode_event validates an event parsed from an HTTP answer
    Given a raw wire event of kind "step.status" with data {"step_id": "s-1", "index": 0, "name": "Fetch", "status": "running", "error": null}
    When the raw wire frame is parsed with json and given to decode_event
    Then the decoded wire model is a StepStatusEvent
    And the decoded wire attribute "data.status" has type StepStatus and equals "running"
    And the decoded wire attribute "ts" has type datetime and equals "2024-05-01T12:00:00Z"

  Scenario: decode_event validates an event given as Python objects
    When decode_event is given a log event whose ts is a Python datetime
    Then the decoded wire model is a LogEvent
    And the decoded wire attribute "data.level" has type LogLevel and equals "error"

  Scenario: decode_event refuses Python data that JSON cannot carry
    When decode_event is given a log event whose data holds a Python object
    Then wire decoding failed with InvalidFrameError whose reason mentions "not JSON-serialisable"

  Scenario Outline: decode_event rejects <what> with InvalidFrameError
    When decode_event is given the Python value <value>
    Then wire decoding failed with InvalidFrameError whose reason mentions "<reason>"

    Examples:
      | what                     | value                                                                                                                   | reason                  |
      | a number                 | 5                                                                                                                       | not a JSON object       |
      | a list                   | [1, 2]                                                                                                                  | not a JSON object       |
      | a dict missing fields    | {"kind": "log"}                                                                                                         | plan_id: Field required |
      | a known kind with bad data | {"plan_id": "p", "event_id": "e", "seq": 1, "ts": "2024-05-01T12:00:00Z", "kind": "log", "data": {"level": "loud", "message": "m", "stream": "stdout"}} | data.level              |

  # --- malformed input ----------------------------------------------------------

  Scenario Outline: A frame that is <what> is refused with InvalidFrameError
    Given the raw wire JSON <frame>
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "<reason>"
    And the InvalidFrameError excerpt is the start of the frame, at most 200 characters

    Examples:
      | what                  | frame                 | reason                            |
      | not JSON              | {"type": "hello",     | not valid JSON                    |
      | a JSON array          | [{"type": "pong"}]    | not a JSON object                 |
      | a JSON string         | "hello"               | not a JSON object                 |
      | JSON null             | null                  | not a JSON object                 |
      | an object without type | {"id": 1}            | missing discriminator field       |
      | of an unknown type    | {"type": "telemetry"} | unknown type 'telemetry'          |
      | a hello without fields | {"type": "hello"}    | hello.protocol: Field required    |

  Scenario: A frame of invalid UTF-8 bytes is refused with InvalidFrameError
    Given the raw wire bytes in hex "7b2274797065223a2270ff6e67227d"
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "not valid JSON"
    And the InvalidFrameError excerpt is the start of the frame, at most 200 characters

  Scenario: A frame with many problems names the first three and counts the rest
    Given the raw wire JSON {"type": "hello"}
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "(and 3 more)"
    And the InvalidFrameError reason mentions "hello.schema: Field required"

  Scenario Outline: An event without its "<field>" field is refused
    Given a valid raw wire "log" event without field "<field>"
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "<reason>"

    Examples:
      | field    | reason                                  |
      | seq      | event.seq: Field required               |
      | event_id | event.event_id: Field required          |
      | ts       | event.ts: Field required                |
      | data     | event.data: Field required              |
      | kind     | event: missing discriminator field 'kind' |

  Scenario Outline: An event whose "<field>" is <value> is refused
    Given a valid raw wire "<kind>" event with field "<field>" set to <value>
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "<reason>"
    And the InvalidFrameError reason does not mention "UnknownEvent"

    Examples:
      | kind          | field        | value      | reason                                        |
      | log           | seq          | "1"        | event.seq: Input should be a valid integer    |
      | log           | seq          | 0          | event.seq: Input should be greater than or equal to 1 |
      | log           | seq          | true       | event.seq: Input should be a valid integer    |
      | log           | seq          | 1.5        | event.seq: Input should be a valid integer    |
      | log           | ts           | 1714564800 | event.ts: Input should be a valid datetime    |
      | log           | plan_id      | ""         | event.plan_id                                 |
      | log           | event_id     | 17         | event.event_id: Input should be a valid string |
      | plan.progress | data.percent | 150        | event.data.percent: Input should be less than or equal to 100 |
      | plan.progress | data.percent | -0.5       | event.data.percent                            |
      | plan.progress | data.total_steps | "4"    | event.data.total_steps                        |
      | plan.status   | data.status  | "exploded" | event.data.status: Input should be 'queued'   |
      | plan.status   | data.reason  | 42         | event.data.reason                             |
      | step.status   | data.status  | "running!" | event.data.status                             |
      | step.status   | data.index   | "0"        | event.data.index                              |
      | log           | data.level   | "loud"     | event.data.level                              |
      | log           | data.stream  | "tty"      | event.data.stream                             |
      | log           | data         | "text"     | event.data                                    |

  Scenario: A known kind with invalid data is an error, never an UnknownEvent
    Given a raw wire event of kind "step.status" with data {"step_id": "s-1", "index": 0, "name": "Fetch", "status": "exploded"}
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "event.data.status"
    And the InvalidFrameError reason does not mention "UnknownEvent"
    And the InvalidFrameError reason does not mention "is known"

  Scenario: An invalid known event inside a batch is located by its index
    Given the raw wire frame:
      """
      {"type": "batch", "events": [
        {"type": "event", "plan_id": "p", "event_id": "e1", "seq": 1, "ts": "2024-05-01T12:00:00Z",
         "kind": "log", "data": {"level": "info", "message": "ok", "stream": "stdout"}},
        {"type": "event", "plan_id": "p", "event_id": "e2", "seq": 2, "ts": "2024-05-01T12:00:00Z",
         "kind": "log", "data": {"level": "loud", "message": "bad", "stream": "stdout"}}
      ]}
      """
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "batch.events[1].data.level"

  Scenario Outline: An unknown kind whose data is <what> is refused
    Given a raw wire event of kind "custom.kind" with data <data>
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "<reason>"
    And the InvalidFrameError reason does not mention "tagged-union"

    Examples:
      | what         | data       | reason                                   |
      | a list       | [1, 2]     | event.data: Input should be an object |
      | a string     | "text"     | event.data: Input should be an object |
      | null         | null       | event.data: Input should be an object |
      | a number     | 7          | event.data: Input should be an object |

  Scenario: An event with an empty kind is refused
    Given the raw wire JSON {"type": "event", "plan_id": "p", "event_id": "e", "seq": 1, "ts": "2024-05-01T12:00:00Z", "kind": "", "data": {}}
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "event.kind"

  Scenario: A 10 kB frame is reported with a short excerpt
    Given a raw wire "log" event padded to 10240 characters with field "seq" set to "1"
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "event.seq"
    And the InvalidFrameError excerpt is the start of the frame, at most 200 characters
    And the InvalidFrameError message is shorter than 600 characters

  Scenario: A 10 kB frame of bytes is reported with a short excerpt
    Given a raw wire "log" event padded to 10240 characters with field "seq" set to "1"
    And the raw wire frame is passed as bytes
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "event.seq"
    And the InvalidFrameError excerpt is the start of the frame, at most 200 characters

  # --- size limit --------------------------------------------------------------

  Scenario Outline: A <form> frame of <size> <unit> over a <limit>-byte limit is refused as too large
    Given a raw wire "log" event padded to <size> characters of "<char>"
    And the raw wire frame is passed as <form>
    When the raw wire frame is decoded as a server frame with a limit of <limit> bytes
    Then wire decoding failed with FrameTooLargeError for the frame's UTF-8 size and limit <limit>

    Examples:
      | form      | size | unit               | limit | char |
      | str       | 2000 | ASCII characters   | 1000  | x    |
      | bytes     | 2000 | ASCII characters   | 1000  | x    |
      | bytearray | 2000 | ASCII characters   | 1000  | x    |
      | str       | 1100 | 2-byte characters  | 1000  | é    |
      | str       | 900  | 2-byte characters  | 1000  | é    |
      | str       | 400  | 4-byte characters  | 1000  | 🚀   |

  Scenario Outline: A frame of exactly the limit (<form>) is accepted
    Given a raw wire "log" event padded to 1000 characters of "x"
    And the raw wire frame is passed as <form>
    When the raw wire frame is decoded as a server frame with a limit of 1000 bytes
    Then the decoded wire model is a LogEvent

    Examples:
      | form  |
      | str   |
      | bytes |

  Scenario: The client-frame decoder honours the size limit too
    Given the raw wire JSON {"type": "subscribe", "id": 1, "plan_id": "a-plan-with-a-long-name", "last_event_id": null}
    When the raw wire frame is decoded as a client frame with a limit of 32 bytes
    Then wire decoding failed with FrameTooLargeError for the frame's UTF-8 size and limit 32
