@redis
Feature: Several server nodes share one Redis event log (issue 11)
  Every node reads and appends the same Redis Streams: a subscriber on any
  node gets every event exactly once and in order, and event ids stay valid
  through node and Redis restarts (exact resume, no resync).

  Scenario: Two nodes: publish on A, subscribers on A and B get everything once, in order
    Given a Redis server
    And server nodes "A,B" sharing it
    When a subscriber "a" on node "A" follows plan "p1"
    And a subscriber "b" on node "B" follows plan "p1"
    And 20 log events of plan "p1" are published through node "A"
    And plan "p1" ends "succeeded" through node "A"
    Then subscriber "a" got seqs 1 to 21 exactly once, in order, no Resync
    And subscriber "b" got seqs 1 to 21 exactly once, in order, no Resync
    And publishing plan "p1" through node "A" answers 409
    And publishing plan "p1" through node "B" answers 409
    And node "B" lists 1 plans and plan "p1" ends "succeeded"

  Scenario: Every node restarts, then Redis restarts (AOF): exact resume, no resync
    Given a Redis server with AOF
    And server nodes "A,B" sharing it
    When a subscriber "first" on node "A" follows plan "p2"
    And 5 log events of plan "p2" are published through node "B"
    And plan "p2" ends "failed" through node "B"
    Then subscriber "first" got seqs 1 to 6 exactly once, in order, no Resync
    When every node restarts
    And a subscriber "again" on node "B" resumes plan "p2" after seq 3 of "first"
    Then subscriber "again" got seqs 4 to 6 exactly once, in order, no Resync
    When Redis stops
    And Redis starts again
    And a subscriber "later" on node "A" resumes plan "p2" after seq 2 of "first"
    Then subscriber "later" got seqs 3 to 6 exactly once, in order, no Resync

  Scenario: Redis down: 503 with Retry-After, clients stay, nothing lost after it returns
    Given a Redis server with AOF
    And server nodes "A,B" sharing it
    When a subscriber "b" on node "B" follows plan "p3"
    And 3 log events of plan "p3" are published through node "A"
    And Redis stops
    Then publishing plan "p3" through node "A" is refused with 503 and a Retry-After
    When Redis starts again
    And 3 log events of plan "p3" are published through node "A"
    And plan "p3" ends "succeeded" through node "A"
    Then subscriber "b" got seqs 1 to 7 exactly once, in order, no Resync

  Scenario: A node whose notifications were cut catches up by seq, losing nothing
    Given a Redis server
    And server nodes "A,B" sharing it
    When a subscriber "b" on node "B" follows plan "p4"
    And a subscriber "idle" on node "B" follows plan "never-published"
    And 2 log events of plan "p4" are published through node "A"
    And someone else publishes "hello there" on the notification channel
    And Redis drops every node's notification connection
    And 3 log events of plan "p4" are published through node "A"
    And plan "p4" ends "succeeded" through node "A"
    Then subscriber "b" got seqs 1 to 6 exactly once, in order, no Resync

  Scenario: A finished plan is forgotten plan_ttl after its end, on every node and in Redis
    Given a Redis server
    And the nodes forget finished plans after 1 s
    And server nodes "A,B" sharing it
    When a subscriber "b" on node "B" follows plan "ttl"
    And 2 log events of plan "ttl" are published through node "A"
    And plan "ttl" ends "cancelled" through node "A"
    Then subscriber "b" got seqs 1 to 3 exactly once, in order, no Resync
    And within 10 s node "B" lists 0 plans and Redis holds no key of "ttl"
    And resuming plan "ttl" after seq 2 of "b" on node "B" gets a Resync "unknown_event_id"

  Scenario: A subscribe while Redis is down gets error internal; once Redis is back it streams
    Given a Redis server with AOF
    And server nodes "A,B" sharing it
    When 2 log events of plan "p5" are published through node "A"
    And Redis stops
    And a subscriber "early" on node "B" follows plan "p5"
    Then subscriber "early" failed with error internal from node "B", which kept serving
    When Redis starts again
    And a subscriber "b" on node "B" follows plan "p5"
    And plan "p5" ends "succeeded" through node "A"
    Then subscriber "b" got seqs 1 to 3 exactly once, in order, no Resync

  Scenario: Two publishers racing through two nodes get gap-free seqs
    Given a Redis server
    And server nodes "A,B" sharing it
    When nodes "A" and "B" each publish 40 log events of plan "race" at once
    Then the racing publishers got every seq from 1 to 80 exactly once
    And node "A" has plan "race" at seq 80
    And node "B" has plan "race" at seq 80

  Scenario: A publish retried through another node with its Idempotency-Key appends once
    Given a Redis server
    And server nodes "A,B" sharing it
    When node "A" publishes 2 log events of plan "idem" with Idempotency-Key "k-1"
    And node "B" publishes 2 log events of plan "idem" with Idempotency-Key "k-1"
    And node "B" publishes 1 log events of plan "idem" with Idempotency-Key "k-1"
    And node "A" publishes 1 log events of plan "idem" with Idempotency-Key "k-2"
    Then the keyed publishes answered 201,201,422,201; the second replayed the first
    And node "B" has plan "idem" at seq 3

  Scenario: A three-master Redis Cluster carries plans of every slot
    Given a three-master Redis Cluster
    And server nodes "A,B" sharing it
    When a subscriber "b" on node "B" follows plan "c1"
    And 5 log events of plan "c1" are published through node "A"
    And plan "c1" ends "succeeded" through node "A"
    And 2 log events of plan "c2" are published through node "B"
    And 2 log events of plan "c3" are published through node "A"
    Then subscriber "b" got seqs 1 to 6 exactly once, in order, no Resync
    And publishing plan "c1" through node "B" answers 409
    And node "B" lists 3 plans and plan "c1" ends "succeeded"

  Scenario: planstream serve --redis: the URL's password never reaches the output
    Given a Redis server requiring the password "s3cret-pw"
    When "planstream serve --redis URL" runs on a free port
    Then publishing plan "cli" through it answers 201, and its output never holds "s3cret-pw"
