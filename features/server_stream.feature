Feature: Replay and live delivery on the stream endpoint (protocol §1, §3)
  Every subscriber gets each event of its plan exactly once and in seq order:
  the retained history after its resume point, then live events, with no gap
  and no duplicate at the hand-over between the two. Batches are flattened.

  Scenario: Subscribing from the start replays the whole history, then live events follow
    Given a reference server
    And 25 events were published to plan "p"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "p" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head seq 25
    And raw client "a" receives the stream events of plan "p" from seq 1 to 25
    When 10 events are published to plan "p"
    Then raw client "a" receives the stream events of plan "p" from seq 26 to 35

  Scenario: Subscribing to a plan without events gets head null; events flow once published
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "later" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "later" with head null
    When 3 events are published to plan "later"
    Then raw client "a" receives the stream events of plan "later" from seq 1 to 3
    And the stream events raw client "a" received have RFC 3339 UTC timestamps and log data

  Scenario: Resuming after a drop replays exactly the events after the last one delivered
    Given a reference server
    And 60 events were published to plan "p"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "p" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head seq 60
    And raw client "a" receives the stream events of plan "p" from seq 1 to 41
    When raw client "a" drops its stream connection
    And raw client "b" connects to the stream
    And raw client "b" subscribes to plan "p" after event 41 of the stream
    Then raw client "b" next receives stream "subscribed" for plan "p" with head seq 60
    And raw client "b" receives the stream events of plan "p" from seq 42 to 60
    When 5 events are published to plan "p"
    Then raw client "b" receives the stream events of plan "p" from seq 61 to 65

  Scenario: Resuming from the newest event replays nothing and then streams live
    Given a reference server
    And 8 events were published to plan "p"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "p" after event 8 of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head seq 8
    When 2 events are published to plan "p"
    Then raw client "a" receives the stream events of plan "p" from seq 9 to 10

  Scenario: Subscribing again to the same plan replaces the subscription and replays from the new point
    Given a reference server
    And 20 events were published to plan "p"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "p" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head seq 20
    And raw client "a" receives the stream events of plan "p" from seq 1 to 20
    When raw client "a" subscribes to plan "p" after event 5 of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head seq 20
    And raw client "a" receives the stream events of plan "p" from seq 6 to 20
    When 5 events are published to plan "p"
    Then raw client "a" receives the stream events of plan "p" from seq 21 to 25
    And the reference server has 1 stream subscription

  Scenario: Unsubscribing stops a plan's events while other plans keep streaming
    Given a reference server with settings
      | setting     | value |
      | heartbeat_s | 0.2   |
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "gone" from the start of the stream
    And raw client "a" subscribes to plan "kept" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "gone" with head null
    And raw client "a" next receives stream "subscribed" for plan "kept" with head null
    When raw client "a" unsubscribes from stream plan "gone"
    Then raw client "a" next receives stream "unsubscribed" for plan "gone"
    When 5 events are published to plan "gone"
    And 5 events are published to plan "kept"
    Then raw client "a" receives the stream events of plan "kept" from seq 1 to 5
    And raw client "a" receives a stream heartbeat whose heads name only the plans "kept"
    And raw client "a" received no stream event of plan "gone"
    And the reference server has 1 stream subscription

  Scenario: Unsubscribing from a plan that is not subscribed is still acknowledged
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" unsubscribes from stream plan "never"
    Then raw client "a" next receives stream "unsubscribed" for plan "never"

  Scenario: One connection streams several plans, each in its own seq order
    Given a reference server
    And 30 events were published to plan "x"
    And 30 events were published to plan "y"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "x" from the start of the stream
    And raw client "a" subscribes to plan "y" after event 10 of the stream
    And 30 events are published to plan "x"
    And 30 events are published to plan "y"
    Then raw client "a" receives every stream event of plan "x" from seq 1 to 60 and of plan "y" from seq 11 to 60

  Scenario: Many queued events arrive in batches within the frame and batch limits
    Given a reference server with settings
      | setting          | value |
      | max_frame_bytes  | 4096  |
      | batch_max_events | 7     |
    And 120 events of 10 to 1500 bytes with non-ASCII text were published to plan "big"
    And 40 events were published to plan "small"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "big" from the start of the stream
    And raw client "a" subscribes to plan "small" from the start of the stream
    Then raw client "a" receives every stream event of plan "big" from seq 1 to 120 and of plan "small" from seq 1 to 40
    And raw client "a" received stream batch frames, none larger than 4096 bytes and none with more than 7 events

  Scenario: A single queued event is sent as an event frame, not a batch
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "one" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "one" with head null
    When 1 events are published to plan "one"
    Then raw client "a" receives the stream events of plan "one" from seq 1 to 1
    And raw client "a" received no stream batch frame

  Scenario: With an event log that answers like a networked one, subscribing again during the replay switches cleanly to the new replay
    Given a reference server whose event log answers like a networked one, with settings
      | setting          | value |
      | batch_max_events | 3     |
    And 300 events were published to plan "p"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "p" from the start of the stream, then at once again after event 250 of the stream
    Then raw client "a" gets a prefix of plan "p" from seq 1, then stream "subscribed" with head seq 300, then exactly seq 251 to 300
    When raw client "a" subscribes to plan "p" from the start of the stream, then at once unsubscribes from it
    Then raw client "a" gets a prefix of plan "p" from seq 1, then stream "unsubscribed", then no event of plan "p" up to a stream pong
