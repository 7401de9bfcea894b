Feature: The client moves between several server nodes and resumes exactly
  A client may know several URLs of one deployment (`ClientSettings.urls`,
  `PLANSTREAM_URLS`): nodes that share one event log. It sticks to a node
  that works; a failed connect or a node going away moves it to the next URL
  at once (round robin); only after a full round of failures does it wait a
  backoff delay (protocol §4), and a node's `retry_after` rests that node
  only. On the new node it re-subscribes every plan from its last event
  (protocol §3), so the user gets every event exactly once, in order.

  The pure connection machine is fed times and a seeded randomness (exact
  numbers); the live scenarios run two or three embedded reference servers on
  127.0.0.1 that share ONE MemoryEventLog object.

  # --- settings --------------------------------------------------------------------------

  Scenario: Several URLs come from an argument, a comma list or a JSON list, and win over url
    Then multi-node client settings give these endpoints:
      | source                                  | endpoints                                                      |
      | url ws://a:1                            | ws://a:1/v1/stream                                             |
      | urls ws://a:1 wss://b/ps/v1/stream      | ws://a:1/v1/stream wss://b/ps/v1/stream                        |
      | url ws://x:9 and urls ws://a:1 ws://b:2 | ws://a:1/v1/stream ws://b:2/v1/stream                          |
      | env ws://a:1, ws://b:2 ,ws://c:3        | ws://a:1/v1/stream ws://b:2/v1/stream ws://c:3/v1/stream       |
      | env ["ws://a:1", "wss://b:2"]           | ws://a:1/v1/stream wss://b:2/v1/stream                         |
      | env (empty)                             | ws://127.0.0.1:8765/v1/stream                                  |
    And a multi-node client's TLS context is used for its wss:// URLs only

  Scenario: Every URL of the list obeys the URL rules, and a bad list names PLANSTREAM_URLS without echoing it
    Then multi-node URL lists are refused like this:
      | urls                                  | message                             |
      | ws://a:1,ftp://b:2                    | ws:// or wss://                     |
      | ws://a:1,ws://robot:S3cr3t-pw@b:2     | must not carry credentials          |
      | ws://a:1,ws://b:2/?token=S3cr3t-pw    | must not carry credentials          |
      | ws://a:1,ws://a:1/v1/stream           | lists the same URL twice            |
      | ["ws://a:1", "ws://b:2"               | neither a JSON list nor             |
      | []                                    | at least one URL                    |
      | 65 URLs                               | more than 64 URLs                   |

  Scenario: A URL argument of the client wins over PLANSTREAM_URLS; a urls argument wins over both
    Given the PLANSTREAM environment variable "PLANSTREAM_URLS" is "ws://env-a:1,ws://env-b:2"
    Then a multi-node client built with url "ws://arg:3" uses the endpoints "ws://arg:3/v1/stream"
    And a multi-node client built with urls "ws://u:1 ws://u:2" uses the endpoints "ws://u:1/v1/stream ws://u:2/v1/stream"
    And a multi-node client built with nothing uses the endpoints "ws://env-a:1/v1/stream ws://env-b:2/v1/stream"
    And the CLI's default --url leaves PLANSTREAM_URLS in force, a --url given wins over it, and no --url at all is refused

  # --- the pure policy ------------------------------------------------------------------------

  Scenario: A failure moves to the next node at once; a full round of failures draws one backoff delay
    Given a multi-node machine over 3 nodes, backoff initial 1 and factor 2
    When the multi-node machine starts at 0
    Then the multi-node machine says connect to node 0 at 0
    When the multi-node machine fails with close code 1006 at 1
    Then the multi-node machine says connect to node 1 at 1
    When the multi-node machine fails with close code 1006 at 2
    Then the multi-node machine says connect to node 2 at 2
    When the multi-node machine fails with close code 1006 at 3
    Then the multi-node machine says connect to node 0 at 4
    And the multi-node machine attempt counter is 1
    When the multi-node machine fails with close code 1006 at 4
    And the multi-node machine fails with close code 1006 at 4
    And the multi-node machine fails with close code 1006 at 4
    Then the multi-node machine says connect to node 0 at 6
    And the multi-node machine attempt counter is 2

  Scenario: The machine sticks to a working node; nodes that accept and drop at once still back off every round
    Given a multi-node machine over 3 nodes, backoff initial 1 and factor 2
    And the multi-node machine resets its attempts after 10 healthy seconds
    When the multi-node machine starts at 0
    And the multi-node machine fails with close code 1006 at 0
    And the multi-node machine connects at 1
    Then the multi-node machine's node is 1
    When the multi-node machine fails with close code 1012 at 2
    Then the multi-node machine says connect to node 2 at 2
    When the multi-node machine connects at 2
    And the multi-node machine fails with close code 1001 at 3
    Then the multi-node machine says connect to node 0 at 4
    When the multi-node machine connects at 4
    And the multi-node machine fails with close code 1001 at 40
    Then the multi-node machine says connect to node 1 at 40
    And the multi-node machine attempt counter is 0

  Scenario: A node's retry_after rests that node only; when every node rests the earliest one is awaited
    Given a multi-node machine over 3 nodes, backoff initial 1 and factor 2
    When the multi-node machine starts at 0
    And the multi-node machine fails with close code 1013 and reason '{"retry_after": 20}' at 0
    Then the multi-node machine says connect to node 1 at 0
    When the multi-node machine fails with close code 1006 at 1
    And the multi-node machine fails with close code 1006 at 2
    Then the multi-node machine says connect to node 1 at 3
    When the multi-node machine fails with close code 1006 at 3
    Then the multi-node machine says connect to node 2 at 3
    When the multi-node machine fails with an upgrade refusal HTTP 503 with Retry-After 30 at 4
    Then the multi-node machine says connect to node 1 at 6
    When the multi-node machine fails with close code 4029 and reason '{"retry_after": 10}' at 6
    Then the multi-node machine says connect to node 1 at 16

  Scenario: When every node rests, the one whose rest ends first is awaited, wherever it is in the list
    Given a multi-node machine over 2 nodes, backoff initial 1 and factor 2
    When the multi-node machine starts at 0
    And the multi-node machine fails with close code 1013 and reason '{"retry_after": 5}' at 0
    Then the multi-node machine says connect to node 1 at 0
    When the multi-node machine fails with close code 1013 and reason '{"retry_after": 50}' at 0
    Then the multi-node machine says connect to node 0 at 5

  Scenario: max_attempts counts full rounds of failures, not single nodes
    Given a multi-node machine over 2 nodes, backoff initial 1 and factor 2
    And the multi-node machine gives up after 1 attempt
    When the multi-node machine starts at 0
    And the multi-node machine fails with close code 1006 at 0
    And the multi-node machine fails with close code 1006 at 0
    Then the multi-node machine says connect to node 0 at 1
    When the multi-node machine fails with close code 1006 at 1
    Then the multi-node machine says connect to node 1 at 1
    When the multi-node machine fails with close code 1006 at 1
    Then the multi-node machine says stop with a RetriesExhaustedError

  Scenario: Falling back to polling polls the node that refused last; the WebSocket probes go round the ring
    Given a multi-node machine over 3 nodes, backoff initial 1 and factor 2
    When the multi-node machine starts at 0
    And the multi-node machine fails with an upgrade refusal HTTP 502 at 0
    And the multi-node machine fails with an upgrade refusal HTTP 502 at 1
    Then the multi-node machine says poll node 1 from 1, probing node 2 at 31
    When a multi-node poll fails with a refused connection at 2
    Then the multi-node machine says poll node 1 again at 3
    When the multi-node probe fails with a refused connection at 31
    Then the multi-node machine says probe node 0 at 61
    When the multi-node probe connects at 61
    Then the multi-node machine's node is 0
    And the multi-node machine is "open"

  Scenario: A connection machine needs at least one node
    Then a multi-node machine over 0 nodes is refused with "at least one node"

  # --- live: embedded servers sharing one log ---------------------------------------------

  Scenario: A refused first URL, then a node stopped mid-stream: every event exactly once, in order, no Resync
    Given 2 reference servers sharing one memory log
    And a multi-node client with the URLs "refused, node 1, node 2"
    When the multi-node client subscribes to plan "job" from the start
    And 10 multi-node events are published to plan "job" through node 2
    And the multi-node client has received 10 items of plan "job"
    Then the multi-node client is connected to node 1
    When 40 multi-node events are published to plan "job" through node 2 while node 1 stops
    And a "succeeded" status is published to plan "job" through node 2
    Then the multi-node stream of plan "job" ends as "1..51"
    And the multi-node client is connected to node 2
    And the multi-node client's first failure was a ConnectionLostError
    And the multi-node client's stat "resyncs" is 0
    And the multi-node client's retry delays are all 0

  Scenario: All nodes down, then one back: the client backs off after each full round, then resumes exactly
    Given 2 reference servers sharing one memory log
    And a multi-node client with the URLs "node 1, node 2" and a backoff of 0.2 s without jitter
    When the multi-node client subscribes to plan "job" from the start
    And 5 multi-node events are published to plan "job" through node 1
    And the multi-node client has received 5 items of plan "job"
    And node 2 stops
    And node 1 stops
    And 5 multi-node events are appended to the shared log of plan "job"
    And the multi-node client has reported 4 failures
    And node 2 starts again on its port
    And a "succeeded" status is published to plan "job" through node 2
    Then the multi-node stream of plan "job" ends as "1..11"
    And the multi-node client is connected to node 2
    And the multi-node client's retry delays alternate between 0 and 0.2 s
    And the multi-node client's stat "resyncs" is 0

  Scenario: planstream watch takes --url several times and streams through the node that answers
    Given 2 reference servers sharing one memory log
    And 3 multi-node events are published to plan "cli-job" through node 1
    And a "succeeded" status is published to plan "cli-job" through node 1
    When planstream watch --json runs for plan "cli-job" with a --url for each of "refused, node 2"
    Then the planstream command exits with status 0
    And the multi-node watch printed the events of seqs 1 to 4 of plan "cli-job", each once
