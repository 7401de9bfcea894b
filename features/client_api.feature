Feature: Client API: iterators, snapshots, callbacks, stats and a clean shutdown
  What a user of PlanStreamClient sees, against real servers on 127.0.0.1:
  subscriptions that deliver every event exactly once and in order (and end
  after the plan's terminal status unless asked to follow), watch() snapshots,
  callbacks that cannot break the stream, counters and state hooks, a slow
  consumer that neither holds up other plans nor loses events, and a close
  that leaves nothing running.

  Scenario: watch() yields a snapshot per event, the last one terminal with every step
    Given a reference server
    And an api plan "p" ran 3 steps to "succeeded"
    When an api client connects to the reference server and watches plan "p"
    Then the api watch of plan "p" ended after one snapshot per published event
    And the last api snapshot of plan "p" is "succeeded" at its last seq with steps "step-1, step-2, step-3" all "succeeded"

  Scenario: follow=True keeps streaming past a terminal status
    Given a reference server whose event log lets a finished plan go on
    And an api plan "p" ran 1 steps to "failed"
    When an api client connects to the reference server and follows plan "p"
    Then the api consumer of plan "p" has received seq 1 to 5 exactly once in order
    When 2 events are published to plan "p"
    Then the api consumer of plan "p" has received seq 1 to 7 exactly once in order
    And the api consumer of plan "p" is still running

  Scenario: subscribe() with last_event_id resumes right after that event
    Given a reference server
    And 6 events were published to plan "p"
    When an api client connects to the reference server and subscribes to plan "p" after its event with seq 4
    And 2 events are published to plan "p"
    Then the api consumer of plan "p" has received seq 5 to 8 exactly once in order
    And the api subscription to plan "p" resumes after the event with seq 8

  Scenario: Two subscriptions to one plan on one client each get every event once
    Given a reference server
    And 4 events were published to plan "p"
    When an api client connects to the reference server and subscribes to plan "p" as "first" and as "second"
    And 4 events are published to plan "p"
    Then the api consumers "first" and "second" have each received seq 1 to 8 exactly once in order
    And the reference server holds 1 subscription

  Scenario: A plan the server does not know fails its own subscription only
    Given an api scripted stream server answering not_found for plan "ghost"
    When an api client connects to the scripted server and subscribes to plans "ghost" and "real"
    And the api scripted server publishes 3 events to plan "real"
    Then the api subscription to plan "ghost" ended with a SubscriptionError "not_found" naming the plan
    And the api consumer of plan "real" has received seq 1 to 3 exactly once in order
    And the api client state is "open"

  Scenario: Stats move and the state hook sees connecting, open and closed
    Given a reference server
    And an api plan "p" ran 2 steps to "succeeded"
    When an api client connects to the reference server and subscribes to plan "p"
    Then the api subscription to plan "p" ended after every published event of the plan
    And the api client stats count 1 connect, 0 reconnects, 8 events delivered, an rtt and state "open"
    When the api client leaves its async with block
    Then the api state hook saw the states "connecting, open, closed"
    And the api client stats say state "closed"

  Scenario: A subscription left with break frees its slot on the server
    Given a reference server
    And 5 events were published to plan "p"
    When an api client connects to the reference server, takes 2 events of plan "p" and breaks out of its loop
    Then the reference server holds 0 subscriptions
    And the api client state is "open"

  Scenario: A stalled consumer holds up neither another plan nor its own events
    Given a reference server
    When an api client with queue_size 16 connects to the reference server and subscribes to plan "slow" without reading it and to plan "fast"
    And 60 events are published to plan "slow"
    And 60 events are published to plan "fast"
    Then the api consumer of plan "fast" has received seq 1 to 60 exactly once in order
    And the api stalled subscription to plan "slow" holds at most 16 items and has overflowed
    When the api consumer of plan "slow" starts reading
    Then the api consumer of plan "slow" has received seq 1 to 60 exactly once in order
    And the api client stats count at least 1 slow consumer rewind

  Scenario: A callback that raises is logged and counted, and the stream goes on
    Given a reference server
    And an api plan "p" ran 2 steps to "succeeded"
    When an api client runs plan "p" with a sync callback raising on "log" events and an async callback recording everything
    Then the api run of plan "p" completed
    And the api recording callback saw every published event of plan "p" once, in order
    And the api client stats count 2 callback errors
    And the api log holds 2 error records with a traceback naming the raising callback

  Scenario: Callbacks pick items by event model, Resync or every item; off() removes one
    Given a reference server with settings
      | setting   | value |
      | retention | 5     |
    And 12 events were published to plan "p"
    When an api client registers callbacks on LogEvent, on StepStatusEvent, on Resync, on every item, a decorated one on PlanStatusEvent and one removed with off()
    And the api client runs plan "p" in the background until a resync was delivered
    And an api step "step-1" succeeded, a log line and a terminal status "succeeded" are published to plan "p"
    Then the api run of plan "p" completed
    And the api callback on "Resync" saw a "history_expired" resync at seq 12
    And the api callback on "LogEvent" saw seq 14
    And the api callback on "StepStatusEvent" saw seq 13
    And the api callback on "everything" saw seq 12, 13, 14, 15
    And the api callback on "decorated PlanStatusEvent" saw seq 15
    And the api callback on "removed" saw nothing

  Scenario: Leaving async with ends a waiting iterator, closes with 1000 and leaves no task behind
    Given an api scripted stream server
    When an api client connects to the scripted server and subscribes to plan "p"
    And the api scripted server publishes 2 events to plan "p"
    Then the api consumer of plan "p" has received seq 1 to 2 exactly once in order
    When the api client leaves its async with block while the consumer of plan "p" waits
    Then the api consumer of plan "p" ended with "ClientClosedError"
    And the api scripted server saw exactly 1 connection, closed by the client with code 1000
    And no task the api client started is still pending
    And no api log record or warning mentions a destroyed pending task or an unawaited coroutine
    And subscribing to plan "p" with the closed api client raises ClientClosedError
