Feature: The protocol's limits, the token bucket and the log limiter are pure rules both sides share
  protocol §1 and §2 fix the id limits and the heartbeat clamp; the server's
  rate limits and every peer-driven log line are bounded by small pure pieces
  that take the time as an argument.

  Scenario Outline: A plan id or a last_event_id is judged by protocol §1, naming the rule and never the id
    When the <field> <value> is checked against protocol §1
    Then the problem is "<problem>"

    Examples:
      | field         | value          | problem                                                           |
      | plan id       | "build-42:a@b" | none                                                              |
      | plan id       | the number 7   | plan_id must be a string, not int                                 |
      | plan id       | ""             | plan_id must not be empty                                         |
      | plan id       | 257 "a"s       | plan_id is 257 characters; at most 256 are allowed                |
      | plan id       | "a/b"          | plan_id may only hold ASCII letters, digits and . _ : @ -         |
      | last_event_id | "abc.12"       | none                                                              |
      | last_event_id | the number 7   | last_event_id must be a string, not int                           |
      | last_event_id | ""             | last_event_id must not be empty (use None to start from the beginning) |
      | last_event_id | 129 "a"s       | last_event_id is 129 characters; at most 128 are allowed          |

  Scenario: The heartbeat clamp keeps hello.heartbeat_s within 1 and 300 seconds
    Then clamping heartbeats 1e300, 0.001, 15 gives 300, 1, 15

  Scenario: A token bucket spends its burst, then refills at its rate, and says how long to wait
    Given a token bucket of rate 2 per second and burst 3 at time 0
    Then taking 4 tokens at time 0 waits 0, 0, 0, 0.5
    And the bucket is not full at time 1 but full at time 2
    And its repr is "TokenBucket(rate=2, burst=3, tokens=0.00)"
    And a token bucket of rate 0 or burst 0 is refused

  Scenario: A log limiter lets a burst through per window and counts the rest once
    Given a log limiter of 2 lines per 10 seconds
    Then asking it at times 0, 1, 2, 3 allows, allows, silences, silences
    And nothing is overdue at time 5, but 2 silenced lines are overdue at time 12, and none after
    And asking it at time 13 allows with 0 silenced lines mentioned
    And its repr is "LogLimiter(interval=10, burst=2, suppressed=0)"
    And a log limiter of interval 0 or burst 0 is refused
