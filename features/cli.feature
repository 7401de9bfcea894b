Feature: The planstream command line
  `planstream` is what a newcomer runs first and what scripts call: every
  command runs here for real, in a subprocess, against a real server (one
  embedded in the scenario's loop, or `planstream serve` itself).
  In "{url}" and "{http_url}" the scenario's server is filled in.

  Scenario: The demo streams its plan and ends with a computed summary
    When the planstream command runs "demo --seconds 1"
    Then the planstream command exits with status 0
    And the demo summary says the plan succeeded with 0 lost and 0 duplicated
    And the demo summary counts every event line the demo printed
    And the demo printed every step of its plan as succeeded

  Scenario: The chaos demo reconnects and still loses and repeats nothing
    When the planstream command runs "demo --seconds 1.2 --chaos"
    Then the planstream command exits with status 0
    And the demo summary says the plan succeeded with 0 lost and 0 duplicated
    And the demo summary reports at least 1 reconnects
    And the demo printed "reconnecting…" before each "resumed from seq N, 0 lost"
    And each resume the demo printed is followed by the event it names

  Scenario: The demo stops quietly when its reader goes away
    When "planstream demo --seconds 1" is read until its first line, then its stdout is closed
    Then the command whose reader left exits with status 141 and nothing on stderr

  Scenario: The live view renders in a terminal
    When "planstream demo --seconds 1" runs in a 110x45 pseudo-terminal
    Then the command in the terminal exits with status 0
    And the terminal screen shows the dashboard URL under the demo's first line
    And the terminal screen shows a full progress bar with "100.0%" and "6/6 steps"
    And the terminal screen shows the step table with every step "succeeded"
    And the terminal screen shows the recent log and the connection line
    And the terminal screen ends with the demo summary
    And the terminal screen shows "succeeded" in colour

  Scenario: watch --json prints exactly the events that were published
    Given a reference server
    And plan "cli-json" was published on the reference server: 3 steps, then "succeeded"
    When the planstream command runs "watch cli-json --json --url {url}"
    Then the planstream command exits with status 0
    And every line the planstream command printed is a JSON object
    And the JSON lines are the wire form of every event published to plan "cli-json"

  Scenario: watch --json marks lost history with a resync line
    Given a reference server with settings
      | setting   | value |
      | retention | 5     |
    And plan "cli-short" was published on the reference server: 3 steps, then "succeeded"
    When the planstream command runs "watch cli-short --json --url {url}"
    Then the planstream command exits with status 0
    And the first JSON line is a resync "history_expired" with a "succeeded" snapshot at the plan's head

  Scenario: watch --from resumes after an event
    Given a reference server
    And plan "cli-from" was published on the reference server: 2 steps, then "succeeded"
    When the planstream command runs "watch cli-from --json --from {event_id_3} --url {url}"
    Then the planstream command exits with status 0
    And the JSON lines are the events of plan "cli-from" after seq 3

  Scenario Outline: watch exits with what happened to the plan: <final> -> <status>
    Given a reference server
    And plan "cli-exit" was published on the reference server: 2 steps, then "<final>"
    When the planstream command runs "watch cli-exit --url {http_url}"
    Then the planstream command exits with status <status>
    And the planstream command printed the line "[cli-exit #10] plan <final>"

    Examples:
      | final     | status |
      | succeeded | 0      |
      | failed    | 1      |
      | cancelled | 1      |

  Scenario: watch follows several plans and fails when one of them failed
    Given a reference server
    And plan "cli-m1" was published on the reference server: 1 steps, then "succeeded"
    And plan "cli-m2" was published on the reference server: 1 steps, then "failed"
    When the planstream command runs "watch cli-m1 cli-m2 --url {url}"
    Then the planstream command exits with status 1
    And the planstream command printed the line "[cli-m1 #6] plan succeeded"
    And the planstream command printed the line "[cli-m2 #6] plan failed"

  Scenario: watch exits 2 with one line when the server refuses a subscription
    Given a reference server with settings
      | setting           | value |
      | max_subscriptions | 1     |
    And plan "cli-s1" was published on the reference server: 1 steps, then "succeeded"
    When the planstream command runs "watch cli-s1 cli-s2 --url {url}"
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "failed (too_many_subscriptions)"

  Scenario: watch exits 2 with one line when the server cannot be reached
    When the planstream command runs "watch cli-none --url ws://127.0.0.1:{free_port}/v1/stream --connect-timeout 0.5"
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "cannot reach ws://127.0.0.1:"

  Scenario: watch exits 2 with one line when the token is refused
    Given a reference server with settings
      | setting | value      |
      | tokens  | good-token |
    When the planstream command runs "watch cli-auth --token wrong-token --url {url}"
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "401"

  Scenario: --debug adds the traceback to the error line
    When the planstream command runs "watch cli-none --url ws://127.0.0.1:{free_port} --connect-timeout 0.3 --debug"
    Then the planstream command exits with status 2
    And the planstream command printed a traceback, then the error line "cannot reach"

  Scenario Outline: A usage error is one line and status 2: <case>
    When the planstream command runs "<arguments>"
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "<message>"

    Examples:
      | case                  | arguments                              | message                                                |
      | --from, two plans     | watch a b --from e-1                   | --from needs exactly one PLAN_ID                       |
      | not a server URL      | plans --url ftp://example.org          | --url must look like ws://HOST:PORT/v1/stream          |
      | no server there       | plans --url http://127.0.0.1:{free_port} | cannot reach http://127.0.0.1:                       |
      | blank plan id         | publish ' ' log --data '{}'            | PLAN_ID must not be blank                              |
      | --stdin and a KIND    | publish p log --stdin                  | --stdin reads kind and data from each line             |
      | --stdin, no input     | publish p --stdin                      | --stdin had no events to publish                       |

  Scenario: A bad PLANSTREAM_* setting is one line naming the variable
    When the planstream command runs "watch p" with the environment variable PLANSTREAM_RECONNECT__INITIAL_DELAY=-1
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "PLANSTREAM_RECONNECT__INITIAL_DELAY"

  Scenario: publish appends one event, and --stdin one event per line
    Given a reference server with settings
      | setting        | value   |
      | publish_tokens | pub-tok |
    When the planstream command runs "publish cli-pub log --data '{"level": "info", "message": "hi", "stream": "stdout"}' --token pub-tok --url {http_url}"
    Then the planstream command exits with status 0
    When the planstream command runs "publish cli-pub --stdin --token pub-tok --url {url}" with this input
      """
      {"kind": "step.status", "data": {"step_id": "a", "index": 1, "name": "A", "status": "running"}}

      {"kind": "plan.status", "data": {"status": "succeeded"}}
      """
    Then the planstream command exits with status 0
    And the planstream command printed 2 lines starting with "published"
    And the reference server's plan "cli-pub" holds the kinds "log, step.status, plan.status"

  Scenario Outline: publish refuses bad input with one clear line: <case>
    Given a reference server
    When the planstream command runs "publish cli-bad <arguments> --url {url}" with this input
      """
      {"kind": "log", "data": {"level": "info", "message": "first", "stream": "stdout"}}
      {"kind": "log", "data": {"level": "loud", "message": "second", "stream": "stdout"}}
      """
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "<message>"
    And the reference server's plan "cli-bad" holds <kept> events

    Examples:
      | case             | arguments                                                              | message                              | kept |
      | data not JSON    | log --data '{"level": '                                                | --data is not valid JSON             | 0    |
      | data not object  | log --data '[1, 2]'                                                    | --data must be a JSON object         | 0    |
      | unknown kind     | bogus.kind --data '{}'                                                 | unknown kind 'bogus.kind'            | 0    |
      | invalid data     | log --data '{"level": "loud", "message": "x", "stream": "stdout"}'     | invalid data for 'log': level        | 0    |
      | no data          | log                                                                    | give KIND and --data JSON, or --stdin | 0    |
      | bad stdin line   | --stdin                                                                | stdin line 2: the server refused     | 1    |

  Scenario Outline: publish --stdin stops at the first bad line, naming it: <case>
    Given a reference server
    When the planstream command runs "publish cli-lines --stdin --url {url}" with this input
      """
      {"kind": "log", "data": {"level": "info", "message": "first", "stream": "stdout"}}
      <line>
      {"kind": "log", "data": {"level": "info", "message": "never sent", "stream": "stdout"}}
      """
    Then the planstream command exits with status 2
    And the planstream command printed one error line ending "(1 events published before it)" and containing "<message>"
    And the reference server's plan "cli-lines" holds 1 events

    Examples:
      | case         | line                              | message                                                 |
      | not JSON     | {"kind": "log",                   | stdin line 2 is not valid JSON: Expecting property name |
      | not object   | ["log", {}]                       | stdin line 2 must be a JSON object, not list            |
      | no kind      | {"data": {}}                      | stdin line 2 needs "kind": a non-empty string           |
      | data a list  | {"kind": "log", "data": [1]}      | stdin line 2 needs "data": a JSON object                |
      | invalid data | {"kind": "log", "data": {}}       | stdin line 2: the server refused the event: HTTP 400    |

  Scenario: The HTTP commands say so when the server is no planstream server
    Given a plain HTTP file server that answers GET /v1/plans with "hello"
    When the planstream command runs "plans --url {http_url}"
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "cannot list plans: the server's answer is not a planstream one"
    When the planstream command runs "publish p log --data '{}' --url {http_url}"
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "the server refused the event: HTTP 501 Unsupported method ('POST')"

  Scenario: plans lists every plan with its status and head
    Given a reference server
    And plan "cli-plan-a" was published on the reference server: 1 steps, then "succeeded"
    And plan "cli-plan-b" was published on the reference server: 2 steps, then "failed"
    When the planstream command runs "plans --url {url}"
    Then the planstream command exits with status 0
    And the plans table has the rows
      | plan       | status    | head seq |
      | cli-plan-a | succeeded | 6        |
      | cli-plan-b | failed    | 10       |

  Scenario: serve runs the server from flags and logs one line per connection
    Given "planstream serve" runs with "--token reader --publish-token writer --retention 50 --heartbeat 2"
    When the planstream command runs "plans --token reader --url {url}"
    Then the planstream command printed the line "no plans yet (a plan appears with its first event)"
    When the planstream command runs "publish cli-serve plan.status --data '{"status": "succeeded"}' --token writer --url {http_url}"
    Then the planstream command exits with status 0
    When the planstream command runs "publish cli-serve --stdin --token reader --url {http_url}" with this input
      """
      {"kind": "plan.status", "data": {"status": "running"}}
      """
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "HTTP 403 forbidden: this token may not publish (at stdin line 1; 0 events published before it)"
    When the planstream command runs "watch cli-serve --json --token reader --url {url}"
    Then the planstream command exits with status 0
    When the planstream command runs "watch cli-serve --token nobody --url {url}"
    Then the planstream command exits with status 2
    When "planstream watch cli-serve --follow --token reader --url {url}" runs in the background until it printed "[cli-serve #1] plan succeeded"
    And "planstream serve" is stopped with SIGTERM
    Then "planstream serve" exited with status 0 after printing "planstream server listening on ws://127.0.0.1:"
    And "planstream serve" logged these connection lines, in any order:
      | line                                 |
      | closed by the client with code 1000  |
      | refused with HTTP 401                |
      | closed by the server with code 1001  |
    When the background planstream command printed "connection: reconnecting…", it is interrupted with SIGINT
    Then the background planstream command exits with status 130 and says "planstream: interrupted"
