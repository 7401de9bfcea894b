@redis
Feature: The Redis event log answers as the memory log does (issue 11)
  RedisEventLog implements the EventLog interface: resume points of every kind
  of id, the closed-plan rules, the paged plan list and evictions answer as
  in MemoryEventLog, only with ids that outlive any server node.

  Scenario: The same calls to both logs get the same answers
    Given a Redis event log and a memory event log
    When the same appends, resumes, pages and evictions go to both
    Then both logs answer alike
