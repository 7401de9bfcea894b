Feature: The sequencer delivers each plan's events exactly once, in order, or an explicit resync
  The pure sequencer (protocol §1 and §3) is fed what the server sends and the
  current time (a plain number: it has no clock). It answers with the items to
  deliver to the user, in order, and the repair actions the transport must
  perform. Events here are log events whose id is "e<seq>" unless stated.

  Background:
    Given a sequencer with reorder window 8, dedup window 16, gap timeout 2s and resubscribe timeout 10s
    And the sequencer tracks plan "p1"

  # --- ordering and de-duplication ---------------------------------------------

  Scenario: Events that arrive in order are delivered at once
    When the sequencer receives events 1, 2, 3 of plan "p1" at time 0
    Then the sequencer delivers seqs 1, 2, 3
    And the sequencer requests no action
    And the sequencer stat delivered is 3
    And the sequencer stat reordered is 0
    And the sequencer position of plan "p1" is seq 3 at "e3"
    And the sequencer has no deadline

  Scenario: An exact duplicate of a delivered event is dropped
    When the sequencer receives events 1, 2, 3 of plan "p1" at time 0
    And the sequencer receives events 2, 3, 1 of plan "p1" at time 1
    Then the sequencer delivers nothing
    And the sequencer requests no action
    And the sequencer stat duplicates_dropped is 3
    And the sequencer stat delivered is 3
    And the sequencer has delivered in total seqs 1, 2, 3 of plan "p1"

  Scenario: An exact duplicate of a buffered event is dropped by its seq
    When the sequencer receives events 1, 3, 3, 2, 3 of plan "p1" at time 0
    Then the sequencer delivers seqs 1, 2, 3
    And the sequencer stat duplicates_dropped is 2
    And the sequencer stat reordered is 1

  Scenario: An event at an already delivered seq, older than the remembered ids, is dropped by its seq
    Given the sequencer tracks plan "p2" resuming after "e10" at seq 10
    When the sequencer receives event 4 with id "e4" of plan "p2" at time 0
    Then the sequencer delivers nothing
    And the sequencer requests no action
    And the sequencer stat duplicates_dropped is 1

  Scenario: The same event id at a different seq is dropped
    When the sequencer receives events 1, 2 of plan "p1" at time 0
    And the sequencer receives event 3 with id "e1" of plan "p1" at time 0
    Then the sequencer delivers nothing
    And the sequencer requests no action
    And the sequencer stat duplicates_dropped is 1
    When the sequencer receives event 3 with id "e3" of plan "p1" at time 0
    Then the sequencer delivers seqs 3

  Scenario: A buffered event whose id was meanwhile delivered at another seq is dropped
    When the sequencer receives events 1 of plan "p1" at time 0
    And the sequencer receives event 3 with id "x" of plan "p1" at time 0
    And the sequencer receives event 2 with id "x" of plan "p1" at time 1
    Then the sequencer delivers seqs 2
    And the sequencer stat duplicates_dropped is 1
    And the sequencer buffers 0 events of plan "p1"
    When the sequencer receives events 4 of plan "p1" at time 1
    Then the sequencer delivers nothing
    And the sequencer next deadline is 3

  Scenario: Events reordered within the window are delivered in seq order
    When the sequencer receives events 1, 3, 2, 5, 4 of plan "p1" at time 0
    Then the sequencer delivers seqs 1, 2, 3, 4, 5
    And the sequencer requests no action
    And the sequencer stat reordered is 2
    And the sequencer stat delivered is 5
    And the sequencer buffers 0 events of plan "p1"
    And the sequencer has no deadline

  Scenario: Events of two plans in one batch keep each plan's order
    Given the sequencer tracks plan "p2"
    When the sequencer receives one batch at time 0 holding:
      | plan | seq |
      | p1   | 1   |
      | p2   | 2   |
      | p1   | 2   |
      | p2   | 1   |
      | p2   | 3   |
      | p1   | 3   |
    Then the sequencer delivers seqs 1, 2, 3 of plan "p1"
    And the sequencer delivers seqs 1, 2, 3 of plan "p2"
    And the sequencer requests no action
    And the sequencer stat delivered is 6

  # --- gaps and their repair ------------------------------------------------------

  Scenario: A gap asks for a resubscribe only after the gap timeout, then waits for the answer
    When the sequencer receives events 1, 2, 4, 5 of plan "p1" at time 0
    Then the sequencer delivers seqs 1, 2
    And the sequencer requests no action
    And the sequencer next deadline is 2
    When the sequencer receives events 6 of plan "p1" at time 1
    Then the sequencer next deadline is 2
    When the sequencer ticks at time 1.99
    Then the sequencer requests no action
    When the sequencer ticks at time 2
    Then the sequencer requests a resubscribe of plan "p1" after "e2" for reason "gap_timeout"
    And the sequencer stat repairs_requested is 1
    And the sequencer next deadline is 12
    When the sequencer ticks at time 5
    Then the sequencer requests no action
    When the sequencer receives events 7 of plan "p1" at time 6
    Then the sequencer requests no action
    When the sequencer ticks at time 11.99
    Then the sequencer requests no action
    When the sequencer ticks at time 12
    Then the sequencer requests a resubscribe of plan "p1" after "e2" for reason "resubscribe_timeout"
    And the sequencer stat repairs_requested is 2
    And the sequencer next deadline is 22

  Scenario: After the resubscription is accepted the replay fills the gap without duplicates
    When the sequencer receives events 1, 2, 4, 5 of plan "p1" at time 0
    And the sequencer ticks at time 2
    And the sequencer is told plan "p1" is subscribed with head 5 "e5" at time 2.5
    Then the sequencer delivers nothing
    And the sequencer requests no action
    And the sequencer next deadline is 4.5
    When the sequencer receives events 3, 4, 5 of plan "p1" at time 3
    Then the sequencer delivers seqs 3, 4, 5
    And the sequencer stat duplicates_dropped is 2
    And the sequencer stat reordered is 2
    And the sequencer has no deadline
    And the sequencer has delivered in total seqs 1, 2, 3, 4, 5 of plan "p1"

  Scenario: A replay that arrives as one batch flushes the buffered events in order
    When the sequencer receives events 1, 3, 5 of plan "p1" at time 0
    And the sequencer ticks at time 2
    And the sequencer is told plan "p1" is subscribed with head 5 "e5" at time 2.5
    And the sequencer receives events 2, 3, 4, 5 of plan "p1" as one batch at time 3
    Then the sequencer delivers seqs 2, 3, 4, 5
    And the sequencer stat duplicates_dropped is 2
    And the sequencer has no deadline

  Scenario: The next deadline is the earliest gap deadline of all plans
    Given the sequencer tracks plan "p2"
    When the sequencer receives events 2 of plan "p2" at time 1
    And the sequencer receives events 3 of plan "p1" at time 1.5
    Then the sequencer next deadline is 3
    When the sequencer ticks at time 3
    Then the sequencer requests a resubscribe of plan "p2" after no event for reason "gap_timeout"
    And the sequencer next deadline is 3.5
    When the sequencer ticks at time 3.5
    Then the sequencer requests a resubscribe of plan "p1" after no event for reason "gap_timeout"
    And the sequencer next deadline is 13

  Scenario: Progress inside a gap restarts the gap clock
    When the sequencer receives events 1, 3, 5 of plan "p1" at time 0
    Then the sequencer next deadline is 2
    When the sequencer receives events 2 of plan "p1" at time 1.5
    Then the sequencer delivers seqs 2, 3
    And the sequencer next deadline is 3.5
    When the sequencer ticks at time 2
    Then the sequencer requests no action
    When the sequencer ticks at time 3.5
    Then the sequencer requests a resubscribe of plan "p1" after "e3" for reason "gap_timeout"

  Scenario: An event beyond the reorder window triggers an immediate repair and is dropped
    When the sequencer receives events 1 of plan "p1" at time 0
    And the sequencer receives events 10 of plan "p1" at time 0
    Then the sequencer delivers nothing
    And the sequencer requests a resubscribe of plan "p1" after "e1" for reason "reorder_overflow"
    And the sequencer stat dropped_beyond_window is 1
    And the sequencer buffers 0 events of plan "p1"
    When the sequencer receives events 9, 3..8, 11..200, 9007199254740991 of plan "p1" at time 1
    Then the sequencer delivers nothing
    And the sequencer requests no action
    And the sequencer stat dropped_beyond_window is 192
    And the sequencer buffers 7 events of plan "p1"
    And the sequencer buffers at most 8 events of plan "p1"
    And the sequencer next deadline is 10
    When the sequencer is told plan "p1" is subscribed with head 200 "e200" at time 2
    And the sequencer receives events 2 of plan "p1" at time 2
    Then the sequencer delivers seqs 2..9
    And the sequencer buffers 0 events of plan "p1"

  # --- resync -----------------------------------------------------------------------

  Scenario: A resync delivers a marker with the snapshot and rebases on the snapshot head
    When the sequencer receives events 1, 2, 4 of plan "p1" at time 0
    And the sequencer receives a resync of plan "p1" for reason "history_expired" with head 10 "e10" at time 1
    Then the sequencer delivers a resync marker of plan "p1" for reason "history_expired" with head 10 "e10"
    And the sequencer resync marker carries the snapshot the server sent
    And the sequencer requests no action
    And the sequencer stat resyncs is 1
    And the sequencer position of plan "p1" is seq 10 at "e10"
    And the sequencer buffers 0 events of plan "p1"
    And the sequencer has no deadline
    When the sequencer receives events 9, 10, 11, 12 of plan "p1" at time 2
    Then the sequencer delivers seqs 11, 12
    And the sequencer requests no action
    And the sequencer stat duplicates_dropped is 2

  Scenario: A resync without a head restarts the plan at seq 1
    When the sequencer receives events 1, 2, 3 of plan "p1" at time 0
    And the sequencer receives a resync of plan "p1" for reason "stream_reset" with no head at time 1
    Then the sequencer delivers a resync marker of plan "p1" for reason "stream_reset" with no head
    And the sequencer position of plan "p1" is seq 0 with no event id
    When the sequencer receives event 1 with id "n1" of plan "p1" at time 2
    Then the sequencer delivers seqs 1
    And the sequencer position of plan "p1" is seq 1 at "n1"

  Scenario: A resync answering a pending repair ends the repair
    When the sequencer receives events 1, 3 of plan "p1" at time 0
    And the sequencer ticks at time 2
    And the sequencer receives a resync of plan "p1" for reason "unknown_event_id" with head 5 "e5" at time 3
    Then the sequencer delivers a resync marker of plan "p1" for reason "unknown_event_id" with head 5 "e5"
    And the sequencer has no deadline
    When the sequencer ticks at time 100
    Then the sequencer requests no action

  # --- heartbeats ---------------------------------------------------------------------

  Scenario: A heartbeat showing a lost tail asks for a resubscribe
    When the sequencer receives events 1, 2 of plan "p1" at time 0
    And the sequencer receives a heartbeat with head 4 "e4" for plan "p1" at time 1
    Then the sequencer requests a resubscribe of plan "p1" after "e2" for reason "tail_lost"
    When the sequencer receives a heartbeat with head 4 "e4" for plan "p1" at time 2
    Then the sequencer requests no action
    When the sequencer is told plan "p1" is subscribed with head 4 "e4" at time 3
    And the sequencer receives events 3, 4 of plan "p1" at time 3
    Then the sequencer delivers seqs 3, 4
    When the sequencer receives a heartbeat with head 4 "e4" for plan "p1" at time 4
    Then the sequencer requests no action
    And the sequencer has no deadline

  Scenario: A heartbeat on a plan with nothing delivered yet asks for the whole stream
    When the sequencer receives a heartbeat with head 1 "e1" for plan "p1" at time 0
    Then the sequencer requests a resubscribe of plan "p1" after no event for reason "tail_lost"

  Scenario: A heartbeat ahead while events are buffered leaves the repair to the gap timer
    When the sequencer receives events 1, 3 of plan "p1" at time 0
    And the sequencer receives a heartbeat with head 3 "e3" for plan "p1" at time 1
    Then the sequencer requests no action
    And the sequencer next deadline is 2

  Scenario: A heartbeat without a head, or for a plan not tracked, changes nothing
    When the sequencer receives events 1, 2 of plan "p1" at time 0
    And the sequencer receives a heartbeat with no head for plan "p1" at time 1
    Then the sequencer requests no action
    When the sequencer receives a heartbeat with head 9 "e9" for plan "ghost" at time 1
    Then the sequencer requests no action

  Scenario Outline: A heartbeat head is compared with what was delivered: <case>
    When the sequencer receives events 1..5 of plan "p1" at time 0
    And the sequencer receives a heartbeat with head <seq> "<event_id>" for plan "p1" at time 1
    Then the sequencer <outcome>

    Examples:
      | case                                | seq | event_id | outcome                                                                        |
      | equal head                          | 5   | e5       | requests no action                                                             |
      | older head we delivered             | 3   | e3       | requests no action                                                             |
      | our seq with another id             | 5   | x5       | requests a resubscribe of plan "p1" after "e5" for reason "stream_reset"       |
      | older seq with an unknown id        | 2   | x2       | requests a resubscribe of plan "p1" after "e5" for reason "stream_reset"       |
      | known id at another seq             | 2   | e4       | requests a resubscribe of plan "p1" after "e5" for reason "stream_reset"       |

  # --- stream resets ----------------------------------------------------------------

  Scenario: A seq regression with new ids after a stream reset asks for a resubscribe and is not delivered
    When the sequencer receives events 1, 2, 3 of plan "p1" at time 0
    And the sequencer receives event 2 with id "n2" of plan "p1" at time 1
    Then the sequencer delivers nothing
    And the sequencer requests a resubscribe of plan "p1" after "e3" for reason "stream_reset"
    When the sequencer receives event 1 with id "n1" of plan "p1" at time 1.5
    Then the sequencer delivers nothing
    And the sequencer requests no action
    When the sequencer is told plan "p1" is subscribed with head 2 "n2" at time 2
    Then the sequencer delivers a resync marker of plan "p1" for reason "stream_reset" with head 2 "n2"
    And the sequencer position of plan "p1" is seq 2 at "n2"
    When the sequencer receives event 3 with id "n3" of plan "p1" at time 3
    Then the sequencer delivers seqs 3
    And the sequencer has delivered in total seqs 1, 2, 3, 3 of plan "p1"

  Scenario: A new id at exactly our seq signals a stream reset
    When the sequencer receives events 1, 2, 3 of plan "p1" at time 0
    And the sequencer receives event 3 with id "n3" of plan "p1" at time 1
    Then the sequencer delivers nothing
    And the sequencer requests a resubscribe of plan "p1" after "e3" for reason "stream_reset"

  Scenario Outline: The subscribed head is compared with what was delivered: <case>
    When the sequencer receives events 1, 2, 3 of plan "p1" at time 0
    And the sequencer is told plan "p1" is subscribed with <head> at time 1
    Then the sequencer <outcome>
    And the sequencer position of plan "p1" is <position>

    Examples:
      | case                          | head          | outcome                                                                          | position          |
      | server ahead                  | head 5 "e5"   | delivers nothing                                                                 | seq 3 at "e3"     |
      | server at our event           | head 3 "e3"   | delivers nothing                                                                 | seq 3 at "e3"     |
      | server behind                 | head 2 "e2"   | delivers a resync marker of plan "p1" for reason "stream_reset" with head 2 "e2" | seq 2 at "e2"     |
      | server at our seq, other id   | head 3 "x3"   | delivers a resync marker of plan "p1" for reason "stream_reset" with head 3 "x3" | seq 3 at "x3"     |
      | server without any event      | no head       | delivers a resync marker of plan "p1" for reason "stream_reset" with no head     | seq 0 with no event id |

  Scenario: A subscribed plan with nothing delivered and no head on the server is fine
    When the sequencer is told plan "p1" is subscribed with no head at time 0
    Then the sequencer delivers nothing
    And the sequencer position of plan "p1" is seq 0 with no event id

  Scenario: Ids older than the dedup window are forgotten while seq-based dedup still drops them
    Given a sequencer with reorder window 8, dedup window 4, gap timeout 2s and resubscribe timeout 10s
    And the sequencer tracks plan "p1"
    When the sequencer receives events 1..10 of plan "p1" at time 0
    Then the sequencer remembers at most 4 event ids of plan "p1"
    And the sequencer remembers event ids "e7, e8, e9, e10" of plan "p1"
    When the sequencer receives events 1, 2, 3, 6 of plan "p1" at time 1
    Then the sequencer delivers nothing
    And the sequencer requests no action
    And the sequencer stat duplicates_dropped is 4
    When the sequencer receives event 7 with id "x7" of plan "p1" at time 1
    Then the sequencer requests a resubscribe of plan "p1" after "e10" for reason "stream_reset"
    And the sequencer remembers at most 4 event ids of plan "p1"

  # --- resuming ------------------------------------------------------------------------

  Scenario: Resuming from an id of unknown seq lets the first event set the baseline
    Given the sequencer tracks plan "p2" resuming after "e10"
    Then the sequencer position of plan "p2" is unknown seq at "e10"
    When the sequencer receives event 10 with id "e10" of plan "p2" at time 0
    Then the sequencer delivers nothing
    And the sequencer stat duplicates_dropped is 1
    When the sequencer receives a heartbeat with head 10 "e10" for plan "p2" at time 0
    Then the sequencer requests no action
    When the sequencer receives events 11, 13, 12 of plan "p2" at time 1
    Then the sequencer delivers seqs 11, 12, 13
    And the sequencer position of plan "p2" is seq 13 at "e13"

  Scenario: Resuming from an id of unknown seq repairs a replay the heartbeat shows was lost
    Given the sequencer tracks plan "p2" resuming after "e10"
    When the sequencer receives a heartbeat with head 12 "e12" for plan "p2" at time 0
    Then the sequencer requests a resubscribe of plan "p2" after "e10" for reason "tail_lost"

  Scenario: Resuming from an id of unknown seq learns the seq from a matching subscribed head
    Given the sequencer tracks plan "p2" resuming after "e10"
    When the sequencer is told plan "p2" is subscribed with head 12 "e12" at time 0
    Then the sequencer position of plan "p2" is unknown seq at "e10"
    When the sequencer is told plan "p2" is subscribed with head 10 "e10" at time 0
    Then the sequencer delivers nothing
    And the sequencer position of plan "p2" is seq 10 at "e10"
    When the sequencer receives events 12 of plan "p2" at time 1
    Then the sequencer delivers nothing
    And the sequencer next deadline is 3

  Scenario: Resuming from an id with a known seq expects the next seq
    Given the sequencer tracks plan "p2" resuming after "e10" at seq 10
    Then the sequencer position of plan "p2" is seq 10 at "e10"
    When the sequencer receives events 12 of plan "p2" at time 0
    Then the sequencer delivers nothing
    And the sequencer next deadline is 2
    When the sequencer receives events 11 of plan "p2" at time 1
    Then the sequencer delivers seqs 11, 12
    And the sequencer has no deadline

  # The id a plan is resumed from was delivered before the resume: like any
  # delivered id it must never be delivered again (protocol §1: at most once).
  Scenario: The resume event id is not delivered again at the next seq (known seq, fast path)
    Given the sequencer tracks plan "p2" resuming after "e10" at seq 10
    When the sequencer receives event 11 with id "e10" of plan "p2" at time 0
    Then the sequencer delivers nothing
    And the sequencer stat duplicates_dropped is 1

  Scenario: The resume event id is not delivered again once the baseline is set (unknown seq)
    Given the sequencer tracks plan "p2" resuming after "e10"
    When the sequencer receives events 11 of plan "p2" at time 0
    And the sequencer receives event 12 with id "e10" of plan "p2" at time 0
    Then the sequencer delivers nothing
    And the sequencer stat duplicates_dropped is 1

  Scenario: The resume event id is not delivered again after a subscribed head taught its seq
    Given the sequencer tracks plan "p2" resuming after "e10"
    When the sequencer is told plan "p2" is subscribed with head 10 "e10" at time 0
    And the sequencer receives event 11 with id "e10" of plan "p2" at time 0
    Then the sequencer delivers nothing
    And the sequencer stat duplicates_dropped is 1

  Scenario: Each plan's position, where a reconnect resumes it, is its last delivered event
    Given the sequencer tracks plan "p2" resuming after "e10"
    And the sequencer tracks plan "p3" resuming after "e7" at seq 7
    And the sequencer tracks plan "p4"
    When the sequencer receives events 1, 2, 4 of plan "p1" at time 0
    Then the sequencer position of plan "p1" is seq 2 at "e2"
    And the sequencer position of plan "p2" is unknown seq at "e10"
    And the sequencer position of plan "p3" is seq 7 at "e7"
    And the sequencer position of plan "p4" is seq 0 with no event id
    And the sequencer next deadline is 2

  # --- subscriptions --------------------------------------------------------------

  Scenario: Frames of a plan that is not tracked are counted and dropped
    When the sequencer receives events 1, 2 of plan "ghost" at time 0
    And the sequencer receives events 3 of plan "ghost" as one batch at time 0
    Then the sequencer delivers nothing
    And the sequencer stat unsolicited is 3
    When the sequencer is told plan "ghost" is subscribed with head 3 "e3" at time 1
    Then the sequencer delivers nothing
    When the sequencer receives a resync of plan "ghost" for reason "history_expired" with head 3 "e3" at time 1
    Then the sequencer delivers nothing
    And the sequencer stat resyncs is 0
    And the sequencer tracks only plans "p1"

  Scenario: An untracked plan's later events are dropped
    Given the sequencer tracks plan "p2"
    When the sequencer receives events 1 of plan "p1" at time 0
    And the sequencer stops tracking plan "p1"
    Then the sequencer tracks only plans "p2"
    When the sequencer receives events 2 of plan "p1" at time 1
    Then the sequencer delivers nothing
    And the sequencer stat unsolicited is 1
    When the sequencer stops tracking plan "p1"
    And the sequencer receives events 1 of plan "p2" at time 2
    Then the sequencer delivers seqs 1 of plan "p2"

  # --- the feed() entry point ---------------------------------------------------------

  Scenario: feed() dispatches every server frame type
    When the sequencer is fed this frame at time 0:
      """
      {"type": "event", "plan_id": "p1", "event_id": "e1", "seq": 1, "ts": "2024-01-01T00:00:00Z",
       "kind": "log", "data": {"level": "info", "message": "m", "stream": "stdout"}}
      """
    Then the sequencer delivers seqs 1
    When the sequencer is fed this frame at time 0:
      """
      {"type": "batch", "events": [
        {"type": "event", "plan_id": "p1", "event_id": "e3", "seq": 3, "ts": "2024-01-01T00:00:03Z",
         "kind": "plan.progress", "data": {"completed_steps": 1, "total_steps": 2, "percent": 50.0}},
        {"type": "event", "plan_id": "p1", "event_id": "e2", "seq": 2, "ts": "2024-01-01T00:00:02Z",
         "kind": "plan.status", "data": {"status": "running"}}]}
      """
    Then the sequencer delivers seqs 2, 3
    When the sequencer is fed this frame at time 0:
      """
      {"type": "event", "plan_id": "p1", "event_id": "e4", "seq": 4, "ts": "2024-01-01T00:00:04Z",
       "kind": "some.future.kind", "data": {"anything": [1, 2]}}
      """
    Then the sequencer delivers seqs 4
    When the sequencer is fed this frame at time 1:
      """
      {"type": "heartbeat", "ts": "2024-01-01T00:00:05Z", "heads": {"p1": {"seq": 6, "event_id": "e6"}, "other": null}}
      """
    Then the sequencer requests a resubscribe of plan "p1" after "e4" for reason "tail_lost"
    When the sequencer is fed this frame at time 2:
      """
      {"type": "subscribed", "id": 7, "plan_id": "p1", "head": {"seq": 6, "event_id": "e6"}}
      """
    Then the sequencer delivers nothing
    And the sequencer requests no action
    And the sequencer has no deadline
    When the sequencer is fed this frame at time 3:
      """
      {"type": "resync", "id": 8, "plan_id": "p1", "reason": "history_expired",
       "snapshot": {"plan_id": "p1", "status": "running", "head": {"seq": 9, "event_id": "e9"},
                    "updated_at": "2024-01-01T00:00:09Z"}}
      """
    Then the sequencer delivers a resync marker of plan "p1" for reason "history_expired" with head 9 "e9"
    When the sequencer is fed this frame at time 4:
      """
      {"type": "hello", "protocol": 1, "schema": "1.0", "server": "ref/1", "session_id": "s1",
       "heartbeat_s": 15.0, "max_frame_bytes": 1048576}
      """
    Then the sequencer delivers nothing
    And the sequencer requests no action
    When the sequencer is fed this frame at time 4:
      """
      {"type": "pong", "id": 3, "ts": "2024-01-01T00:00:10Z"}
      """
    Then the sequencer delivers nothing
    And the sequencer requests no action
    When the sequencer is fed this frame at time 4:
      """
      {"type": "error", "id": 4, "plan_id": "p1", "code": "not_found", "message": "no such plan"}
      """
    Then the sequencer delivers nothing
    And the sequencer requests no action
    When the sequencer is fed this frame at time 4:
      """
      {"type": "unsubscribed", "id": 5, "plan_id": "p1"}
      """
    Then the sequencer delivers nothing
    And the sequencer requests no action
    And the sequencer stat delivered is 4
    And the sequencer stat resyncs is 1

  # --- construction ------------------------------------------------------------------

  Scenario Outline: The constructor rejects an invalid <parameter>
    When a sequencer is built with reorder window <reorder>, dedup window <dedup>, gap timeout <gap>s and resubscribe timeout <resub>s
    Then building the sequencer fails with a ValueError mentioning "<parameter>"

    Examples:
      | parameter           | reorder | dedup | gap  | resub |
      | reorder_window      | 0       | 16    | 2    | 10    |
      | reorder_window      | -3      | 16    | 2    | 10    |
      | dedup_window        | 8       | 0     | 2    | 10    |
      | gap_timeout         | 8       | 16    | 0    | 10    |
      | gap_timeout         | 8       | 16    | -1.5 | 10    |
      | resubscribe_timeout | 8       | 16    | 2    | 0     |

  Scenario: The smallest windows are accepted and still sequence correctly
    When a sequencer is built with reorder window 1, dedup window 1, gap timeout 0.001s and resubscribe timeout 0.001s
    Then building the sequencer succeeds
    Given the sequencer tracks plan "p1"
    When the sequencer receives events 1, 2, 1, 2 of plan "p1" at time 0
    Then the sequencer has delivered in total seqs 1, 2 of plan "p1"
    When the sequencer receives events 4 of plan "p1" at time 0
    Then the sequencer requests a resubscribe of plan "p1" after "e2" for reason "reorder_overflow"
