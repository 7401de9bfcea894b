Feature: The Redis event log answers as the memory log does (issue 11)
  RedisEventLog implements the EventLog interface: resume points of every kind
  of id, the closed-plan rules, the paged plan list and evictions answer as
  in MemoryEventLog, only with ids that outlive any server node.

  @redis
  Scenario: The same calls to both logs get the same answers
    Given a Redis event log and a memory event log
    When the same appends, resumes, pages and evictions go to both
    Then both logs answer alike

  Scenario: A Redis URL is a secret: refused without being echoed, and never shown
    Then PLANSTREAM_SERVER_REDIS_URL "http://:pw-123@h:1/0" is refused without "pw-123" in the error
    And the Redis log of "rediss://user:pw-123@h:6380/2" shows itself as "RedisEventLog('rediss://h:6380/2', retention=10000)"
