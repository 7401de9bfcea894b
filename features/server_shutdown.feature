Feature: Graceful shutdown closes stream connections with 1001 (protocol §4)

  Scenario: Stopping an embedded server closes every connected raw client with 1001
    Given a reference server
    And 3 events were published to plan "p"
    And raw client "a" connects to the stream
    And raw client "b" connects to the stream
    When raw client "a" subscribes to plan "p" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head seq 3
    And raw client "a" receives the stream events of plan "p" from seq 1 to 3
    When the reference server stops
    Then raw client "a" is closed by the server with code 1001
    And raw client "b" is closed by the server with code 1001
    And the reference server has 0 stream connections and 0 stream subscriptions

  Scenario: A subprocess server receiving SIGTERM closes its raw clients with 1001 and exits with code 0
    Given a reference server running as a subprocess
    And 3 events were published over HTTP to the reference server process's plan "p"
    And raw client "a" connects to the stream
    And raw client "b" connects to the stream
    When raw client "a" subscribes to plan "p" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head seq 3
    And raw client "a" receives the stream events of plan "p" from seq 1 to 3
    When the reference server process receives SIGTERM
    Then raw client "a" is closed by the server with code 1001
    And raw client "b" is closed by the server with code 1001
    And the reference server process exited with code 0

  Scenario: A subprocess server restarted on the same port answers an event id of its previous run with stream_reset
    Given a reference server running as a subprocess
    And 3 events were published over HTTP to the reference server process's plan "p"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "p" from the start of the stream
    Then raw client "a" next receives stream "subscribed" for plan "p" with head seq 3
    And raw client "a" receives the stream events of plan "p" from seq 1 to 3
    When the reference server process receives SIGTERM
    Then raw client "a" is closed by the server with code 1001
    When the reference server process is started again on the same port
    And 2 events were published over HTTP to the reference server process's plan "p"
    And raw client "b" connects to the stream
    And raw client "b" subscribes to plan "p" after event 3 of the previous run of the stream
    Then raw client "b" next receives a stream resync for plan "p" with reason "stream_reset"
    And the stream resync snapshot of raw client "b" has head seq 2
    When 1 events were published over HTTP to the reference server process's plan "p"
    Then raw client "b" receives the stream events of plan "p" from seq 3 to 3

  Scenario: Stopping a server while a raw client has stopped reading finishes in bounded time; reading clients get 1001
    Given a reference server with settings
      | setting       | value |
      | close_timeout | 1     |
    And raw client "stuck" connects to the stream with a tiny receive buffer
    And raw client "ok" connects to the stream
    And raw client "stuck" has stalled the server's sends with a backlog of 5000 events of 1 kB on plan "big"
    When the embedded stream server is stopped, which takes less than 10 seconds
    Then raw client "ok" is closed by the server with code 1001

  Scenario: An embedded stream server on a port already in use fails to start with an error, and the event loop survives
    Given a TCP port on 127.0.0.1 that is already in use
    When an embedded stream server is started on that port
    Then starting the embedded stream server failed with an OSError naming the port
    And the scenario's event loop still runs

  Scenario: An embedded stream server has no URL before it starts and cannot be started twice
    Given an embedded stream server that is not started
    Then asking the unstarted stream server for its URL raises RuntimeError
    When the embedded stream server is started
    Then its stream URL is "ws://127.0.0.1:<port>/v1/stream" and its repr names the port
    And starting the embedded stream server again raises RuntimeError
    When raw client "a" connects to the stream
    Then raw client "a" got a stream hello with protocol 1, schema "1.0", server "planstream-reference/<version>", heartbeat_s 15 and max_frame_bytes 1048576
