Feature: Client delivery guarantees through restarts, kills, stalls and a faulty network
  The client promises every event of a plan exactly once and in order through
  drops, restarts, stalls, duplicates and reordering, or tells its user with
  a Resync that history was lost (protocol §1, §3, §4). These scenarios hold
  it to that with real sockets on 127.0.0.1: the reference server (embedded,
  or a subprocess killed with SIGKILL) and, between client and server, a
  fault-injecting WebSocket proxy (features/support/fault_proxy.py).

  Streams are written as runs of seqs and resyncs: "1..5 | resync
  stream_reset at nothing | 1..4" is seqs 1 to 5, each once and in order,
  then a Resync whose snapshot has no head, then seqs 1 to 4.

  Scenario: A server stopped and restarted on the same port with the same log is resumed exactly
    Given a reference server whose memory log survives restarts
    And 10 resilience log events are published to plan "job"
    And a resilient client connected to the reference server
    When the resilient client subscribes to plan "job" from the start
    And the resilient client has received 10 items of plan "job"
    And the reference server stops
    And 10 resilience log events are published to plan "job"
    And the reference server starts again on the same port with the same log
    And 9 resilience log events and a "succeeded" status are published to plan "job"
    Then the resilient stream of plan "job" ends as "1..30"
    And the resilient client's first failure was a ServerUnavailableError mentioning "1001"
    And the resilient client's stat "reconnects" is at least 1
    And the resilient client's stat "resyncs" is 0
    And the resilient client went from reconnecting to open at least 1 time

  Scenario: A SIGKILLed server process replaced with empty history is reported as a stream_reset Resync
    Given a reference server running as a subprocess that can be killed and replaced
    And 5 resilience log events are published to plan "job"
    And a resilient client connected to the reference server
    When the resilient client subscribes to plan "job" from the start
    And the resilient client has received 5 items of plan "job"
    And the reference server process is killed with SIGKILL
    And a new reference server process starts on the same port
    Then the resilient client delivers a Resync "stream_reset" for plan "job"
    When 3 resilience log events and a "succeeded" status are published to plan "job"
    Then the resilient stream of plan "job" ends as "1..5 | resync stream_reset at nothing | 1..4"
    And the resilient events of plan "job" after the Resync come from a new incarnation of the stream
    And the resilient client's stat "resyncs" is 1
    And the resilient client went from reconnecting to open at least 1 time

  Scenario Outline: Reconnect delays follow the seeded <jitter> backoff schedule, then the client gives up
    Given a resilient client with seed <seed> aimed at a port where nothing listens, with reconnect settings
      | setting       | value    |
      | initial_delay | 0.01     |
      | max_delay     | 0.08     |
      | factor        | 2        |
      | jitter        | <jitter> |
      | max_attempts  | 6        |
    When the resilient client subscribes to plan "job" from the start
    Then the resilient stream of plan "job" fails with RetriesExhaustedError after 6 attempts
    And the resilient client's error is RetriesExhaustedError caused by ConnectionLostError
    And the resilient client's retry delays are the seeded schedule to within 0.001 s
    And each resilient retry delay n lies within 0 and min(max_delay, initial_delay x factor^n)
    And the resilient client gave up within 10 s

    Examples:
      | jitter | seed |
      | full   | 1234 |
      | equal  | 99   |
      | none   | 7    |

  Scenario: Duplicated and reordered frames are delivered exactly once and in order
    Given a reference server whose memory log survives restarts, with settings
      | setting          | value |
      | batch_max_events | 1     |
    And a resilience fault proxy in front of the server with faults
      | fault           | value |
      | duplicate_every | 7     |
      | swap_every      | 11    |
    And 499 resilience log events and a "succeeded" status are published to plan "job"
    And a resilient client connected through the resilience fault proxy
    When the resilient client subscribes to plan "job" from the start
    Then the resilient stream of plan "job" ends as "1..500"
    And the resilience fault proxy's "duplicated" count is at least 70
    And the resilience fault proxy's "swapped" count is at least 30
    And the resilient client's stat "duplicates_dropped" is at least 70
    And the resilient client's stat "reordered" is at least 30
    And the resilient client's stat "reconnects" is 0

  Scenario: Event frames dropped mid-stream are repaired by re-subscribing after the gap timeout
    Given a reference server whose memory log survives restarts, with settings
      | setting          | value |
      | batch_max_events | 1     |
    And a resilience fault proxy in front of the server with faults
      | fault       | value  |
      | drop_frames | 40, 90 |
    And 199 resilience log events and a "succeeded" status are published to plan "job"
    And a resilient client connected through the resilience fault proxy with settings
      | setting               | value |
      | sequencer.gap_timeout | 0.2   |
    When the resilient client subscribes to plan "job" from the start
    Then the resilient stream of plan "job" ends as "1..200"
    And the resilience fault proxy's "dropped" count is at least 2
    And the resilient client's stat "gaps_repaired" is at least 1
    And the resilient client's stat "reconnects" is 0

  Scenario: A lost tail is repaired from the heartbeat's heads
    Given a reference server whose memory log survives restarts, with settings
      | setting          | value |
      | batch_max_events | 1     |
      | heartbeat_s      | 0.2   |
    And a resilience fault proxy in front of the server with faults
      | fault       | value |
      | drop_frames | 20    |
    And 19 resilience log events and a "succeeded" status are published to plan "job"
    And a resilient client connected through the resilience fault proxy
    When the resilient client subscribes to plan "job" from the start
    Then the resilient stream of plan "job" ends as "1..20"
    And the resilience fault proxy's "dropped" count is 1
    And the resilient client's stat "gaps_repaired" is at least 1
    And the resilient client's stat "reconnects" is 0

  Scenario: A stalled connection is declared dead by the heartbeat timeout and resumed exactly
    Given a reference server whose memory log survives restarts, with settings
      | setting     | value                |
      | heartbeat_s | 1.0                  |
      | tokens      | resilience-reader-77 |
    And a resilience fault proxy in front of the server with faults
      | fault | value |
    And 10 resilience log events are published to plan "job"
    # protocol §2: the client clamps heartbeat_s to at least 1 s; factor 1 keeps the wait short
    And a resilient client connected through the resilience fault proxy with settings
      | setting                     | value                |
      | token                       | resilience-reader-77 |
      | heartbeat.dead_after_factor | 1                    |
    When the resilient client subscribes to plan "job" from the start
    And the resilient client has received 10 items of plan "job"
    And the resilience fault proxy stalls its open connections
    And 10 resilience log events are published to plan "job"
    Then the resilient client reports a HeartbeatTimeoutError after 1 s of silence
    When 9 resilience log events and a "succeeded" status are published to plan "job"
    Then the resilient stream of plan "job" ends as "1..30"
    And the resilience fault proxy's "event_frames_discarded_while_stalled" count is at least 1
    And the resilience fault proxy's "connections" count is at least 2
    And the resilient client's stat "resyncs" is 0
    And the resilient client went from reconnecting to open at least 1 time

  Scenario Outline: Subscribing <where> after the history expired delivers a Resync with the snapshot first
    Given a reference server whose memory log survives restarts, with settings
      | setting   | value |
      | retention | 5     |
    And plan "job" is running 2 resilience steps and logged 10 lines
    And a resilient client connected to the reference server
    When the resilient client subscribes to plan "job" <where>
    Then the resilient client delivers a Resync "history_expired" for plan "job"
    And the resilient Resync of plan "job" has a "running" snapshot with 2 succeeded steps at seq 13
    When 2 resilience log events and a "succeeded" status are published to plan "job"
    Then the resilient stream of plan "job" ends as "resync history_expired at 13 | 14..16"

    Examples:
      | where                          |
      | from the start                 |
      | after its event with seq 2     |

  Scenario: A long chaos run with aborted, duplicated and reordered frames loses and repeats nothing
    Given a reference server whose memory log survives restarts, with settings
      | setting          | value                |
      | batch_max_events | 1                    |
      | tokens           | resilience-reader-42 |
    And a resilience fault proxy in front of the server with faults
      | fault           | value |
      | abort_after     | 50    |
      | duplicate_every | 13    |
      | swap_every      | 17    |
    And a resilient client connected through the resilience fault proxy with settings
      | setting | value                |
      | token   | resilience-reader-42 |
    When the resilient client subscribes to plan "chaos" from the start
    And 2000 resilience log events and a "succeeded" status are published to plan "chaos" in chunks of 100 while it streams
    Then the resilient stream of plan "chaos" ends as "1..2001"
    And the resilience fault proxy's "aborted" count is at least 40
    And the resilience fault proxy's "refused" count is 0
    And the resilience fault proxy's "duplicated" count is at least 100
    And the resilience fault proxy's "swapped" count is at least 50
    And the resilient client's stat "reconnects" is at least 40
    And the resilient client's stat "duplicates_dropped" is at least 1
    And the resilient client's stat "reordered" is at least 1
    And the resilient client went from reconnecting to open at least 40 times

  Scenario: A refusal of the server passes through the proxy: a rejected token is fatal, not retried
    Given a reference server whose memory log survives restarts, with settings
      | setting | value                |
      | tokens  | resilience-reader-42 |
    And a resilience fault proxy in front of the server with faults
      | fault | value |
    And a resilient client connected through the resilience fault proxy with settings
      | setting | value           |
      | token   | not-the-right-1 |
    When the resilient client subscribes to plan "job" from the start
    Then the resilient stream of plan "job" fails with AuthenticationError
    And the resilient client made no retry
    And the resilience fault proxy's "refused" count is 1
