Feature: The router tells the connection what changed, never on the in-order path
  The pure router (it imports no asyncio) tells the asyncio layer what to wake
  for through its RouterSignals: frames were queued to send (outbox_ready), a
  plan was subscribed or unsubscribed (channels_changed), and the sequencer may
  have set an earlier deadline (deadline_changed). The last one wakes the
  connection's watchdog, so it is said only where a deadline can be created:
  out-of-order events, repairs, subscribe answers, heartbeats that start a
  repair. Events that arrive in order, one per frame or batched, say nothing.

  Background:
    Given a router with queue size 16 on a live connection
    And the router's signals are recorded

  Scenario: Subscribing and leaving queue frames and change the channels
    When router subscriber "A" attaches to plan "p"
    Then the router signalled "outbox_ready, channels_changed"
    When router subscriber "A" leaves
    Then the router signalled "channels_changed, outbox_ready"

  Scenario: Events in order, one per frame or batched, signal nothing
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    Then the router signalled "outbox_ready, channels_changed"
    When the router receives events 1 to 3 of plan "p" one frame each
    And the router receives events 4 to 8 of plan "p" in one batch
    Then the router signalled "nothing"
    And router subscriber "A" takes "1,2,3,4,5,6,7,8"

  Scenario: An event after a gap starts the gap timer, and says so
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 1 of plan "p" one frame each
    Then the router signalled "outbox_ready, channels_changed"
    When the router receives events 3 to 3 of plan "p" one frame each
    Then the router signalled "deadline_changed"
    When the router receives events 5 to 6 of plan "p" in one batch
    Then the router signalled "deadline_changed"
    And router subscriber "A" takes "1"

  Scenario: A heartbeat signals only when it starts a repair
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 2 of plan "p" one frame each
    Then the router signalled "outbox_ready, channels_changed"
    When the router receives the frame {"type": "heartbeat", "ts": "2024-01-01T00:00:09Z", "heads": {"p": {"seq": 2, "event_id": "e2"}}}
    Then the router signalled "nothing"
    When the router receives the frame {"type": "heartbeat", "ts": "2024-01-01T00:00:10Z", "heads": {"p": {"seq": 4, "event_id": "e4"}}}
    Then the router signalled "outbox_ready, deadline_changed"
    And the router sent "subscribe#1 p after -, subscribe#2 p after e2"
