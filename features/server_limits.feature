Feature: Heartbeats, pings, bad frames and the stream's limits (protocol §3, §4)

  Scenario: Heartbeats arrive every heartbeat_s with the heads of every subscribed plan
    Given a reference server with settings
      | setting     | value |
      | heartbeat_s | 0.2   |
    And 4 events were published to plan "old"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "quiet" from the start of the stream
    And raw client "a" subscribes to plan "busy" from the start of the stream
    And raw client "a" subscribes to plan "old" after event 4 of the stream
    Then raw client "a" receives 5 stream heartbeats within 3 seconds, at least 0.1 s apart
    And the last stream heartbeat of raw client "a" has a UTC timestamp and heads {"quiet": null, "busy": null, "old": null}
    When 3 events are published to plan "busy"
    Then raw client "a" receives the stream events of plan "busy" from seq 1 to 3
    And raw client "a" receives a stream heartbeat whose head of plan "busy" is its seq 3 and whose heads of plans "quiet" and "old" are null

  Scenario: A raw client with no subscriptions still gets heartbeats, with empty heads
    Given a reference server with settings
      | setting     | value |
      | heartbeat_s | 0.2   |
    And raw client "a" connects to the stream
    Then raw client "a" receives 3 stream heartbeats within 3 seconds, at least 0.1 s apart
    And the last stream heartbeat of raw client "a" has a UTC timestamp and heads {}

  Scenario Outline: A stream ping with <kind> id is answered by a pong with the same id
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" sends the stream frame <frame>
    Then raw client "a" next receives a stream pong with id <id> and a UTC timestamp

    Examples:
      | kind             | frame                                     | id       |
      | a string         | {"type": "ping", "id": "p-1"}             | "p-1"    |
      | an integer       | {"type": "ping", "id": 42}                | 42       |
      | a zero           | {"type": "ping", "id": 0}                 | 0        |
      | an extra field   | {"type": "ping", "id": "x", "extra": [1]} | "x"      |

  Scenario Outline: A bad stream frame (<problem>) gets error bad_request and the connection stays usable
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" sends the stream frame <frame>
    Then raw client "a" next receives a stream error "bad_request" with id <id> and plan null
    And raw client "a" still gets a pong for a stream ping

    Examples:
      | problem                   | frame                                                    | id   |
      | not JSON                  | this is not json                                         | null |
      | truncated JSON            | {"type": "subscribe", "id": "t1"                         | null |
      | a JSON array              | [1, 2, 3]                                                | null |
      | a JSON string             | "ping"                                                   | null |
      | no type                   | {"id": "n1", "plan_id": "p"}                             | "n1" |
      | an unknown type           | {"type": "bogus", "id": "u1"}                            | "u1" |
      | an unknown type, int id   | {"type": "bogus", "id": 77}                              | 77   |
      | subscribe without plan_id | {"type": "subscribe", "id": "m1", "last_event_id": null} | "m1" |
      | subscribe with empty plan | {"type": "subscribe", "id": "m2", "plan_id": ""}         | "m2" |
      | subscribe with int plan   | {"type": "subscribe", "id": "m3", "plan_id": 5}          | "m3" |
      | unsubscribe without plan  | {"type": "unsubscribe", "id": "m4"}                      | "m4" |
      | ping without id           | {"type": "ping"}                                         | null |
      | ping with a boolean id    | {"type": "ping", "id": true}                             | null |
      | ping with a float id      | {"type": "ping", "id": 1.5}                              | null |

  Scenario: A binary frame that is not a valid client frame gets error bad_request
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" sends a binary stream frame of 3 bytes
    Then raw client "a" next receives a stream error "bad_request" with id null and plan null
    And raw client "a" still gets a pong for a stream ping

  Scenario: Ten bad stream frames in a row are tolerated, and a good frame resets the count
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" sends 10 bad stream frames in a row
    Then raw client "a" receives 10 stream errors "bad_request"
    And raw client "a" still gets a pong for a stream ping
    When raw client "a" sends 10 bad stream frames in a row
    Then raw client "a" receives 10 stream errors "bad_request"
    And raw client "a" still gets a pong for a stream ping
    And the reference server counted 20 rejected stream frames and 0 abuse closes

  Scenario: The eleventh bad stream frame in a row closes the connection with 1008
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" sends 10 bad stream frames in a row
    Then raw client "a" receives 10 stream errors "bad_request"
    When raw client "a" sends 1 bad stream frames in a row
    Then raw client "a" is closed by the server with code 1008 after no further stream frame
    And the reference server counted 11 rejected stream frames and 1 abuse closes

  Scenario: A burst of eleven bad stream frames closes the connection with 1008
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" sends 11 bad stream frames in a row
    Then raw client "a" is closed by the server with code 1008 after at most 10 stream errors "bad_request"
    And the reference server counted 11 rejected stream frames and 1 abuse closes

  Scenario: A client frame larger than max_frame_bytes closes the connection with 1009
    Given a reference server with settings
      | setting         | value |
      | max_frame_bytes | 4096  |
    And raw client "a" connects to the stream
    When raw client "a" sends a stream ping frame padded to 4097 bytes
    Then raw client "a" is closed by the server with code 1009

  Scenario: A client frame of exactly max_frame_bytes is accepted
    Given a reference server with settings
      | setting         | value |
      | max_frame_bytes | 4096  |
    And raw client "a" connects to the stream
    When raw client "a" sends a stream ping frame padded to 4096 bytes
    Then raw client "a" next receives a stream pong with id "padded" and a UTC timestamp

  Scenario: The stream app mounted in a host with a larger WebSocket limit still closes oversized frames with 1009
    Given the stream app with max_frame_bytes 4096 mounted at "/ps" in a host app served with a 1 MiB WebSocket limit
    And raw client "a" connects to the mounted stream
    When raw client "a" sends a stream ping frame padded to 2000 bytes
    Then raw client "a" next receives a stream pong with id "padded" and a UTC timestamp
    When raw client "a" sends a stream ping frame padded to 5000 bytes
    Then raw client "a" is closed by the server with code 1009
    And the mounted stream app counted 1 rejected stream frame

  Scenario: The fourth subscription over max_subscriptions 3 is refused while the first three keep streaming
    Given a reference server with settings
      | setting           | value |
      | max_subscriptions | 3     |
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "p1" from the start of the stream
    And raw client "a" subscribes to plan "p2" from the start of the stream
    And raw client "a" subscribes to plan "p3" from the start of the stream
    And raw client "a" subscribes to plan "p4" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p1" with head null
    And raw client "a" next receives stream "subscribed" for plan "p2" with head null
    And raw client "a" next receives stream "subscribed" for plan "p3" with head null
    And raw client "a" next receives a stream error "too_many_subscriptions" for its last subscribe to plan "p4"
    When raw client "a" subscribes to plan "p2" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p2" with head null
    When 2 events are published to plan "p1"
    And 2 events are published to plan "p2"
    And 2 events are published to plan "p3"
    And 2 events are published to plan "p4"
    Then raw client "a" receives every stream event of plan "p1" from seq 1 to 2, of plan "p2" from seq 1 to 2 and of plan "p3" from seq 1 to 2
    And the reference server's only stream connection shows 3 plans
    And raw client "a" received no stream event of plan "p4"
    And raw client "a" still gets a pong for a stream ping

  Scenario: A subscriber that stops reading is closed with 4008 while others receive everything, in bounded memory
    Given a reference server with settings
      | setting         | value |
      | retention       | 200   |
      | max_frame_bytes | 65536 |
      | close_timeout   | 60    |
    And raw client "slow" connects to the stream
    And raw client "fast" connects to the stream
    When raw clients "slow" and "fast" subscribe to plan "flood" from the start of the stream
    And raw client "slow" stops reading while 20000 events of 1 kB are published to plan "flood" and raw client "fast" keeps reading
    Then raw client "fast" received every stream event of plan "flood" from seq 1 to 20000
    And the traced memory of the test process (server included) peaked less than 20 MB above its start while the events were published
    And the reference server counted 1 slow consumer close
    When raw client "slow" resumes reading
    Then raw client "slow" is closed by the server with code 4008 after a gap-free prefix of plan "flood"
    And the reference server has 1 stream subscription

  Scenario: A raw client pipelining more requests than the control queue holds gets every answer, in order
    Given a reference server
    And raw client "a" connects to the stream
    When raw client "a" sends 256 stream subscribes and 100 stream pings at once, without reading
    Then raw client "a" receives the 356 stream answers in request order
    And raw client "a" still gets a pong for a stream ping
    And the reference server counted 0 slow consumer closes

  Scenario: A raw client that keeps sending requests but never reads the answers is closed with 4008
    Given a reference server with settings
      | setting            | value |
      | control_queue_size | 8     |
    And raw client "stuck" connects to the stream with a tiny receive buffer
    And raw client "stuck" has stalled the server's sends with a backlog of 5000 events of 1 kB on plan "big"
    When raw client "stuck" sends 20 stream pings without reading
    Then the reference server counted 1 slow consumer close
    When raw client "stuck" resumes reading
    Then raw client "stuck" is closed by the server with code 4008 after a gap-free prefix of plan "big"
    And the reference server has 0 stream connections and 0 stream subscriptions

  Scenario: A raw client that vanishes while the server is blocked sending to it is forgotten
    Given a reference server
    And raw client "gone" connects to the stream with a tiny receive buffer
    And raw client "gone" has stalled the server's sends with a backlog of 5000 events of 1 kB on plan "big"
    When raw client "gone" vanishes without a close frame
    Then the reference server forgets every stream connection within 5 seconds
    And the reference server has 0 stream connections and 0 stream subscriptions

  Scenario: Publishing an event too large for one frame is refused, so every sent frame stays within max_frame_bytes
    Given a reference server with settings
      | setting         | value |
      | max_frame_bytes | 4096  |
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "p" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head null
    When an event whose log message is 2100 bytes is published to the stream's plan "p"
    Then publishing it was refused with a PublishError about its size
    When an event whose log message is 1900 bytes is published to the stream's plan "p"
    Then raw client "a" receives the stream events of plan "p" from seq 1 to 1
    And raw client "a" received no frame larger than 4096 bytes on the stream
