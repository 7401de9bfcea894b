Feature: Resync when the stream cannot be replayed (protocol §3, §5)
  When the server cannot replay from the client's resume point it answers
  resync with the reason and the plan's snapshot instead of subscribed, then
  streams live events after the snapshot's head.

  Background:
    Given a reference server with settings
      | setting   | value |
      | retention | 10    |
    And plan "job" ran 4 steps on the stream, then logged 20 lines

  Scenario: Subscribing from the start after seq 1 expired gets resync history_expired with the snapshot
    Given raw client "a" connects to the stream
    When raw client "a" subscribes to plan "job" from the start of the stream
    Then raw client "a" next receives a stream resync for plan "job" with reason "history_expired"
    And the stream resync snapshot of raw client "a" has status "running", progress 4 of 4 steps, 4 succeeded steps and the plan's newest event as head
    When 3 events are published to plan "job"
    Then raw client "a" receives the stream events of plan "job" from seq 34 to 36

  Scenario: Resuming from an expired event of this server gets resync history_expired
    Given raw client "a" connects to the stream
    When raw client "a" subscribes to plan "job" after event 2 of the stream
    Then raw client "a" next receives a stream resync for plan "job" with reason "history_expired"
    And the stream resync snapshot of raw client "a" has the plan's newest event as head
    When 2 events are published to plan "job"
    Then raw client "a" receives the stream events of plan "job" from seq 34 to 35

  Scenario: Resuming from a retained event after some expired still replays
    Given raw client "a" connects to the stream
    When raw client "a" subscribes to plan "job" after event 30 of the stream
    Then raw client "a" next receives stream "subscribed" for plan "job" with head seq 33
    And raw client "a" receives the stream events of plan "job" from seq 31 to 33

  Scenario Outline: Resuming from <what> gets resync unknown_event_id
    Given raw client "a" connects to the stream
    When raw client "a" subscribes to plan "<plan>" after <resume point>
    Then raw client "a" next receives a stream resync for plan "<plan>" with reason "unknown_event_id"
    And the stream resync snapshot of raw client "a" has <snapshot>

    Examples:
      | what                                     | plan  | resume point                                    | snapshot                         |
      | a garbage id                             | job   | the event id "not-an-event-id" of the stream    | the plan's newest event as head  |
      | an empty id                              | job   | the event id "" of the stream                   | the plan's newest event as head  |
      | an id of this server beyond the head     | job   | a forged event id "999" of this stream          | the plan's newest event as head  |
      | an id of this server with a bad position | job   | a forged event id "x7" of this stream           | the plan's newest event as head  |
      | an id of this server at position zero    | job   | a forged event id "0" of this stream            | the plan's newest event as head  |
      | an id for a plan without events          | empty | a forged event id "3" of this stream            | no head and no status            |

  Scenario: Subscribing to a plan without events with an unknown id streams its first events after the resync
    Given raw client "a" connects to the stream
    When raw client "a" subscribes to plan "fresh" after the event id "whatever" of the stream
    Then raw client "a" next receives a stream resync for plan "fresh" with reason "unknown_event_id"
    When 2 events are published to plan "fresh"
    Then raw client "a" receives the stream events of plan "fresh" from seq 1 to 2

  Scenario: An event id from another incarnation of the stream gets resync stream_reset
    Given a second reference server, a new incarnation of the stream, where plan "job" has 5 events
    And raw client "a" connects to the second server's stream
    When raw client "a" subscribes to plan "job" after event 31 of the first server's stream
    Then raw client "a" next receives a stream resync for plan "job" with reason "stream_reset"
    And the stream resync snapshot of raw client "a" has head seq 5
    When 2 events are published to plan "job" on the second server
    Then raw client "a" receives the stream events of plan "job" from seq 6 to 7

  Scenario: The stream's memory event log retains the last 10 events of the plan
    Then the stream's event log retains plan "job" from seq 24 to 33
    And the stream's event log retains nothing for plan "nothing"
    And appending no events to the stream's plan "job" appends nothing and keeps its head at seq 33
    And a memory event log with a retention of 0 is refused
