Feature: The hand-over from replay to live delivery under concurrent publishing
  Clients subscribe (from the start, from an old event, from the newest event)
  while a task in the same event loop publishes thousands of events. Each
  client must see exactly the seq range after its resume point up to the last
  event published: no gap, no duplicate, in order.

  Scenario Outline: Raw clients subscribing during a flood of <count> events (<pattern>) see every event exactly once
    Given a reference server
    And 500 events were published to plan "race"
    When <count> more events are published to plan "race" (<pattern>) while these raw clients subscribe to the stream:
      | client | resume after | subscribes after |
      | s0     | start        | 0                |
      | s1     | start        | 1                |
      | m1     | seq 250      | 17               |
      | n1     | newest       | 200              |
      | s2     | start        | 777              |
      | m2     | seq 499      | 1000             |
      | n2     | newest       | 1499             |
      | s3     | start        | 2222             |
      | n3     | newest       | 2999             |
      | end    | newest       | <count>          |
    And 5 events are published to plan "race"
    Then every raw client of the flood received plan "race" exactly once and in order, from its resume point to seq <last>

    Examples:
      | count | pattern                         | last |
      | 3000  | yielding after every event      | 3505 |
      | 3000  | yielding after every 13 events  | 3505 |
      | 3000  | appending 50 events at a time   | 3505 |
      | 3000  | yielding after random runs      | 3505 |

  Scenario: Twenty raw clients subscribing at random moments of a flood of 3000 events all see every event exactly once
    Given a reference server
    And 100 events were published to plan "herd"
    When 3000 more events are published to plan "herd" (yielding after every 3 events) while 20 raw clients subscribe to the stream at random moments from random resume points
    And 5 events are published to plan "herd"
    Then every raw client of the flood received plan "herd" exactly once and in order, from its resume point to seq 3105

  Scenario Outline: With an event log that answers like a networked one, subscribers during a flood (<pattern>) still see every event exactly once
    Given a reference server whose event log answers like a networked one
    And 500 events were published to plan "race"
    When 3000 more events are published to plan "race" (<pattern>) while these raw clients subscribe to the stream:
      | client | resume after | subscribes after |
      | s0     | start        | 0                |
      | m1     | seq 250      | 17               |
      | n1     | newest       | 200              |
      | s2     | start        | 777              |
      | m2     | seq 499      | 1000             |
      | n2     | newest       | 1499             |
      | n3     | newest       | 2999             |
      | end    | newest       | 3000             |
    Then every raw client of the flood received plan "race" exactly once and in order, from its resume point to seq 3500

    Examples:
      | pattern                        |
      | yielding after every event     |
      | yielding after every 13 events |
      | yielding after random runs     |

  Scenario: With an event log that answers like a networked one, a raw client resuming from the newest event gets events appended while it subscribes, with no later event to push them
    Given a reference server whose event log answers like a networked one
    And raw client "a" connects to the stream
    When raw client "a" resumes fresh plans from their newest event while 1 to 3 events trickle in after 0 to 12 loop turns
    Then raw client "a" received every trickled event of every plan, without any later event being published
