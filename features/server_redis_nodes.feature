@redis
Feature: Three server nodes on one Redis: a node killed, Redis down, nothing lost (issue 11)
  Three server nodes share one ``redis-server``: ``python -m planstream.server``
  processes where one is killed, embedded nodes (server_redis.feature's) else.
  Publishers use node A; real clients subscribe on B and C with every node's
  URL (their own first). When node B dies with SIGKILL its clients move to
  another node and resume from their last event id (protocol §5); when Redis
  is down, publishes are retried with their Idempotency-Key (protocol §6) until
  one answers 201. Every subscriber must get every event exactly once and in
  order, with no Resync: the lost and duplicated counts are printed.

  Scenario: Node B is killed with SIGKILL mid-stream: its clients move to C and resume exactly
    Given a Redis server
    And server node processes "A,B,C" sharing it
    When subscribers "b1,b2" on node "B" and "c1" on node "C" follow plan "kill" with every node's URL
    And 40 log events of plan "kill" are published through node "A", node "B" killed with SIGKILL after 15 of them
    And plan "kill" ends "succeeded" through node "A"
    Then every subscriber got seqs 1 to 41 exactly once, in order, no Resync: 0 lost, 0 duplicated
    And node "B" died of SIGKILL and its subscribers are now on node "C"

  Scenario: Redis down for 3 s while publishes are retried through A and C: nothing lost
    Given a Redis server with AOF
    And server nodes "A,B,C" sharing it
    When subscribers "b1" on node "B" and "c1,c2" on node "C" follow plan "down" with every node's URL
    And 40 keyed log events of plan "down" are published through nodes "A,C", retried until 201, Redis down for 3 s after 10 of them
    And plan "down" ends "succeeded" through node "C"
    Then some publishes were refused while Redis was down, each was appended once
    And every subscriber got seqs 1 to 41 exactly once, in order, no Resync: 0 lost, 0 duplicated
