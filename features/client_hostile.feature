Feature: The client against a hostile server or proxy (issue 10, items 7-10)
  PlanStreamClient on real sockets against scripted hostile servers
  (features/support/hostile_servers.py): whatever answers on the SDK's URL may
  be broken or malicious. A poll answer is read with a byte cap and one
  deadline; a plan whose stream stays broken is repaired with backoff and then
  given up with a typed error, the other plans untouched; ids the user passes
  are checked before anything is sent; a hello's heartbeat_s is clamped; a
  flood of unreadable frames gives a few counted warnings; and an error says
  which side refused what.

  Scenario: A poll answer that never ends is refused at the client's byte cap
    Given a hostile HTTP server refusing upgrades with 404 and flooding every poll with an endless body
    And a hostile client in transport "auto" aimed at it, polling with the default cap
    When the hostile client subscribes to plan "p"
    Then the hostile client reports 2 failures mentioning "the client refused a poll answer of more than 8388608 bytes"
    And the hostile HTTP server fed no poll more than 32 MiB
    And the hostile client's RSS grew by less than 200 MiB

  Scenario: A poll answer announcing more than the cap is refused before its body is read
    Given a hostile HTTP server refusing upgrades with 404 and announcing 1073741824 bytes in every poll answer
    And a hostile client in transport "auto" aimed at it, polling with the default cap
    When the hostile client subscribes to plan "p"
    Then the hostile client reports 2 failures mentioning "the client refused a poll answer of more than 8388608 bytes (stopped reading at 1073741824 bytes)"

  Scenario: A poll answer trickling in is cut at one deadline per poll, not per read
    Given a hostile HTTP server refusing upgrades with 404 and trickling 64 KB every 0.2 s into every poll
    And a hostile client in transport "auto" aimed at it, polling with wait 0.5 s and request timeout 0.5 s
    When the hostile client subscribes to plan "p"
    Then the hostile client reports 2 failures mentioning "the client gave up on a poll after 1 s"
    And the hostile HTTP server fed no poll for more than 5 s

  Scenario: A plan always answered with an event at a far seq is given up after bounded repairs, the other plan untouched
    # sequencer.max_failed_repairs is 5: the first subscribe and at most 5 repairs
    Given a hostile stream server answering every subscribe to plan "far" with an event at seq 10**15
    And the hostile stream server has 3 events of plan "ok"
    And a hostile client in transport "websocket" aimed at it
    When the hostile client follows plan "ok" and subscribes to plan "far"
    Then the hostile subscription to plan "far" fails with RepairFailedError mentioning "seq 1000000000000000"
    And the hostile stream server saw at most 6 subscribes to plan "far" on 1 connection
    And the hostile subscription to plan "ok" received seq 1 to 3 and is still open
    When the hostile stream server publishes an event to plan "ok"
    Then the hostile subscription to plan "ok" received seq 1 to 4 and is still open
    And the hostile client logged at most 5 lines re-subscribing plan "far"

  Scenario: An event of a known kind that fails validation ends that subscription with a typed error, not a silent stall
    Given a hostile stream server replaying plan "bad" with an invalid step.status at seq 2
    And the hostile stream server has 3 events of plan "ok"
    And a hostile client in transport "websocket" aimed at it
    When the hostile client follows plan "ok" and subscribes to plan "bad"
    Then the hostile subscription to plan "bad" fails with RepairFailedError mentioning "event at seq 2 the client cannot read: event.data.status"
    And the hostile subscription to plan "bad" received seq 1 to 1
    And the hostile subscription to plan "ok" received seq 1 to 3 and is still open

  Scenario: Malformed ids passed by the user are refused before anything is sent; the shared connection carries on
    Given a hostile stream server answering every subscribe to plan "far" with an event at seq 10**15
    And the hostile stream server has 3 events of plan "ok"
    And a hostile client in transport "websocket" aimed at it
    When the hostile client follows plan "ok" alone
    Then the hostile subscription to plan "ok" received seq 1 to 3 and is still open
    And subscribing with a last_event_id of 5000 digits raises InvalidIdError mentioning "last_event_id is 5000 characters"
    And subscribing to the plan id "a/b" raises InvalidIdError mentioning "plan_id may only hold"
    And watching with a last_event_id of 5000 digits raises InvalidIdError mentioning "at most 128"
    And running the plan id "a b" raises InvalidIdError mentioning "plan_id may only hold"
    When the hostile stream server publishes an event to plan "ok"
    Then the hostile subscription to plan "ok" received seq 1 to 4 and is still open
    And the hostile stream server saw subscribes only to plan "ok", on 1 connection

  Scenario: A hello with heartbeat_s 1e300 followed by silence still trips the dead-link detector
    Given a hostile stream server whose hello says heartbeat_s 1e300 and then stays silent
    And a hostile client in transport "websocket" aimed at it, trusting heartbeats of at most 1 s
    Then the hostile client reports 1 failures mentioning "no frame for"
    And the hostile client logged a warning mentioning "heartbeat_s 1e+300; the client uses 1 s"

  Scenario: A flood of 20,000 unreadable frames gives a few counted warnings, not one line each
    Given a hostile stream server sending 20000 garbage frames and 5000 error frames after its hello
    And a hostile client in transport "websocket" aimed at it
    Then the hostile client rejects 20000 frames
    And the hostile client handled 5000 server errors tied to no plan
    And the hostile client logged at most 10 warnings mentioning "skipped a frame the client cannot read"
    And the hostile client logged at most 10 warnings mentioning "server error internal: error"
    When the hostile client is closed
    Then the hostile client logged a warning mentioning "19995 more warnings like 'skipped a frame the client cannot read' were suppressed"

  Scenario: The warning throttle lets a burst through per interval and counts the rest
    Given a hostile warning throttle letting 2 lines through per 10 s
    When the hostile throttle is given 5 warnings at 0 s, ticked at 5 s and given 1 warning at 11 s
    Then the hostile throttle wrote 3 lines, the last saying "(3 similar warnings suppressed before this one)"
    When the hostile throttle is given 4 warnings at 12 s and ticked at 25 s
    Then the hostile throttle wrote 5 lines, the last saying "3 more warnings like 'bad frame' were suppressed"

  Scenario: A frame over the client's max_frame_bytes is refused by the client, and the error says so
    Given a hostile stream server sending a frame of 2000000 bytes after its hello
    And a hostile client in transport "websocket" aimed at it
    Then the hostile client stops with MessageTooBigError mentioning "the client refused a frame from the server larger than its max_frame_bytes of 1048576 bytes"
    And the hostile client's error was refused by the "client"

  Scenario: Fuzz: generated and mutated server frames never escape decode's typed errors and keep memory bounded
    # hypothesis, derandomized, no example database; see features/steps/client_fuzz_steps.py
    Then any generated or mutated server frame fed through decode, router and sequencer raises only InvalidFrameError or FrameTooLargeError and keeps memory bounded (300 examples)
