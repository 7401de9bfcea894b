Feature: Publishing over HTTP, snapshots and the plan list (protocol §5, §6)
  POST /v1/plans/{plan_id}/events takes {"kind","data"} or a list of them and
  answers 201 {"events":[{"event_id","seq"}...]} in request order. A list is
  atomic: one bad item refuses the request and appends nothing. Errors are
  JSON {"error","message"} with a one-line message saying what to fix.

  Scenario: A realistic plan published through POST is served as its snapshot
    Given a reference server
    When the publisher POSTs to plan "build-42":
      """
      [
        {"kind": "plan.status", "data": {"status": "queued", "reason": null}},
        {"kind": "plan.status", "data": {"status": "running", "reason": null}},
        {"kind": "step.status", "data": {"step_id": "test", "index": 1, "name": "Run tests", "status": "pending", "error": null}},
        {"kind": "step.status", "data": {"step_id": "build", "index": 0, "name": "Build wheel", "status": "running", "error": null}},
        {"kind": "log", "data": {"level": "info", "message": "building", "step_id": "build", "stream": "stdout"}},
        {"kind": "step.status", "data": {"step_id": "build", "index": 0, "name": "Build wheel", "status": "succeeded", "error": null}},
        {"kind": "plan.progress", "data": {"completed_steps": 1, "total_steps": 2, "percent": 50, "message": "built"}},
        {"kind": "step.status", "data": {"step_id": "test", "index": 1, "name": "Run tests", "status": "failed", "error": "2 tests failed"}},
        {"kind": "plan.progress", "data": {"completed_steps": 2, "total_steps": 2, "percent": 100.0, "message": null}},
        {"kind": "log", "data": {"level": "error", "message": "plan failed", "step_id": null, "stream": "system"}},
        {"kind": "plan.status", "data": {"status": "failed", "reason": "step test failed"}}
      ]
      """
    Then the publisher got 201 with the ids of plan "build-42" for seqs 1 to 11
    When the HTTP snapshot of plan "build-42" is fetched
    Then the HTTP snapshot is a PlanSnapshot of plan "build-42" at its head, updated at its ts
    And the HTTP snapshot has status "failed" and progress {"completed_steps": 2, "total_steps": 2, "percent": 100.0, "message": null}
    And the HTTP snapshot steps are, in order:
      | step_id | index | name        | status    | error          |
      | build   | 0     | Build wheel | succeeded | null           |
      | test    | 1     | Run tests   | failed    | 2 tests failed |

  Scenario: The snapshot of a plan nobody published to is a JSON 404
    Given a reference server
    And 1 events were published to plan "exists"
    When the HTTP client sends GET "/v1/plans/missing-plan"
    Then the HTTP error is 404 "not_found" mentioning "missing-plan"

  Scenario: The plan list holds the plans with at least one event, in order of first publication
    Given a reference server
    When the HTTP plan list is fetched
    Then the HTTP plan list is empty
    When the publisher POSTs a "plan.status" event with data {"status": "running"} to plan "alpha"
    And 3 events are published to plan "beta"
    And plan "gamma" is polled over HTTP
    And the publisher POSTs a "plan.status" event with data {"status": "succeeded"} to plan "alpha"
    And the HTTP plan list is fetched
    Then the HTTP plan list holds, in order:
      | plan_id | status    | head seq |
      | alpha   | succeeded | 2        |
      | beta    | null      | 3        |

  Scenario: One event POSTed alone answers 201 with its id and seq
    Given a reference server
    When the publisher POSTs a "log" event with data {"level": "debug", "message": "hi", "stream": "stdout"} to plan "single"
    Then the publisher got 201 with the ids of plan "single" for seqs 1 to 1
    When plan "single" is polled over HTTP
    Then the poll answered 200 with the events of plan "single" from seq 1 to 1

  Scenario: A list answers the ids in request order with consecutive seqs, and a poll sees them
    Given a reference server
    And 2 events were published to plan "listed"
    When the publisher POSTs to plan "listed":
      """
      [
        {"kind": "step.status", "data": {"step_id": "s", "index": 0, "name": "S", "status": "running"}},
        {"kind": "log", "data": {"level": "info", "message": "x", "stream": "stdout"}, "ignored": true},
        {"kind": "plan.status", "data": {"status": "paused", "reason": "operator", "extra": 1}}
      ]
      """
    Then the publisher got 201 with the ids of plan "listed" for seqs 3 to 5
    And plan "listed" stored the kinds "step.status, log, plan.status" from seq 3, as the publisher sent them
    When plan "listed" is polled over HTTP with "after=#2"
    Then the poll answered 200 with the events of plan "listed" from seq 3 to 5

  Scenario: A list with one invalid item is refused and nothing is appended
    Given a reference server
    And 2 events were published to plan "atomic"
    When the publisher POSTs to plan "atomic":
      """
      [
        {"kind": "log", "data": {"level": "info", "message": "ok", "stream": "stdout"}},
        {"kind": "plan.status", "data": {"status": "running"}},
        {"kind": "plan.progress", "data": {"completed_steps": 1, "total_steps": 2, "percent": 101}},
        {"kind": "log", "data": {"level": "info", "message": "ok too", "stream": "stdout"}}
      ]
      """
    Then the HTTP error is 400 "bad_request" mentioning "item 2: invalid data for 'plan.progress': percent"
    And plan "atomic" has head seq 2 over HTTP
    When plan "atomic" is polled over HTTP
    Then the poll answered 200 with the events of plan "atomic" from seq 1 to 2

  Scenario: A list with a malformed item is refused and names the item
    Given a reference server
    When the publisher POSTs the raw body `[{"kind": "log", "data": {"level": "info", "message": "m", "stream": "stdout"}}, {"data": {}}]` to plan "atomic-shape"
    Then the HTTP error is 400 "bad_request" mentioning "item 1: kind: Field required"
    And plan "atomic-shape" has no events over HTTP

  Scenario: Invalid data of a known kind is refused with a one-line message naming the field
    Given a reference server
    Then each of these publisher POSTs of one event to plan "invalid" is refused with 400 bad_request:
      | kind          | data                                                             | mention                                          |
      | plan.status   | {"status": "exploded"}                                           | invalid data for 'plan.status': status           |
      | plan.status   | {}                                                               | invalid data for 'plan.status': status           |
      | plan.status   | {"status": "running", "reason": 7}                               | invalid data for 'plan.status': reason           |
      | plan.progress | {"completed_steps": 1, "total_steps": 2, "percent": 150}         | invalid data for 'plan.progress': percent        |
      | plan.progress | {"completed_steps": "1", "total_steps": 2, "percent": 50}        | invalid data for 'plan.progress': completed_steps |
      | plan.progress | {"completed_steps": 1, "total_steps": -2, "percent": 50}         | invalid data for 'plan.progress': total_steps    |
      | step.status   | {"index": 0, "name": "x", "status": "running"}                   | invalid data for 'step.status': step_id          |
      | step.status   | {"step_id": "s", "index": "0", "name": "x", "status": "running"} | invalid data for 'step.status': index            |
      | step.status   | {"step_id": "s", "index": 0, "name": "x", "status": "done"}      | invalid data for 'step.status': status           |
      | log           | {"level": "loud", "message": "m", "stream": "stdout"}            | invalid data for 'log': level                    |
      | log           | {"level": "info", "message": "m", "stream": "stdin"}             | invalid data for 'log': stream                   |
      | log           | {"level": "info", "message": 5, "stream": "stdout"}              | invalid data for 'log': message                  |
    And plan "invalid" has no events over HTTP

  Scenario: A whole number is accepted for a float field (protocol §7)
    Given a reference server
    When the publisher POSTs a "plan.progress" event with data {"completed_steps": 2, "total_steps": 2, "percent": 100} to plan "whole"
    Then the publisher got 201 with the ids of plan "whole" for seqs 1 to 1
    When the HTTP snapshot of plan "whole" is fetched
    Then the HTTP snapshot has status "null" and progress {"completed_steps": 2, "total_steps": 2, "percent": 100.0, "message": null}

  Scenario: An unknown kind is refused by default
    Given a reference server
    When the publisher POSTs a "deploy.started" event with data {"target": "prod"} to plan "kinds"
    Then the HTTP error is 400 "bad_request" mentioning "unknown kind 'deploy.started'"
    And plan "kinds" has no events over HTTP

  Scenario: An unknown kind is accepted when the server allows unknown kinds; known kinds still validate
    Given a reference server with settings
      | setting             | value |
      | allow_unknown_kinds | true  |
    When the publisher POSTs a "deploy.started" event with data {"target": "prod", "attempt": 2} to plan "kinds-open"
    Then the publisher got 201 with the ids of plan "kinds-open" for seqs 1 to 1
    When the publisher POSTs a "log" event with data {"level": "shout", "message": "m", "stream": "stdout"} to plan "kinds-open"
    Then the HTTP error is 400 "bad_request" mentioning "invalid data for 'log': level"
    When plan "kinds-open" is polled over HTTP
    Then the poll answered 200 with the events of plan "kinds-open" from seq 1 to 1
    And the polled event 1 is an unknown-kind event "deploy.started" with data {"target": "prod", "attempt": 2}
    And every polled event equals what a WebSocket subscriber of plan "kinds-open" receives

  Scenario: The embedded publisher validates like POST does
    Given a reference server with settings
      | setting             | value |
      | allow_unknown_kinds | true  |
    When the embedded publisher publishes a "custom" event with data [1, 2] to plan "embedded"
    Then the embedded publisher refused it with a PublishError mentioning "data must be a JSON object"
    When the embedded publisher publishes a "step.status" event with data {"step_id": ""} to plan "embedded"
    Then the embedded publisher refused it with a PublishError mentioning "invalid data for 'step.status': step_id"
    When the embedded publisher publishes a "log" event with data {"level": "info", "message": "m", "stream": "stdout"} to plan "a/b"
    Then the embedded publisher refused it with a PublishError mentioning "plan_id may only hold"
    And plan "embedded" has no events over HTTP

  Scenario: A malformed publish body is refused with 400 saying what is wrong
    Given a reference server
    Then each of these raw publisher bodies for plan "bodies" is refused with 400 bad_request:
      | case               | body                         | mention                   |
      | not JSON           | kind=log&data=x              | not valid JSON            |
      | truncated JSON     | {"kind": "log", "data": {    | not valid JSON            |
      | empty list         | []                           | no events to publish      |
      | a JSON string      | "log"                        | Input should be an object |
      | a JSON number      | 42                           | Input should be an object |
      | no kind            | {"data": {}}                 | kind: Field required      |
      | no data            | {"kind": "log"}              | data: Field required      |
      | data not an object | {"kind": "log", "data": [1]} | data: Input should be     |
      | empty kind         | {"kind": "", "data": {}}     | kind: String should have  |
      | kind not a string  | {"kind": 5, "data": {}}      | kind: Input should be     |
      | list of non-items  | [1]                          | item 0: Input should be   |
    And plan "bodies" has no events over HTTP

  Scenario: An empty publish body is refused
    Given a reference server
    When the publisher POSTs an empty body to plan "bodies"
    Then the HTTP error is 400 "bad_request" mentioning "not valid JSON"

  Scenario: At most 1000 events per request: 1001 are refused, 1000 are accepted
    Given a reference server
    When the publisher POSTs a list of 1001 log events to plan "many"
    Then the HTTP error is 400 "bad_request" mentioning "at most 1000 events"
    And plan "many" has no events over HTTP
    When the publisher POSTs a list of 1000 log events to plan "many"
    Then the publisher got 201 with the ids of plan "many" for seqs 1 to 1000

  Scenario: An oversize body is refused with 413, whether it declares its length or streams it
    Given a reference server
    When the publisher POSTs a body of 8388609 bytes to plan "huge"
    Then the HTTP error is 413 "too_large" mentioning "body larger than 8388608 bytes"
    When the publisher POSTs a body of 9437184 bytes to plan "huge" streamed without a length
    Then the HTTP error is 413 "too_large" mentioning "body larger than 8388608 bytes"
    And plan "huge" has no events over HTTP

  Scenario: Event data larger than half of max_frame_bytes is refused
    Given a reference server with settings
      | setting         | value |
      | max_frame_bytes | 4096  |
    When the publisher POSTs a log event with a message of 3000 characters to plan "frames"
    Then the HTTP error is 400 "bad_request" mentioning "event data larger than 2048 bytes"
    And plan "frames" has no events over HTTP
    When the publisher POSTs a log event with a message of 1500 characters to plan "frames"
    Then the publisher got 201 with the ids of plan "frames" for seqs 1 to 1

  Scenario: A blank plan id is refused by the plan id rule (protocol §1)
    Given a reference server
    When the publisher POSTs a "plan.status" event with data {"status": "running"} to plan "%20"
    Then the HTTP error is 400 "bad_request" mentioning "plan_id may only hold ASCII letters, digits and . _ : @ -"
    When the HTTP plan list is fetched
    Then the HTTP plan list is empty
