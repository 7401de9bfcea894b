Feature: The scale-out guide shows real commands and running code
  docs/guide/scale_out.md is what operators copy from: its planstream command
  lines use options the commands have, its sizing figure names the command
  that measured it, and its Python blocks run against a real redis-server.

  Scenario: The scale-out guide's commands use real options and its figure has its command
    Given the text of the guide "docs/guide/scale_out.md"
    Then every planstream command line of the guide uses options the command has
    And the guide's commands include "--redis" and "--redis-cluster"
    And the guide quotes "bytes of Redis `used_memory` per retained event" after the command "python benchmarks/redis_log_bench.py"

  @redis
  Scenario: The scale-out guide's Python blocks run against a real Redis
    Given a Redis server
    And the text of the guide "docs/guide/scale_out.md"
    Then every Python block of the guide runs in a fresh interpreter with PLANSTREAM_SERVER_REDIS_URL set
