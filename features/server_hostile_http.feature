Feature: The HTTP half and the event log under hostile input (issue 10, items 1, 2, 5, 6)
  Whatever a reader or a publisher sends over HTTP is answered with the JSON
  error of protocol §6 (or a resync), never a 500 or a plain-text body; plan
  ids follow protocol §1 on every route; a finished plan's stream is closed
  (409); publishers are rate limited per token (429); finished plans are
  forgotten plan_ttl after their terminal status, and the plan list comes a
  page at a time. In paths, {prefix} is the id of the plan's event 1 without
  its seq, {N digits} that many 9s, {N x} that many "x".

  Scenario: Hostile ids on every route get a JSON 400 or a resync, never a 500 (items 1-2)
    Given a reference server
    And 1 events were published to plan "target"
    Then these hostile HTTP requests get these JSON answers:
      | method | path                                                | status | answer           |
      | GET    | /v1/plans/target/events?after={prefix}.{5000 digits} | 400    | bad_request      |
      | GET    | /v1/plans/target/events?after={prefix}.²             | 200    | unknown_event_id |
      | GET    | /v1/plans/target/events?after={prefix}.{100 digits}  | 200    | unknown_event_id |
      | GET    | /v1/plans/target/events?after={129 x}                | 400    | bad_request      |
      | GET    | /v1/plans/target/events?after={128 x}                | 200    | unknown_event_id |
      | GET    | /v1/plans/a%2Fb/events                               | 400    | bad_request      |
      | GET    | /v1/plans/a/b/events                                 | 400    | bad_request      |
      | POST   | /v1/plans/a%2Fb/events                               | 400    | bad_request      |
      | GET    | /v1/plans/a/b                                        | 400    | bad_request      |
      | POST   | /v1/plans/%20/events                                 | 400    | bad_request      |
      | POST   | /v1/plans/a%00b/events                               | 400    | bad_request      |
      | POST   | /v1/plans/a%E2%80%AEb/events                         | 400    | bad_request      |
      | GET    | /v1/plans/{257 x}                                    | 400    | bad_request      |
      | GET    | /v1/plans/{257 x}/events                             | 400    | bad_request      |
      | POST   | /v1/plans/{257 x}/events                             | 400    | bad_request      |
      | GET    | /v1/plans/{256 x}                                    | 404    | not_found        |
      | GET    | /v1/plans?limit=abc                                  | 400    | bad_request      |
      | GET    | /v1/plans?limit=0                                    | 400    | bad_request      |
      | GET    | /v1/plans?limit=1001                                 | 400    | bad_request      |
      | GET    | /v1/plans?cursor={129 x}                             | 400    | bad_request      |
      | GET    | /v1/plans?cursor=not-ours                            | 400    | bad_request      |
    And the HTTP plan list is just "target"

  Scenario: A fault of the server's own is a JSON 503 with Retry-After and one rate-limited log line (item 1)
    Given a reference server whose event log fails to fold or evict plan "boom", with plan_ttl 0.2
    When the snapshot of plan "boom" is fetched 40 times over HTTP
    Then every one of those answers is 503 "unavailable" with a Retry-After header
    And the server logged at most 15 lines about it, counted the others, and no traceback
    And a second later one more failure logs a line counting the suppressed ones
    And the snapshot of plan "fine" is still served
    When a publisher declares a body of 1000 bytes for plan "fine", sends 10 and hangs up
    Then the server logged no more fault lines and plan "fine" has head seq 1 over HTTP
    When plans "boom" and "fine" finish
    Then within 10 seconds the snapshot of plan "fine" is a 404 "not_found"
    And the server logged one line about failing to evict plan "boom"

  Scenario: A finished plan's stream is closed, atomically, and publishes are checked for consistency (item 5)
    Given a reference server
    When the publisher POSTs to plan "done":
      """
      [{"kind": "plan.status", "data": {"status": "running"}}, {"kind": "plan.status", "data": {"status": "succeeded"}}]
      """
    Then the publisher got 201 with the ids of plan "done" for seqs 1 to 2
    When the publisher POSTs a "plan.status" event with data {"status": "running"} to plan "done"
    Then the HTTP error is 409 "conflict" mentioning "plan 'done' has ended with status succeeded"
    When the publisher POSTs to plan "tail":
      """
      [{"kind": "plan.status", "data": {"status": "failed"}}, {"kind": "log", "data": {"level": "info", "message": "after", "stream": "stdout"}}]
      """
    Then the HTTP error is 409 "conflict" mentioning "item 1 follows the terminal status 'failed' of item 0"
    And plan "tail" has no events over HTTP
    When 12 publishers POST a log line and "succeeded" to plan "race" at once
    Then exactly 1 of those publishes got 201 and the other 11 got 409 "conflict"
    And plan "race" has head seq 2 over HTTP
    When the HTTP snapshot of plan "done" is fetched
    Then the HTTP snapshot has status "succeeded" and progress null
    And each of these publisher POSTs of one event to plan "bounds" is refused with 400 bad_request:
      | kind          | data                                                                           | mention                                                      |
      | step.status   | {"step_id": "s", "index": -1, "name": "x", "status": "running"}                | invalid data for 'step.status': index: must be 0 or more     |
      | step.status   | {"step_id": "s", "index": 9223372036854775808, "name": "x", "status": "running"} | invalid data for 'step.status': index                        |
      | plan.progress | {"completed_steps": 5, "total_steps": 2, "percent": 50}                        | completed_steps: 5 is more than total_steps (2)              |
      | plan.progress | {"completed_steps": 1000000000000000000000000000000, "total_steps": 1, "percent": 1} | invalid data for 'plan.progress': completed_steps |
    And plan "bounds" has no events over HTTP

  Scenario: Publishers are rate limited per token with 429 and Retry-After (item 5)
    Given a reference server with settings
      | setting        | value           |
      | publish_tokens | pub-a,pub-b     |
      | publish_rate   | 0.1             |
      | publish_burst  | 5               |
    And the HTTP client authenticates with the token "pub-a"
    When the publisher with token "pub-a" POSTs 8 log events to plan "flood", one request each
    Then the first 5 of those got 201 and the other 3 got 429 "rate_limited" with a Retry-After of at least 1 second
    When the publisher with token "pub-b" POSTs 1 log events to plan "flood", one request each
    Then the first 1 of those got 201 and the other 0 got 429 "rate_limited" with a Retry-After of at least 1 second
    And plan "flood" has head seq 6 over HTTP
    And the server keeps 2 publish rate buckets, holding no token

  Scenario: The publish rate limiter keeps one bucket per token, bounded, forgetting full ones first
    Given a publish rate limiter of 2 per second, burst 3, for at most 2 tokens
    When token "a" publishes 4 times at second 0
    Then the last of those waits 0.5 seconds
    When token "b" publishes 1 times at second 0
    And token "c" publishes 1 times at second 0
    Then the limiter keeps 2 buckets
    When token "d" publishes 1 times at second 10
    Then the limiter keeps 1 buckets

  Scenario: Finished plans are evicted after plan_ttl; their ids then resync (item 6)
    Given a reference server with settings
      | setting  | value |
      | plan_ttl | 0.3   |
    When the publisher POSTs to plan "gone":
      """
      [{"kind": "plan.status", "data": {"status": "running"}}, {"kind": "plan.status", "data": {"status": "cancelled"}}]
      """
    And the publisher POSTs a "plan.status" event with data {"status": "running"} to plan "live"
    Then within 10 seconds the snapshot of plan "gone" is a 404 "not_found"
    And the HTTP plan list is just "live"
    When plan "gone" is polled over HTTP with "after=#2"
    Then the poll resync reason is "unknown_event_id" with the snapshot of plan "gone"
    And the poll head is null
    When the publisher POSTs a "plan.status" event with data {"status": "queued"} to plan "gone"
    Then the new event 1 of plan "gone" has an id the evicted stream never had
    When plan "gone" is polled over HTTP with "after=#2"
    Then the poll resync reason is "stream_reset" with the snapshot of plan "gone"
    When the publisher POSTs a "plan.status" event with data {"status": "failed"} to plan "live"
    Then within 10 seconds the snapshot of plan "live" is a 404 "not_found"
    And the server has evicted 2 plans and waits for no other deadline

  Scenario: A follower of a plan whose id is reused after eviction is told the stream restarted
    Given a reference server with settings
      | setting  | value |
      | plan_ttl | 0.3   |
    When a follower subscribes over the WebSocket to plan "again" from its start
    And the publisher POSTs to plan "again":
      """
      [{"kind": "plan.status", "data": {"status": "running"}}, {"kind": "plan.status", "data": {"status": "succeeded"}}]
      """
    Then the follower receives events 1 to 2 of plan "again"
    And within 10 seconds the snapshot of plan "again" is a 404 "not_found"
    When the publisher POSTs a "plan.status" event with data {"status": "queued"} to plan "again"
    Then the follower next receives a "stream_reset" resync of plan "again" with no head, then event 1 with status "queued"

  Scenario: The plan list comes a page at a time, each plan once, and the CLI follows the pages (item 6)
    Given a reference server with settings
      | setting  | value |
      | plan_ttl | 0.3   |
    And 105 plans "page-1" to "page-105" have one event each
    When the plan list is walked 40 plans a page; after the first page plan "page-new" is created and plan "page-60" finishes and is evicted
    Then the walk saw 3 pages with a next_cursor on all but the last
    And the walk listed the plans "page-1" to "page-105" but "page-60", then "page-new", each once
    When the HTTP plan list is fetched
    Then the HTTP plan list has 100 plans and a next_cursor
    When the planstream command runs "plans --url {url}"
    Then the planstream command exits with status 0
    And the planstream plans table lists 105 plans
