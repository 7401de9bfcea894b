Feature: PlanPublisher publishes typed events from Python, each exactly once
  A program publishes with `await publisher.publish(plan_id, LogData(...))`:
  the kind follows from the model, the token goes in the header, and each
  logical publish carries one Idempotency-Key (protocol §6) that every retry
  sends again, so a retry after a lost answer never appends twice. What
  retrying cannot fix is raised at once, typed.

  Scenario: Typed data of every kind is published and arrives with the SDK
    Given a reference server with settings
      | setting        | value  |
      | tokens         | reader |
      | publish_tokens | writer |
    When the publisher publishes to plan "pub-all" with token "writer":
      | kind          | data                                                                         |
      | plan.status   | {"status": "running"}                                                        |
      | step.status   | {"step_id": "s1", "index": 0, "name": "build", "status": "running"}          |
      | log           | {"level": "info", "message": "compiling", "stream": "stdout", "step_id": "s1"} |
      | plan.progress | {"completed_steps": 1, "total_steps": 2, "percent": 50}                      |
      | plan.status   | {"status": "succeeded"}                                                      |
    Then the publisher got seqs 1 to 5 back, each with an event id
    And a client subscribed to plan "pub-all" with token "reader" receives exactly those events, typed

  Scenario: publish_many appends a list atomically and answers each position in order
    Given a reference server
    When the publisher publishes 3 log lines to plan "pub-many" in one publish_many
    Then the publisher got seqs 1 to 3 back, each with an event id
    And the reference server's plan "pub-many" holds 3 events
    And publish_many of no event returns no position and publishes nothing to plan "pub-many"

  Scenario Outline: A retry after a <fault> appends nothing twice
    Given a reference server
    And an HTTP fault proxy in front of it that plays "<script>"
    When the publisher publishes a log line to plan "<plan>" through the proxy with a request timeout of 1 s
    Then the proxy saw 2 POST requests carrying the same Idempotency-Key
    And the reference server's plan "<plan>" holds 1 events
    And the publisher got seq 1 back, the position the server gave the first request

    Examples:
      | fault                              | script   | plan        |
      | timeout (the answer never comes)   | withhold | pub-timeout |
      | dropped answer (connection closed) | drop     | pub-drop    |

  Scenario: A caller's own idempotency key makes publishing again harmless
    Given a reference server
    When the publisher publishes a log line to plan "pub-key" with idempotency key "job-7-line-1"
    And the publisher publishes a log line to plan "pub-key" with idempotency key "job-7-line-1"
    Then both publishes got the same position
    And the reference server's plan "pub-key" holds 1 events

  Scenario: A 429 is retried no sooner than its Retry-After
    Given a reference server
    And an HTTP fault proxy in front of it that plays "429 1"
    When the publisher publishes a log line to plan "pub-429" through the proxy with a request timeout of 5 s
    Then the proxy saw 2 POST requests carrying the same Idempotency-Key
    And the second request came at least 1.0 s after the first
    And the reference server's plan "pub-429" holds 1 events

  Scenario: A server that stays unavailable ends in a retryable error naming the key
    Given a reference server
    And an HTTP fault proxy in front of it that plays "503, 503, 503"
    When the publisher publishes a log line to plan "pub-503" through the proxy, 3 attempts at most
    Then the publish failed with RequestRetriesExhaustedError after 3 attempts, a RetryableError
    And the error's last error is a ServerUnavailableError and its text names the idempotency key
    And the proxy saw 3 POST requests carrying the same Idempotency-Key
    And the reference server's plan "pub-503" holds 0 events

  Scenario: A server that never answers in time ends within the deadline
    Given a reference server
    And an HTTP fault proxy in front of it that plays "withhold, withhold, withhold, withhold"
    When the publisher publishes a log line to plan "pub-slow" through the proxy with a deadline of 1.5 s and a request timeout of 0.5 s
    Then the publish failed with RequestRetriesExhaustedError, its last error a ConnectionLostError
    And the publish took less than 5 s

  Scenario Outline: What retrying cannot fix fails at once, typed: <case>
    Given a reference server with settings
      | setting         | value  |
      | tokens          | reader |
      | publish_tokens  | writer |
      | max_frame_bytes | 4096   |
    And plan "pub-ended" was published on the reference server: 1 steps, then "succeeded"
    When the publisher sends <data> to plan "<plan>" with token "<token>"
    Then the publish failed at once with <error> containing "<text>"

    Examples:
      | case           | data                   | plan      | token  | error               | text                                     |
      | 400 too large  | a log line of 5000 "x" | pub-big   | writer | RequestRefusedError | HTTP 400 bad_request: event data larger than |
      | 401 bad token  | a log line             | pub-auth  | nobody | AuthenticationError | HTTP 401 unauthorized                    |
      | 403 read token | a log line             | pub-auth  | reader | ForbiddenError      | HTTP 403 forbidden: this token may not publish |
      | 409 plan ended | a log line             | pub-ended | writer | PlanEndedError      | HTTP 409 conflict: plan 'pub-ended' has ended |

  Scenario: A token provider is asked again after a 401, and the publish goes through
    Given a reference server with settings
      | setting        | value  |
      | publish_tokens | writer |
    When the publisher with a token provider answering "stale", then "writer" publishes a log line to plan "pub-refresh"
    Then the token provider was asked 2 times
    And the reference server's plan "pub-refresh" holds 1 events

  Scenario: The token never shows in the publisher's repr, errors or log
    Given a reference server with settings
      | setting        | value  |
      | publish_tokens | writer |
    When the publisher with token "s3cret-pub-token" publishes a log line to plan "pub-secret", logging at DEBUG
    Then the publish failed at once with AuthenticationError containing "HTTP 401"
    And neither the publisher's repr, the error nor the log holds "s3cret-pub-token"

  Scenario: mypy --strict accepts the data models and refuses anything else
    When mypy --strict checks this use of PlanPublisher:
      """
      from planstream import (
          LogData, LogLevel, LogStream, PlanPublisher, PublishedEvent, StepStatus, StepStatusData,
      )

      async def main(publisher: PlanPublisher) -> None:
          log = LogData(level=LogLevel.INFO, message="hi", stream=LogStream.STDOUT)
          placed: PublishedEvent = await publisher.publish("plan-1", log)
          step = StepStatusData(step_id="a", index=0, name="A", status=StepStatus.RUNNING)
          many = await publisher.publish_many("plan-1", [step, log])
          print(placed.seq, [one.event_id for one in many])
          await publisher.publish("plan-1", {"level": "info"})  # expect-error
          await publisher.publish("plan-1", "log")  # expect-error
          await publisher.publish("plan-1", log, idempotency_key=7)  # expect-error
          not_an_int: int = await publisher.publish("plan-1", log)  # expect-error
      """
    Then mypy reports errors on exactly the lines marked expect-error
