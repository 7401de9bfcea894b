Feature: Plans and snapshots from Python, and plans the server does not know
  `client.plans()` walks every page of `GET /v1/plans`, `client.snapshot()`
  gives the typed `PlanSnapshot`, and a plan the server does not know is a
  `PlanNotFoundError` when the caller asks for one that must exist (item 5,
  item 2). The CLI says so too: `watch --must-exist` fails, a plain `watch`
  says once that it waits, and `plans` prints JSON lines or plain columns.

  Scenario: client.plans() follows every page of the plan list
    Given a reference server
    And 5 plans "page-1" to "page-5" have one event each
    And an HTTP fault proxy in front of it that plays "forward"
    When the client lists the plans through the proxy, 2 a page
    Then the client listed the plans "page-1" to "page-5", each once, typed, with head seq 1
    And the proxy saw 3 GET requests of /v1/plans

  Scenario: client.snapshot() returns the typed PlanSnapshot of a plan
    Given a reference server
    And plan "snap" was published on the reference server: 2 steps, then "succeeded"
    When the client reads the snapshot of plan "snap"
    Then the snapshot is a PlanSnapshot of plan "snap", status succeeded, 2 steps, head seq 10

  Scenario: A plan the server does not know is a PlanNotFoundError, for a snapshot and a must_exist subscription
    Given a reference server
    And plan "known" was published on the reference server: 1 steps, then "succeeded"
    When the client reads the snapshot of plan "nobody-knows"
    Then the client's call failed with PlanNotFoundError naming plan "nobody-knows"
    When the client subscribes to plan "nobody-knows" with must_exist
    Then the client's call failed with PlanNotFoundError naming plan "nobody-knows"
    When the client subscribes to plan "known" with must_exist
    Then the subscription delivered 6 events, the last a plan.status "succeeded"

  Scenario: A server whose plan list never ends is refused
    Given a scripted HTTP server whose plan list always answers the next_cursor "again"
    When the client lists the plans of the scripted server
    Then the client's call failed with InvalidResponseError containing "the server's pages do not end"

  Scenario: planstream plans --json prints one JSON object per plan per line
    Given a reference server
    And plan "cli-json-a" was published on the reference server: 1 steps, then "succeeded"
    And plan "cli-json-b" was published on the reference server: 2 steps, then "failed"
    When the planstream command runs "plans --json --url {url}"
    Then the planstream command exits with status 0
    And every line the planstream command printed is a JSON object
    And the JSON plans are, in order:
      | plan_id    | status    | head seq |
      | cli-json-a | succeeded | 6        |
      | cli-json-b | failed    | 10       |

  Scenario: planstream plans prints plain columns, without box drawing, into a pipe
    Given a reference server
    And plan "cli-plain" was published on the reference server: 1 steps, then "succeeded"
    When the planstream command runs "plans --url {url}"
    Then the planstream command exits with status 0
    And the planstream command printed the line "plan       status     head seq  updated (UTC)"
    And the planstream command's output holds no box-drawing character

  Scenario: planstream plans --json prints nothing when there are no plans
    Given a reference server
    When the planstream command runs "plans --json --url {url}"
    Then the planstream command exits with status 0
    And the planstream command printed nothing

  Scenario: watch --must-exist fails at once for a plan the server does not know
    Given a reference server
    When the planstream command runs "watch cli-nobody --must-exist --url {url}"
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "does not know plan 'cli-nobody'"

  Scenario: A plain watch of an unknown plan says once that it waits, then streams it
    Given a reference server
    When "planstream watch cli-later --json --url {url}" runs in the background until it wrote on stderr "waiting for plan 'cli-later'"
    And plan "cli-later" then runs on the reference server: 1 steps, then "succeeded"
    Then the background watch exits with status 0, its stderr one waiting line beside the connection's, its stdout 6 JSON lines

  Scenario: planstream plans draws its table on a terminal
    Given a reference server
    And plan "cli-term" was published on the reference server: 1 steps, then "succeeded"
    When "planstream plans --url {url}" runs in a 100x20 pseudo-terminal beside the reference server
    Then the terminal shows a table row for plan "cli-term": succeeded, head seq 6

  Scenario Outline: The HTTP commands say in one line why the server could not be used: <case>
    Given a reference server
    And an HTTP fault proxy in front of it that plays "503, 503, 503"
    When the planstream command runs "<command>" against the fault proxy
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "<text>"

    Examples:
      | case               | command                                                                               | text                                                          |
      | unavailable        | plans --url {proxy_url}                                                               | listing plans: gave up after 3 attempts (max_attempts 3)      |
      | unavailable, POST  | publish cli-503 plan.status --data '{"status": "running"}' --url {proxy_url}          | publishing to plan 'cli-503': gave up after 3 attempts        |
      | TLS to a plain port | plans --url {https_url}                                                              | cannot reach https://127.0.0.1:                               |
