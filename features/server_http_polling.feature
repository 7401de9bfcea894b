Feature: Polling a plan's events over HTTP (protocol §6, the polling fallback)
  GET /v1/plans/{plan_id}/events?after=&limit=&wait= answers
  {"plan_id","events","head","resync"} with an X-Poll-Interval header. The
  events are the very objects the WebSocket sends; a long-poll waits for
  something newer than `after`; history that cannot be replayed is a resync.

  Scenario: A poll without "after" starts at seq 1 and reports the plan's head
    Given a reference server
    And 5 events were published to plan "poll-a"
    When plan "poll-a" is polled over HTTP
    Then the poll answered 200 with the events of plan "poll-a" from seq 1 to 5
    And the poll head is the head of plan "poll-a"
    And the poll resync is null
    And the poll answer advertises an X-Poll-Interval of 1 seconds

  Scenario: X-Poll-Interval follows the poll_interval setting
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 2.5   |
    And 1 events were published to plan "poll-interval"
    When plan "poll-interval" is polled over HTTP
    Then the poll answer advertises an X-Poll-Interval of 2.5 seconds

  Scenario: A poll after an event id returns exactly the events after it
    Given a reference server
    And 6 events were published to plan "poll-after"
    When plan "poll-after" is polled over HTTP with "after=#2"
    Then the poll answered 200 with the events of plan "poll-after" from seq 3 to 6
    And the poll head is the head of plan "poll-after"
    And the poll resync is null
    When plan "poll-after" is polled over HTTP with "after=#6"
    Then the poll answered 200 with no events
    And the poll head is the head of plan "poll-after"
    And the poll resync is null

  Scenario: An empty "after" is the same as none
    Given a reference server
    And 2 events were published to plan "poll-empty-after"
    When plan "poll-empty-after" is polled over HTTP with "after="
    Then the poll answered 200 with the events of plan "poll-empty-after" from seq 1 to 2

  Scenario: "limit" caps a page, and paging with "after" walks the whole stream
    Given a reference server
    And 8 events were published to plan "poll-pages"
    When plan "poll-pages" is polled over HTTP with "limit=3"
    Then the poll answered 200 with the events of plan "poll-pages" from seq 1 to 3
    And the poll head is the head of plan "poll-pages"
    When plan "poll-pages" is polled over HTTP with "after=#3&limit=3"
    Then the poll answered 200 with the events of plan "poll-pages" from seq 4 to 6
    When plan "poll-pages" is polled over HTTP with "after=#6&limit=3"
    Then the poll answered 200 with the events of plan "poll-pages" from seq 7 to 8

  Scenario: Without "limit" a poll returns 500 events; "limit" may go up to 1000
    Given a reference server
    And 1001 events were published to plan "poll-big"
    When plan "poll-big" is polled over HTTP
    Then the poll answered 200 with the events of plan "poll-big" from seq 1 to 500
    And the poll head is the head of plan "poll-big"
    When plan "poll-big" is polled over HTTP with "limit=1000"
    Then the poll answered 200 with the events of plan "poll-big" from seq 1 to 1000
    When plan "poll-big" is polled over HTTP with "after=#1000&limit=1000"
    Then the poll answered 200 with the events of plan "poll-big" from seq 1001 to 1001

  Scenario: A bad "limit" or "wait" is refused with a JSON bad_request naming it
    Given a reference server
    And 1 events were published to plan "poll-bad"
    Then each of these polls of plan "poll-bad" over HTTP is refused with 400 bad_request naming:
      | query      | name  |
      | limit=0    | limit |
      | limit=1001 | limit |
      | limit=x    | limit |
      | limit=-1   | limit |
      | limit=     | limit |
      | wait=-1    | wait  |
      | wait=soon  | wait  |
      | wait=nan   | wait  |
      | wait=inf   | wait  |
      | wait=30.5  | wait  |
    And plan "poll-bad" has head seq 1 over HTTP

  Scenario: A plan nobody published to polls as empty with a null head
    Given a reference server
    When plan "poll-nobody" is polled over HTTP
    Then the poll answered 200 with no events
    And the poll head is null
    And the poll resync is null

  Scenario: Polled events are the very objects a WebSocket subscriber receives
    Given a reference server
    When the publisher POSTs to plan "poll-same":
      """
      [
        {"kind": "plan.status", "data": {"status": "running", "reason": null}},
        {"kind": "step.status", "data": {"step_id": "fetch", "index": 0, "name": "Fetch", "status": "running"}},
        {"kind": "log", "data": {"level": "warning", "message": "slow mirror ☃", "step_id": "fetch", "stream": "stderr"}},
        {"kind": "plan.progress", "data": {"completed_steps": 0, "total_steps": 2, "percent": 12.5, "message": "fetching"}}
      ]
      """
    And 2 events are published to plan "poll-same"
    And plan "poll-same" is polled over HTTP
    Then the poll answered 200 with the events of plan "poll-same" from seq 1 to 6
    And every polled event equals what a WebSocket subscriber of plan "poll-same" receives

  Scenario: A long-poll returns as soon as a publisher adds an event
    Given a reference server
    And 3 events were published to plan "long-a"
    When plan "long-a" is long-polled over HTTP with "after=#3&wait=5" while a publisher POSTs 1 log events to plan "long-a" after 0.3 seconds
    Then the poll took between 0.25 and 2 seconds
    And the poll answered 200 with the events of plan "long-a" from seq 4 to 4
    And the poll head is the head of plan "long-a"

  Scenario: A long-poll of a plan with no events yet wakes on its first events
    Given a reference server
    When plan "long-new" is long-polled over HTTP with "wait=5" while a publisher POSTs 2 log events to plan "long-new" after 0.3 seconds
    Then the poll took between 0.25 and 2 seconds
    And the poll answered 200 with the events of plan "long-new" from seq 1 to 2

  Scenario: One publish wakes every long-poll waiting on that plan
    Given a reference server
    And 2 events were published to plan "long-many"
    When 4 HTTP long-polls of plan "long-many" with "after=#2&wait=5" run while a publisher POSTs 3 log events to plan "long-many" after 0.3 seconds
    Then each of the 4 long-polls answered within 2 seconds with the events of plan "long-many" from seq 3 to 5

  Scenario: A long-poll with nothing newer returns empty once its wait is over
    Given a reference server
    And 3 events were published to plan "long-idle"
    When plan "long-idle" is polled over HTTP with "after=#3&wait=0.5"
    Then the poll took between 0.45 and 3 seconds
    And the poll answered 200 with no events
    And the poll head is the head of plan "long-idle"
    And the poll resync is null

  Scenario: Events of another plan do not wake a long-poll
    Given a reference server
    And 1 events were published to plan "long-quiet"
    When plan "long-quiet" is long-polled over HTTP with "after=#1&wait=0.6" while a publisher POSTs 1 log events to plan "long-other" after 0.1 seconds
    Then the poll took between 0.55 and 3 seconds
    And the poll answered 200 with no events

  Scenario: A long-poll with events already there answers at once, and wait is capped by max_poll_wait
    Given a reference server with settings
      | setting       | value |
      | max_poll_wait | 2     |
    And 2 events were published to plan "long-cap"
    When plan "long-cap" is polled over HTTP with "wait=2"
    Then the poll took between 0 and 1 seconds
    And the poll answered 200 with the events of plan "long-cap" from seq 1 to 2
    When plan "long-cap" is polled over HTTP with "after=#2&wait=2.5"
    Then the HTTP error is 400 "bad_request" mentioning "wait"

  Scenario: A pending long-poll answers at once when the server stops
    Given a reference server
    And 1 events were published to plan "long-stop"
    When plan "long-stop" is long-polled over HTTP with "after=#1&wait=20" while the server stops after 0.3 seconds
    Then the poll took between 0.25 and 3 seconds
    And the poll answered 200 with no events
    And stopping the server during the poll took less than 3 seconds

  Scenario: A long-poll arriving while the server shuts down does not wait
    Given a reference server
    And 1 events were published to plan "long-late"
    When the HTTP server begins shutting down
    And plan "long-late" is polled over HTTP with "after=#1&wait=10"
    Then the poll took between 0 and 1 seconds
    And the poll answered 200 with no events
    And the poll head is the head of plan "long-late"

  Scenario: A poll from the start after history expired answers a history_expired resync
    Given a reference server with settings
      | setting   | value |
      | retention | 3     |
    When the publisher POSTs to plan "resync-old":
      """
      [
        {"kind": "plan.status", "data": {"status": "running"}},
        {"kind": "step.status", "data": {"step_id": "a", "index": 0, "name": "A", "status": "succeeded"}},
        {"kind": "log", "data": {"level": "info", "message": "done", "stream": "stdout"}},
        {"kind": "plan.progress", "data": {"completed_steps": 1, "total_steps": 1, "percent": 100}},
        {"kind": "log", "data": {"level": "info", "message": "bye", "stream": "system"}},
        {"kind": "plan.status", "data": {"status": "succeeded"}}
      ]
      """
    And plan "resync-old" is polled over HTTP
    Then the poll resync reason is "history_expired" with the snapshot of plan "resync-old"
    And the poll resync snapshot has status "succeeded" and head seq 6
    And the poll head is the head of plan "resync-old"
    When plan "resync-old" is polled over HTTP with "after=#1"
    Then the poll resync reason is "history_expired" with the snapshot of plan "resync-old"
    When plan "resync-old" is polled over HTTP with "after=#4"
    Then the poll answered 200 with the events of plan "resync-old" from seq 5 to 6

  Scenario Outline: An event id the server cannot resume after answers a "<reason>" resync
    Given a reference server with settings
      | setting   | value |
      | retention | 4     |
    And 6 events were published to plan "resync-ids"
    When plan "resync-ids" is polled over HTTP with "after=<after>"
    Then the poll resync reason is "<reason>" with the snapshot of plan "resync-ids"
    And the poll head is the head of plan "resync-ids"

    Examples:
      | after              | reason           |
      | not-an-id-of-ours  | unknown_event_id |
      | {stream}.99        | unknown_event_id |
      | {stream}.0         | unknown_event_id |
      | {stream}.x         | unknown_event_id |
      | {stream}.²         | unknown_event_id |
      | {stream}.1         | history_expired  |
      | 000000000000.1.3   | stream_reset     |

  Scenario: An unknown event id on a plan without events resyncs to an empty snapshot
    Given a reference server
    When plan "resync-nothing" is polled over HTTP with "after=whatever"
    Then the poll resync reason is "unknown_event_id" with the snapshot of plan "resync-nothing"
    And the poll head is null

  Scenario: After a resync, polling from the snapshot head continues with new events
    Given a reference server with settings
      | setting   | value |
      | retention | 3     |
    And 5 events were published to plan "resync-go-on"
    When plan "resync-go-on" is polled over HTTP
    Then the poll resync reason is "history_expired" with the snapshot of plan "resync-go-on"
    When 2 events are published to plan "resync-go-on"
    And plan "resync-go-on" is polled over HTTP with "after={resync_head}"
    Then the poll answered 200 with the events of plan "resync-go-on" from seq 6 to 7

  Scenario: A long-poll whose next events expire while it waits answers a resync, never a gap
    Given a reference server with settings
      | setting   | value |
      | retention | 3     |
    And 2 events were published to plan "resync-wait"
    When plan "resync-wait" is long-polled over HTTP with "after=#2&wait=5" while a publisher POSTs 5 log events to plan "resync-wait" after 0.2 seconds
    Then the poll took between 0.15 and 2 seconds
    And the poll resync reason is "history_expired" with the snapshot of plan "resync-wait"
    And the poll resync snapshot has status "null" and head seq 7
