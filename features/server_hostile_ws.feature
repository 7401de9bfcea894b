Feature: The stream endpoint under hostile input (issue 10, items 1-4; protocol §1-§4, §6)
  One reader connection, or a peer that never completes a handshake, must not
  end a connection abruptly (1006), flood the log, send a frame larger than
  max_frame_bytes, hold sockets for ever or send frames without limit. Every
  scenario talks to a real reference server over real sockets.

  # --- item 1: every frame answered, never a 1006 ------------------------------

  Scenario: Frames that used to end the connection with a traceback are answered bad_request, and the log stays quiet
    Given a reference server
    And the server's log is captured
    And raw client "a" connects to the stream
    When raw client "a" sends a frame of 1000 "[" characters
    Then raw client "a" next receives a stream error "bad_request" with id null and plan null
    When raw client "a" sends the stream frame {"type": "ping", "id": "\ud800"}
    Then raw client "a" next receives a stream error "bad_request" with id null and plan null
    When raw client "a" sends a frame with id "deep" whose payload nests 1000 arrays
    Then raw client "a" next receives a stream error "bad_request" with id null and plan null
    When raw client "a" sends the stream frame {"type": "bogus", "id": "\udc00"}
    Then raw client "a" next receives a stream error "bad_request" with id null and plan null
    And raw client "a" still gets a pong for a stream ping
    And the captured server log has no traceback and at most 2 lines

  Scenario: A subscribe resuming from this server's incarnation and a non-ASCII digit is answered, never dropped
    Given a reference server
    And the server's log is captured
    And 2 events were published to plan "job"
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "job" after this server's incarnation followed by "²"
    Then raw client "a" next receives a stream error "internal" or a resync for plan "job"
    And raw client "a" still gets a pong for a stream ping
    And the captured server log has no traceback and at most 3 lines

  Scenario: A frame the server fails on is answered internal with its id, logged once, and counts as a bad frame
    Given a reference server whose event log fails to locate plan "explodes"
    And the server's log is captured
    And raw client "a" connects to the stream
    When raw client "a" subscribes to plan "explodes" 10 times
    Then raw client "a" receives 10 stream errors "internal" for plan "explodes", each with the id of its subscribe
    And raw client "a" still gets a pong for a stream ping
    When raw client "a" subscribes to plan "explodes" 10 times
    Then raw client "a" receives 10 stream errors "internal" for plan "explodes", each with the id of its subscribe
    And the captured server log has exactly 1 line about an internal error, with no traceback
    And raw client "a" still gets a pong for a stream ping
    When raw client "a" subscribes to plan "explodes" 11 times
    Then raw client "a" is closed by the server with code 1008 after at most 10 stream errors "internal"
    And the reference server counted 31 internal errors
    And the reference server has 0 stream subscriptions

  # --- item 2: lengths and charsets; every outgoing frame within max_frame_bytes ---

  Scenario: Plan ids and request ids beyond protocol §1 get bad_request, no answer exceeds max_frame_bytes, and the connection stays usable
    Given a reference server
    And the server's log is captured
    And raw client "a" connects to the stream
    When raw client "a" subscribes with request id "huge" to a plan id of 1000000 "p" characters
    Then raw client "a" next receives a stream error "bad_request" with id "huge" and plan null
    When raw client "a" pings with an id of 1048000 characters
    Then raw client "a" next receives a stream error "bad_request" with id null and plan null
    When raw client "a" subscribes with request id "slash" to the plan id "a/b"
    Then raw client "a" next receives a stream error "bad_request" with id "slash" and plan null
    When raw client "a" subscribes with request id "space" to the plan id " "
    Then raw client "a" next receives a stream error "bad_request" with id "space" and plan null
    When raw client "a" subscribes with request id "nul" to the plan id "a\u0000b"
    Then raw client "a" next receives a stream error "bad_request" with id "nul" and plan null
    When raw client "a" subscribes with request id "newline" to the plan id "a\nb"
    Then raw client "a" next receives a stream error "bad_request" with id "newline" and plan null
    When raw client "a" subscribes with request id "rtl" to the plan id "a\u202eb"
    Then raw client "a" next receives a stream error "bad_request" with id "rtl" and plan null
    And raw client "a" still gets a pong for a stream ping
    And raw client "a" received no frame larger than 1048576 bytes on the stream
    And the captured server log has no traceback and at most 2 lines

  Scenario: A heartbeat whose heads would not fit in max_frame_bytes is split into frames that together name every plan
    Given a reference server with settings
      | setting         | value |
      | max_frame_bytes | 4096  |
      | heartbeat_s     | 0.3   |
    And raw client "a" connects to the stream accepting frames of any size
    When raw client "a" subscribes to 40 plans with ids of 256 characters, 1 event published to each
    Then raw client "a" receives heartbeats with one ts that together name all 40 plans with their heads
    And raw client "a" received no frame larger than 4096 bytes on the stream

  # --- item 3: handshake timeout and max_connections ----------------------------

  Scenario: A TCP connection that sends half an upgrade, or nothing, is closed after handshake_timeout; an open WebSocket is not
    Given a reference server with settings
      | setting           | value |
      | handshake_timeout | 0.5   |
    And raw client "a" connects to the stream
    When a TCP peer sends half a WebSocket upgrade and another sends nothing
    And a third TCP peer connects and leaves at once
    Then both TCP peers are closed by the server within 5 seconds
    And raw client "a" still gets a pong for a stream ping
    And the reference server counted 2 handshake timeouts

  Scenario: Beyond max_connections a WebSocket and an HTTP request get 503 with Retry-After and the JSON error, logged once
    Given a reference server with settings
      | setting         | value |
      | max_connections | 5     |
    And the server's log is captured
    And 5 raw clients connect to the stream
    When 10 more raw clients try to open the stream
    Then each of them is refused with HTTP 503, a Retry-After header and the JSON error "unavailable"
    And an HTTP request for plan "p" is refused with HTTP 503, a Retry-After header and the JSON error "unavailable"
    And the captured server log has exactly 1 line about max_connections, with no traceback
    When one of the 5 raw clients closes its connection
    Then a new raw client can open the stream

  Scenario: Under a low open-file limit the server caps its TCP connections below it, warns at start, and idle sockets cannot lock clients out
    Given a reference server subprocess with an open-file limit of 100 and settings
      | setting           | value |
      | handshake_timeout | 2     |
    When 80 TCP peers connect and send nothing
    Then the server process answers /healthz within 10 seconds
    And the server process counted at least 30 refused connections
    And the server process output warns that max_connections does not fit under the open-file limit
    And the server process output has no traceback and at most 20 lines

  Scenario: Request heads that are not HTTP get the JSON 400 of protocol §6, logged once per interval
    Given a reference server
    And the server's log is captured
    When 30 TCP peers each send a request line that is not HTTP
    Then each gets a 400 whose body is the JSON error bad_request
    And the captured server log has exactly 1 line about a malformed request, with no traceback

  Scenario: Failed accepts (EMFILE), as the event loop reports them, are logged once per interval without a traceback
    Given a reference server
    And the server's log is captured
    When the event loop reports 1000 failed accepts with "Too many open files" while the server runs
    Then the captured server log has exactly 1 line about a failed accept, with no traceback

  # --- item 4: rate limits ---------------------------------------------------------

  Scenario: A client that floods pings past the token bucket gets rate_limited with its ids, then a 4029 with retry_after
    Given a reference server with settings
      | setting     | value |
      | frame_rate  | 2     |
      | frame_burst | 20    |
    And raw client "a" connects to the stream
    When raw client "a" sends 60 stream pings without waiting
    Then raw client "a" gets at least 20 and at most 23 pongs, then errors "rate_limited" echoing the ids of its pings
    And raw client "a" is closed by the server with code 4029 and a retry_after of at least 1 second
    And the reference server counted 1 rate-limit close

  Scenario: Refused subscriptions are not free: a client repeating them is rate limited, then closed with 4029
    Given a reference server with settings
      | setting           | value |
      | max_subscriptions | 2     |
      | frame_rate        | 1     |
      | frame_burst       | 100   |
    And raw client "a" connects to the stream
    When raw client "a" subscribes to 60 different plans without waiting
    Then raw client "a" got 2 "subscribed", at most 11 errors "too_many_subscriptions", then errors "rate_limited"
    And raw client "a" is closed by the server with code 4029 and a retry_after of at least 1 second

  Scenario: A client whose unread answers overflow the control queue is closed with a reason that says so
    Given a reference server with settings
      | setting            | value |
      | control_queue_size | 8     |
    And raw client "stuck" connects to the stream with a tiny receive buffer
    And raw client "stuck" has stalled the server's sends with a backlog of 5000 events of 1 kB on plan "big"
    When raw client "stuck" sends 20 stream pings without reading
    And raw client "stuck" resumes reading
    Then raw client "stuck" was closed with code 4008 and a reason mentioning "control_queue_size"

  # --- fuzz: the frame handler ---------------------------------------------------------

  Scenario: Generated and mutated client frames never break the frame handler, its answers or its bounds
    Then the stream session answers any sequence of generated and mutated client frames with valid server frames within max_frame_bytes and its bounds
