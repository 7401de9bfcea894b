Feature: Idempotent publishing (protocol §6)
  A publisher that retries sends Idempotency-Key: <key> (1-128 printable ASCII)
  on POST /v1/plans/{plan_id}/events. The server keeps, per plan, each key
  with a digest of the request body and the 201 answer it gave: a repeat with
  the same body appends nothing and answers the first 201 body again with
  Idempotent-Replayed: true; the same key with another body is 422
  idempotency_key_reused. A refused publish stores no key; keys die with their
  plan. The memory log checks the key and appends in one atomic step, so a
  repeat never finds the first publish half done.

  Scenario: A retried publish with the same key appends once and replays the first answer
    Given a reference server
    When the publisher POSTs with Idempotency-Key "publish-1" 3 log events to plan "retry"
    Then the answer is 201 with seqs 1 to 3 of plan "retry", not marked as replayed
    When the publisher POSTs the same request again
    Then the answer is the first answer byte for byte, marked "Idempotent-Replayed: true"
    And plan "retry" holds 3 events over HTTP
    When the publisher POSTs with Idempotency-Key "publish-2" 3 log events to plan "retry"
    Then the answer is 201 with seqs 4 to 6 of plan "retry", not marked as replayed
    When the publisher POSTs with Idempotency-Key "publish-1" 3 log events to plan "other"
    Then the answer is 201 with seqs 1 to 3 of plan "other", not marked as replayed
    And plan "retry" holds 6 events over HTTP

  Scenario: The same key with another body is 422 and the key still names the first publish
    Given a reference server
    When the publisher POSTs with Idempotency-Key "k" 2 log events to plan "reuse"
    And the publisher POSTs with Idempotency-Key "k" 5 log events to plan "reuse"
    Then the HTTP error is 422 "idempotency_key_reused" mentioning "another request body"
    When the publisher POSTs with Idempotency-Key "k" 2 log events to plan "reuse"
    Then the answer is 201 with seqs 1 to 2 of plan "reuse", marked as replayed
    And plan "reuse" holds 2 events over HTTP

  Scenario Outline: A malformed Idempotency-Key is 400 and appends nothing
    Given a reference server
    When the publisher POSTs with the malformed Idempotency-Key <header> 1 log events to plan "keys"
    Then the HTTP error is 400 "bad_request" mentioning "<problem>"
    And plan "keys" holds 0 events over HTTP

    Examples:
      | header           | problem                 |
      | empty            | must not be empty       |
      | of 129 chars     | at most 128 characters  |
      | "clé" in UTF-8   | printable ASCII         |
      | "a<TAB>b"        | printable ASCII         |
      | "one" and "two"  | one header, not several |

  Scenario: The longest key and keys with inner spaces and punctuation are accepted
    Given a reference server
    When the publisher POSTs with an Idempotency-Key of 128 characters 1 log events to plan "keys"
    Then the answer is 201 with seqs 1 to 1 of plan "keys", not marked as replayed
    When the publisher POSTs with Idempotency-Key "order 7: ~!@#$%^&*()" 1 log events to plan "keys"
    Then the answer is 201 with seqs 2 to 2 of plan "keys", not marked as replayed
    When the publisher POSTs with Idempotency-Key "order 7: ~!@#$%^&*()" 1 log events to plan "keys"
    Then the answer is 201 with seqs 2 to 2 of plan "keys", marked as replayed

  Scenario: Only the newest idempotency_keys_per_plan keys are kept; the oldest is new again
    Given a reference server with settings
      | setting                   | value |
      | idempotency_keys_per_plan | 3     |
    When the publisher POSTs one log event under each of the keys "a", "b", "c", "d" to plan "bound"
    And the publisher POSTs with Idempotency-Key "b" 1 log events to plan "bound"
    Then the answer is 201 with seqs 2 to 2 of plan "bound", marked as replayed
    When the publisher POSTs with Idempotency-Key "d" 1 log events to plan "bound"
    Then the answer is 201 with seqs 4 to 4 of plan "bound", marked as replayed
    When the publisher POSTs with Idempotency-Key "a" 1 log events to plan "bound"
    Then the answer is 201 with seqs 5 to 5 of plan "bound", not marked as replayed
    And plan "bound" holds 5 events over HTTP

  Scenario: The memory log keeps at least the newest 10,000 keys of a plan, in bounded memory
    Given a memory event log retaining 1 event per plan
    When 10001 keyed events are appended to plan "many", each under a key of its own
    Then the key of event 1 is forgotten and the keys of events 2 and 10001 replay
    And with a bound of 1000 keys, 1000 more keyed events grow the traced memory by less than a tenth of what the first 1000 keys took
    And a bound of 0 keys is refused, by the log and by the server's settings

  Scenario: Identical requests racing append exactly once
    Given a reference server
    When 20 identical requests with Idempotency-Key "race" POST 4 log events to plan "race" at once
    Then exactly one answer appended and 19 are replays, all 20 bodies byte for byte the same
    And plan "race" holds 4 events over HTTP

  Scenario: A retried final publish is replayed, not refused, and after eviction its key is new again
    Given a reference server with settings
      | setting  | value |
      | plan_ttl | 0.3   |
    When the publisher POSTs with Idempotency-Key "finish" a terminal status to plan "done"
    Then the answer is 201 with seqs 1 to 1 of plan "done", not marked as replayed
    When the publisher POSTs the same request again
    Then the answer is the first answer byte for byte, marked "Idempotent-Replayed: true"
    And within 10 seconds the snapshot of plan "done" is a 404 "not_found"
    When the publisher POSTs the same request again
    Then the answer is 201 with seqs 1 to 1 of plan "done", not marked as replayed
    And its event id is not the one the evicted stream gave

  Scenario: A refused publish stores no key
    Given a reference server with settings
      | setting        | value |
      | publish_tokens | p1,p2 |
      | publish_rate   | 0.01  |
      | publish_burst  | 6     |
    And the HTTP client authenticates with the token "p2"
    When the publisher POSTs one log event under each of the keys "s1", "s2", "s3", "s4", "s5", "s6" to plan "spare"
    And the publisher POSTs with Idempotency-Key "k429" 1 log events to plan "refused"
    Then the HTTP error is 429 "rate_limited" mentioning "retry in"
    Given the HTTP client authenticates with the token "p1"
    When the publisher POSTs with Idempotency-Key "k400" the raw body `{"kind": "log"}` to plan "refused"
    Then the HTTP error is 400 "bad_request" mentioning "data"
    When the publisher POSTs with Idempotency-Key "k413" a body of 8388609 bytes to plan "refused"
    Then the HTTP error is 413 "too_large" mentioning "body larger"
    And plan "refused" holds 0 events over HTTP
    When the publisher POSTs one log event under each of the keys "k400", "k413", "k429" to plan "refused"
    Then each of those answers was 201, not marked as replayed
    When the publisher POSTs the same request again
    Then the answer is the first answer byte for byte, marked "Idempotent-Replayed: true"
    And plan "refused" holds 3 events over HTTP

  Scenario: A publish refused because the plan has ended stores no key
    Given a reference server
    When the publisher POSTs with Idempotency-Key "end" a terminal status to plan "ended"
    And the publisher POSTs with Idempotency-Key "late" 1 log events to plan "ended"
    Then the HTTP error is 409 "conflict" mentioning "closed"
    When the publisher POSTs with Idempotency-Key "late" 2 log events to plan "ended"
    Then the HTTP error is 409 "conflict" mentioning "closed"
    When the publisher POSTs with Idempotency-Key "end" a terminal status to plan "ended"
    Then the answer is 201 with seqs 1 to 1 of plan "ended", marked as replayed

  Scenario: The embedded publish takes an idempotency key too
    Given a reference server with settings
      | setting   | value |
      | retention | 1     |
    When the embedded publisher publishes log "first" to plan "embedded" with key "e1"
    And the embedded publisher publishes log "first" to plan "embedded" with key "e1"
    Then both embedded publishes returned the same stored event, seq 1
    And plan "embedded" holds 1 events over HTTP
    When the embedded publisher publishes log "second" to plan "embedded" with key "e1"
    Then the embedded publish failed with IdempotencyKeyReusedError
    When the embedded publisher publishes log "x" to plan "embedded" with key "café"
    Then the embedded publish failed with PublishError mentioning "printable ASCII"
    When the embedded publisher publishes log "second" to plan "embedded" with key "e2"
    And the embedded publisher publishes log "first" to plan "embedded" with key "e1"
    Then the embedded publish failed with IdempotentReplay of seq 1, no longer retained

  Scenario: planstream publish --idempotency-key can be run again without duplicating
    Given a reference server
    When the planstream command runs "publish cli-key --stdin --idempotency-key run-7 --url {http_url}" with this input
      """
      {"kind": "plan.status", "data": {"status": "running"}}
      {"kind": "log", "data": {"level": "info", "message": "first", "stream": "stdout"}}
      """
    And the planstream command runs "publish cli-key --stdin --idempotency-key run-7 --url {http_url}" with this input
      """
      {"kind": "plan.status", "data": {"status": "running"}}
      {"kind": "log", "data": {"level": "info", "message": "first", "stream": "stdout"}}
      {"kind": "log", "data": {"level": "info", "message": "second", "stream": "stdout"}}
      """
    Then the planstream command exits with status 0
    And the planstream command printed 1 lines starting with "published plan.status to cli-key as seq 1 "
    And the planstream command printed 1 lines starting with "published log to cli-key as seq 3 "
    And the reference server's plan "cli-key" holds the kinds "plan.status, log, log"
