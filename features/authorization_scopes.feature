Feature: Per-plan permissions: scoped readers and publishers on every route (issue 16)
  A principal carries a plan scope per action (read, publish): glob patterns
  over the plan id alphabet. Every check goes through server/authorization.py:
  a subscribe outside the read scope gets `error` `forbidden` for that
  subscription only; poll and snapshot answer 403; a publish outside the
  publish scope answers 403; GET /v1/plans lists only readable plans, and its
  pages stay exact. The answer outside the scope never depends on whether the
  plan exists (reading 46). The servers here use a scripted token verifier
  returning these principals (JWTs and API keys produce the same principals).

  Background:
    Given a reference server whose token verifier knows these principals:
      | token   | read               | publish  |
      | team-a  | team-a:*           |          |
      | team-b  | team-b:* ci-?      | team-b:* |
      | feeder  | *                  | *        |
      | nothing |                    |          |

  Scenario: Plan scopes: "*" is any run (":" included), "?" one character, nothing else is special
    Then plan scopes allow exactly these plans:
      | patterns         | plan id          | allowed |
      | team-a:*         | team-a:build:42  | yes     |
      | team-a:*         | team-a:          | yes     |
      | team-a:*         | team-a           | no      |
      | team-a:*         | team-b:1         | no      |
      | team-a:*         | x-team-a:1       | no      |
      | ci-?             | ci-7             | yes     |
      | ci-?             | ci-              | no      |
      | ci-?             | ci-77            | no      |
      | a.b              | a.b              | yes     |
      | a.b              | axb              | no      |
      | *:release        | web:api:release  | yes     |
      | *:release        | web:api:release2 | no      |
      | *                | anything@all-1   | yes     |
      | team-a:* ci-?    | ci-1             | yes     |
      | team-a:* ci-?    | team-b:1         | no      |
      | (none)           | team-a:1         | no      |

  Scenario: Plan scopes: bad patterns are refused with a clear error, good ones are normalised
    Then building a plan scope from these patterns fails naming the problem:
      | patterns      | problem                      |
      | ""            | non-empty string             |
      | "team a"      | not in the plan id alphabet  |
      | "team/a:*"    | not in the plan id alphabet  |
      | "plan[1]"     | not in the plan id alphabet  |
      | 42            | non-empty string             |
      | "x" * 513     | at most 512 characters       |
    And a plan scope of "b a b" keeps "b, a", is neither empty nor everything
    And a plan scope of "team-a:* * ci-?" is everything, shown as "*"
    And an empty plan scope is empty, allows nothing and is shown as "(no plan)"

  Scenario: A forbidden subscription fails alone; the connection and the allowed subscription stay
    Given plans "team-a:1" and "team-b:1" each have 2 events
    When "team-a" opens a WebSocket and subscribes to "team-b:1" then "team-a:1"
    Then the subscription to "team-b:1" is answered error "forbidden" echoing its request id
    And the subscription to "team-a:1" is answered "subscribed" and replays 2 events
    When 1 more event is published to "team-a:1" and 1 more to "team-b:1"
    Then that WebSocket receives event 3 of "team-a:1" and nothing of "team-b:1"
    And that WebSocket still answers a ping
    And the server counted 1 refused request in auth_failures

  Scenario: A subscription to a plan outside the scope is forbidden whether or not the plan exists
    Given plan "team-b:1" has 1 event
    When "team-a" opens a WebSocket and subscribes to "team-b:1" then "team-b:never"
    Then both subscriptions are answered error "forbidden" with the same message but the plan id
    When "team-a" subscribes on that WebSocket to "team-a:later"
    Then the subscription to "team-a:later" is answered "subscribed" and replays 0 events

  Scenario Outline: The SDK ends a forbidden plan's subscription alone, the other plan streams on (<transport>)
    Given plans "team-a:1" and "team-b:1" each have 2 events
    When an SDK client with the token "team-a" in transport "<transport>" subscribes to "team-b:1" and "team-a:1"
    Then its subscription to "team-b:1" ends with SubscriptionError "forbidden"
    And its subscription to "team-a:1" receives seq 1 to 2
    When 1 more event is published to "team-a:1" and 1 more to "team-b:1"
    Then its subscription to "team-a:1" receives seq 3
    And the SDK client is still "<state>"

    Examples:
      | transport | state   |
      | websocket | open    |
      | polling   | polling |

  Scenario: A poll refused 403 for a plan no longer followed changes nothing
    Then a stream router told that a poll of "team-b:1" was forbidden, with no subscription to it, keeps no plan and raises nothing

  Scenario: A token that may read no plan is refused at the upgrade with 403
    When "nothing" opens a WebSocket
    Then the upgrade was refused with 403 "forbidden" "this token may not read"

  Scenario: Poll and snapshot outside the read scope are 403, existing plan or not; inside, 404 only for a plan that does not exist
    Given plans "team-a:1" and "team-b:1" each have 2 events
    Then "team-a" gets these answers:
      | request                              | status | error     | message mentions                     |
      | GET /v1/plans/team-a:1               | 200    |           |                                      |
      | GET /v1/plans/team-a:1/events        | 200    |           |                                      |
      | GET /v1/plans/team-a:missing         | 404    | not_found | team-a:missing                       |
      | GET /v1/plans/team-b:1               | 403    | forbidden | may not read plan 'team-b:1'         |
      | GET /v1/plans/team-b:1/events        | 403    | forbidden | may not read plan 'team-b:1'         |
      | GET /v1/plans/team-b:missing         | 403    | forbidden | may not read plan 'team-b:missing'   |
      | GET /v1/plans/team-b:missing/events  | 403    | forbidden | may not read plan 'team-b:missing'   |
      | GET /v1/plans/bad%20id               | 400    | bad_request |                                    |
    And "nothing" gets these answers:
      | request                              | status | error     | message mentions                     |
      | GET /v1/plans/team-a:1               | 403    | forbidden | this token may not read              |
      | GET /v1/plans                        | 403    | forbidden | this token may not read              |
    And "anyone-else" gets these answers:
      | request                              | status | error        | message mentions                  |
      | GET /v1/plans/team-a:1               | 401    | unauthorized | missing or invalid bearer token   |

  Scenario: Publishers are limited to their patterns; a token with no publish scope keeps today's answer
    Given plan "team-a:1" has 1 event
    Then "team-b" gets these answers:
      | request                              | status | error     | message mentions                     |
      | POST /v1/plans/team-b:9/events       | 201    |           |                                      |
      | POST /v1/plans/team-a:1/events       | 403    | forbidden | may not publish plan 'team-a:1'      |
      | POST /v1/plans/team-a:new/events     | 403    | forbidden | may not publish plan 'team-a:new'    |
      | POST /v1/plans/ci-1/events           | 403    | forbidden | may not publish plan 'ci-1'          |
      | POST /v1/plans/bad%20id/events       | 400    | bad_request |                                    |
    And "team-a" gets these answers:
      | request                              | status | error     | message mentions                     |
      | POST /v1/plans/team-a:1/events       | 403    | forbidden | this token may not publish           |
    And plan "team-a:1" still has 1 event and plan "team-a:new" none

  Scenario Outline: GET /v1/plans lists only readable plans, each exactly once over full pages (<log> log)
    Given the scoped server's event log is the <log> log
    And 16 plans were published in this order: "team-a:N", "team-b:N", "ci-N", "other:N" four times over
    Then walking GET /v1/plans as "team-a" 3 at a time gives pages of sizes "3 1" and exactly the "team-a:*" plans
    And walking GET /v1/plans as "team-b" 3 at a time gives pages of sizes "3 3 2" and exactly the "team-b:*" and "ci-?" plans
    And walking GET /v1/plans as "feeder" 5 at a time gives pages of sizes "5 5 5 1" and every plan
    And walking GET /v1/plans as "team-a" 4 at a time gives pages of sizes "4" and exactly the "team-a:*" plans

    Examples:
      | log    |
      | memory |

    @redis
    Examples:
      | log    |
      | Redis  |

  Scenario Outline: A listing looks at a bounded number of plans per request; short pages carry on and name no hidden plan (<log> log)
    Given the scoped server's event log is the <log> log
    And 16 plans were published in this order: "team-a:N", "team-b:N", "ci-N", "other:N" four times over
    And the event log looks at no more than 3 plans per listing
    Then walking GET /v1/plans as "team-a" 2 at a time gives exactly the "team-a:*" plans, every page at most 2
    And no cursor of that walk names a plan "team-a" may not read
    And some page of that walk was short but had a next cursor
    And walking GET /v1/plans as "feeder" 2 at a time gives pages of sizes "2 2 2 2 2 2 2 2" and every plan

    Examples:
      | log    |
      | memory |

    @redis
    Examples:
      | log    |
      | Redis  |

  Scenario: The CLI says "forbidden" for a plan the token may not read, and exits 2
    Given plans "team-a:1" and "team-b:1" each have 2 events
    When "planstream watch team-b:1 --json" runs with the token "team-a"
    Then the command exited 2 with one error line saying "subscription to plan 'team-b:1' failed (forbidden)"
    When "planstream watch team-a:1 team-b:1 --json" runs with the token "team-a"
    Then the command exited 2 with one error line saying "subscription to plan 'team-b:1' failed (forbidden)"
    When "planstream watch team-b:1 --must-exist" runs with the token "team-a"
    Then the command exited 2 with one error line saying "HTTP 403 forbidden: this token may not read plan 'team-b:1'"
    When "planstream plans --json" runs with the token "team-a"
    Then the command exited 0 listing exactly the plans "team-a:1"
