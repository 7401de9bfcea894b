Feature: Client HTTP long-polling transport
  The polling fallback (protocol §6) long-polls GET /v1/plans/{plan_id}/events
  on the real reference server and turns its failures into verdicts.

  Scenario Outline: the polling HTTP base is derived from the stream URL
    Then the polling base of "<stream_url>" is "<base_url>"

    Examples:
      | stream_url                          | base_url                   |
      | ws://h:1/v1/stream                  | http://h:1                 |
      | wss://h/planstream/v1/stream        | https://h/planstream       |
      | ws://h:1/v1/stream/                 | http://h:1                 |
      | wss://h/planstream/v1/stream/       | https://h/planstream       |

  Scenario: a polling client reads a plan from the start
    Given a reference server
    And 7 events were published to plan "p"
    When the polling client polls plan "p" from the start
    Then the polling answer holds the events of plan "p" from seq 1 to 7
    And the polling head is the event of plan "p" with seq 7

  Scenario: a polling client resumes after an event id
    Given a reference server
    And 7 events were published to plan "p"
    When the polling client polls plan "p" after its event with seq 3
    Then the polling answer holds the events of plan "p" from seq 4 to 7
    And the polling head is the event of plan "p" with seq 7

  Scenario: a polling client's limit is respected
    Given a reference server
    And 7 events were published to plan "p"
    When the polling client polls plan "p" from the start with limit 2
    Then the polling answer holds the events of plan "p" from seq 1 to 2
    When the polling client polls plan "p" after its event with seq 2 with limit 2
    Then the polling answer holds the events of plan "p" from seq 3 to 4

  Scenario: a long poll returns as soon as an event is published
    Given a reference server
    And 2 events were published to plan "p"
    When the polling client waits up to 5 s after seq 2 of plan "p" while an event is published 0.3 s later
    Then the polling answer holds the events of plan "p" from seq 3 to 3
    And the polling request took between 0.2 and 3 s

  Scenario: a long poll with nothing new answers empty after its wait
    Given a reference server
    And 2 events were published to plan "p"
    When the polling client waits up to 0.3 s after seq 2 of plan "p"
    Then the polling answer holds no events
    And the polling head is the event of plan "p" with seq 2
    And the polling request took between 0.2 and 3 s

  Scenario: the polling interval comes from the server
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.25  |
    And 1 events were published to plan "p"
    When the polling client polls plan "p" from the start
    Then the polling interval is 0.25

  Scenario: polling from the start after retention expired asks for a resync
    Given a reference server with settings
      | setting   | value |
      | retention | 5     |
    And 12 events were published to plan "p"
    When the polling client polls plan "p" from the start
    Then the polling answer is a resync "history_expired" at seq 12 of plan "p"

  Scenario: polling after an unknown event id asks for a resync
    Given a reference server
    And 3 events were published to plan "p"
    When the polling client polls plan "p" after the event id "no-such-event"
    Then the polling answer is a resync "unknown_event_id" at seq 3 of plan "p"

  Scenario: polling without a token is refused as fatal
    Given a reference server with settings
      | setting | value              |
      | tokens  | polling-good-token |
    When the polling client polls plan "p" with no token
    Then the polling failure is "fatal" "AuthenticationError"

  Scenario: polling with a rejected token and a token provider asks for a refresh
    Given a reference server with settings
      | setting | value              |
      | tokens  | polling-good-token |
    When the polling client with a token provider polls plan "p" with the token "s3cret-polling-TOKEN-zq9"
    Then the polling failure is "refresh_token" "AuthenticationError"
    And the polling token "s3cret-polling-TOKEN-zq9" appears in no failure or session text

  Scenario: polling with a valid token works
    Given a reference server with settings
      | setting | value              |
      | tokens  | polling-good-token |
    And 2 events were published to plan "p"
    When the polling client polls plan "p" with the token "polling-good-token"
    Then the polling answer holds the events of plan "p" from seq 1 to 2
    And the polling token "polling-good-token" appears in no failure or session text

  Scenario: polling a port where nothing listens asks for a retry
    When the polling client polls a free port where nothing listens
    Then the polling failure is "retry" "ConnectionLostError"

  Scenario: a polling plan id with every punctuation protocol §1 allows round-trips
    Given a reference server
    When 3 polling log events are published to plan "team.a_1:x@y-z"
    And the polling client polls plan "team.a_1:x@y-z" from the start
    Then the polling answer is for plan "team.a_1:x@y-z"
    And the polling answer holds the events of plan "team.a_1:x@y-z" from seq 1 to 3

  Scenario: a polling answer that is not JSON asks for a retry
    Given a polling fake HTTP server answering 200 with the body "not json"
    When the polling client polls the fake server
    Then the polling failure is "retry" "InvalidFrameError"

  Scenario: a polling answer 503 with Retry-After asks for a retry after it
    Given a polling fake HTTP server answering 503 with the body "{\"error\":\"unavailable\",\"message\":\"busy\"}"
    When the polling client polls the fake server
    Then the polling failure is "retry" "ServerUnavailableError"
    And the polling failure asks to retry after 7 s

  Scenario: a polling answer 502 from a proxy is a fallback candidate
    Given a polling fake HTTP server answering 502 with the body "bad gateway"
    When the polling client polls the fake server
    Then the polling failure is "fallback" "UpgradeRefusedError"

  Scenario Outline: a polling interval header is sanitised
    Given a polling fake HTTP server answering 200 with an empty poll and the interval "<header>"
    When the polling client polls the fake server
    Then the polling interval is <interval>

    Examples:
      | header  | interval |
      | 0.5     | 0.5      |
      | abc     | 1.0      |
      | nan     | 1.0      |
      | -3      | 0.0      |
      | 1000    | 60.0     |
      | none    | 1.0      |
