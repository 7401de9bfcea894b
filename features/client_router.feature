Feature: The client's stream router: one subscription per plan on the wire, many subscribers
  The router sits between the connection and the user's iterators. It sends
  one ``subscribe`` per plan however many local subscribers it has, starts
  tracking a plan only when the server answers the latest request for it,
  rewinds slow and late subscribers through the server's replay, and ends a
  plan's subscribers when the server refuses it. It does no I/O: these
  scenarios feed it decoded frames and poll answers and read what it queues
  to send, and the subscribers are the real iterators users hold.

  Scenario: Subscribers of one plan share one subscription, and the last to leave unsubscribes
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p"
    And router subscriber "B" attaches to plan "p"
    Then the router sent "subscribe#1 p after -"
    When the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 3 of plan "p" one frame each
    Then router subscriber "A" takes "1,2,3"
    And router subscriber "B" takes "1,2,3"
    When router subscriber "A" leaves
    Then the router sent "nothing"
    When router subscriber "B" leaves
    Then the router sent "unsubscribe#2 p"
    And the router tracks no plan

  Scenario: A subscriber joining at the live position shares the stream without a re-subscription
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 3 of plan "p" in one batch
    And router subscriber "B" attaches to plan "p" after event "e3"
    Then the router sent "subscribe#1 p after -"
    When the router receives events 4 to 5 of plan "p" in one batch
    Then router subscriber "A" takes "1,2,3,4,5"
    And router subscriber "B" takes "4,5"

  Scenario: A subscriber joining behind the live position is replayed to, the others see nothing twice
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 4 of plan "p" one frame each
    And router subscriber "B" attaches to plan "p" after event "e2"
    Then the router sent "subscribe#1 p after -, subscribe#2 p after e2"
    When the router receives events 5 to 5 of plan "p" one frame each
    And the router receives the frame {"type": "subscribed", "id": 2, "plan_id": "p", "head": {"seq": 5, "event_id": "e5"}}
    And the router receives events 3 to 6 of plan "p" one frame each
    Then router subscriber "A" takes "1,2,3,4,5,6"
    And router subscriber "B" takes "3,4,5,6"

  Scenario: A subscriber joining while the answer is pending, from a position it cannot order, waits for the answer
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p" after event "e5"
    And router subscriber "B" attaches to plan "p" after event "e2"
    Then the router sent "subscribe#1 p after e5"
    And router subscriber "B" waits for a rewind
    When the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": {"seq": 5, "event_id": "e5"}}
    And router subscriber "B" looks for an item
    Then the router sent "subscribe#2 p after e2"
    When the router receives the frame {"type": "subscribed", "id": 2, "plan_id": "p", "head": {"seq": 5, "event_id": "e5"}}
    And the router receives events 3 to 6 of plan "p" one frame each
    Then router subscriber "B" takes "3,4,5,6"
    And router subscriber "A" takes "6"
    And the router counted 0 rewinds

  Scenario: A subscriber rewinding behind one not yet placed in the stream waits for the next delivery
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p" after event "e5"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": {"seq": 7, "event_id": "e7"}}
    And router subscriber "B" attaches to plan "p" after event "e2"
    Then the router sent "subscribe#1 p after e5"
    And router subscriber "B" waits for a rewind
    When the router receives events 6 to 7 of plan "p" one frame each
    And router subscriber "B" looks for an item
    Then the router sent "subscribe#2 p after e2"
    When the router receives the frame {"type": "subscribed", "id": 2, "plan_id": "p", "head": {"seq": 7, "event_id": "e7"}}
    And the router receives events 3 to 7 of plan "p" in one batch
    Then router subscriber "B" takes "3,4,5,6,7"
    And router subscriber "A" takes "6,7"
    And the router counted 0 rewinds

  Scenario: A fresh subscriber joining a pending resume re-subscribes from the start
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 3 of plan "p" one frame each
    And the connection is replaced
    Then the router sent "subscribe#2 p after e3"
    When router subscriber "B" attaches to plan "p"
    Then the router sent "subscribe#3 p after -"
    When the router receives the frame {"type": "subscribed", "id": 2, "plan_id": "p", "head": {"seq": 3, "event_id": "e3"}}
    And the router receives events 1 to 1 of plan "p" one frame each
    And the router receives the frame {"type": "subscribed", "id": 3, "plan_id": "p", "head": {"seq": 3, "event_id": "e3"}}
    And the router receives events 1 to 4 of plan "p" one frame each
    Then router subscriber "B" takes "1,2,3,4"
    And router subscriber "A" takes "1,2,3,4"

  Scenario: A slow subscriber overflows its queue, takes what is queued, then is rewound losslessly
    Given a router with queue size 2 on a live connection
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 4 of plan "p" one frame each
    Then router subscriber "A" has 2 items queued and has overflowed 1 time
    And router subscriber "A" takes "1,2"
    When router subscriber "A" looks for an item
    Then the router sent "subscribe#1 p after -, subscribe#2 p after e2"
    And the router counted 1 rewind
    When the router receives events 5 to 5 of plan "p" one frame each
    And the router receives the frame {"type": "subscribed", "id": 2, "plan_id": "p", "head": {"seq": 5, "event_id": "e5"}}
    And the router receives events 3 to 4 of plan "p" in one batch
    And the router receives events 2 to 4 of plan "p" one frame each
    Then router subscriber "A" takes "3,4"
    And router subscriber "A" resumes after "e4"

  Scenario: A batch larger than the queue still makes progress
    Given a router with queue size 2 on a live connection
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 5 of plan "p" in one batch
    Then router subscriber "A" has 2 items queued and has overflowed 1 time
    And router subscriber "A" takes "1,2"

  Scenario: A resync taken by a slow subscriber is where its rewind resumes from
    Given a router with queue size 1 on a live connection
    When router subscriber "A" attaches to plan "p" after event "gone"
    Then the router sent "subscribe#1 p after gone"
    When the router receives the frame {"type": "resync", "id": 1, "plan_id": "p", "reason": "history_expired", "snapshot": {"plan_id": "p", "head": {"seq": 7, "event_id": "e7"}, "status": "running"}}
    And the router receives events 8 to 8 of plan "p" one frame each
    Then router subscriber "A" takes "resync@7"
    And router subscriber "A" resumes after "e7"
    When router subscriber "A" looks for an item
    Then the router sent "subscribe#2 p after e7"
    When the router receives the frame {"type": "subscribed", "id": 2, "plan_id": "p", "head": {"seq": 8, "event_id": "e8"}}
    And the router receives events 8 to 8 of plan "p" one frame each
    Then router subscriber "A" takes "8"
    And router subscriber "A" resumes after "e8"
    And the router counted 1 rewind

  Scenario: Answers to superseded requests and to plans nobody follows are ignored
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p"
    And the connection is replaced
    Then the router sent "subscribe#2 p after -"
    When the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": {"seq": 9, "event_id": "e9"}}
    And the router receives the frame {"type": "subscribed", "id": 7, "plan_id": "other", "head": null}
    And the router receives events 1 to 2 of plan "p" one frame each
    Then router subscriber "A" has 0 items queued and has overflowed 0 times
    When the router receives the frame {"type": "subscribed", "id": 2, "plan_id": "p", "head": null}
    And the router receives events 1 to 2 of plan "p" one frame each
    Then router subscriber "A" takes "1,2"

  Scenario: An error answering a subscribe request ends that plan's subscribers only
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p"
    And router subscriber "B" attaches to plan "q"
    And the router receives the frame {"type": "error", "id": 1, "code": "too_many_subscriptions", "message": "at most 1"}
    Then router subscriber "A" ends with SubscriptionError "too_many_subscriptions"
    And the router still subscribes plan "q" for router subscriber "B"
    When the router receives the frame {"type": "subscribed", "id": 2, "plan_id": "q", "head": null}
    And the router receives events 1 to 1 of plan "q" one frame each
    Then router subscriber "B" takes "1"

  Scenario: A server error tied to no subscription is logged and changes nothing
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "error", "id": 99, "code": "bad_request", "message": "unknown frame type"}
    Then the router logged a warning containing "server error bad_request: unknown frame type"
    And the router still subscribes plan "p" for router subscriber "A"
    When the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 1 of plan "p" one frame each
    Then router subscriber "A" takes "1"

  Scenario: Repairs the sequencer asks for while offline wait for the next connection
    Given a router with queue size 8 on a live connection
    When router subscriber "A" attaches to plan "p"
    And the router receives the frame {"type": "subscribed", "id": 1, "plan_id": "p", "head": null}
    And the router receives events 1 to 1 of plan "p" one frame each
    And the connection is lost
    And the router receives the frame {"type": "heartbeat", "ts": "2024-01-01T00:00:09Z", "heads": {"p": {"seq": 4, "event_id": "e4"}}}
    Then the router sent "nothing"
    When the connection is replaced
    Then the router sent "subscribe#2 p after e1"
    When the router receives the frame {"type": "heartbeat", "ts": "2024-01-01T00:00:09Z", "heads": {"p": {"seq": 4, "event_id": "e4"}}}
    Then the router sent "nothing"

  Scenario: While polling, answers feed the same stream and stale answers are dropped
    Given a router with queue size 8 while polling
    When router subscriber "A" attaches to plan "p"
    Then the router sent "nothing"
    And the router's next poll of plan "p" is generation 1 after "-"
    When a poll answer for plan "p" made at generation 1 brings events 1 to 3
    Then the router's next poll of plan "p" is generation 1 after "e3"
    When router subscriber "B" attaches to plan "p" after event "e1"
    Then the router's next poll of plan "p" is generation 2 after "e1"
    When a poll answer for plan "p" made at generation 1 brings events 4 to 4
    And a poll answer for plan "p" made at generation 2 brings events 2 to 4
    Then router subscriber "A" takes "1,2,3,4"
    And router subscriber "B" takes "2,3,4"
    When a poll answer for plan "p" made at generation 2 brings a resync at head 9
    Then router subscriber "A" takes "resync@9"
    When router subscriber "A" leaves
    And router subscriber "B" leaves
    Then the router has no next poll of plan "p"
    And the router sent "nothing"
