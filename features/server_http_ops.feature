Feature: Operating the HTTP side: auth, health, counters, mounting, settings
  Every HTTP endpoint but /healthz and /metrics takes the WebSocket's bearer
  token (protocol §2, §6): missing or invalid gives 401, a valid token without
  the right gives 403. /v1/status and /metrics serve the same counters, as
  JSON and in Prometheus text format. The app mounts into a FastAPI backend.

  Scenario: With read and publish tokens, readers read, publishers publish, others get 401
    Given a reference server with settings
      | setting        | value             |
      | tokens         | reader-1,reader-2 |
      | publish_tokens | pub-1             |
    Then these HTTP requests get these answers:
      | method | path               | authorization       | status | error        |
      | GET    | /healthz           | -                   | 200    | -            |
      | GET    | /healthz           | Bearer wrong        | 200    | -            |
      | GET    | /v1/plans          | -                   | 401    | unauthorized |
      | GET    | /v1/plans          | Bearer wrong        | 401    | unauthorized |
      | GET    | /v1/plans          | Basic cmVhZGVyLTE=  | 401    | unauthorized |
      | GET    | /v1/plans          | Bearer              | 401    | unauthorized |
      | GET    | /v1/plans          | reader-1            | 401    | unauthorized |
      | GET    | /v1/plans          | Bearer reader-1     | 200    | -            |
      | GET    | /v1/plans          | bearer reader-2     | 200    | -            |
      | POST   | /v1/plans/p/events | -                   | 401    | unauthorized |
      | POST   | /v1/plans/p/events | Bearer wrong        | 401    | unauthorized |
      | POST   | /v1/plans/p/events | Bearer reader-1     | 403    | forbidden    |
      | POST   | /v1/plans/p/events | Bearer pub-1        | 201    | -            |
      | GET    | /v1/plans/p        | -                   | 401    | unauthorized |
      | GET    | /v1/plans/p        | Bearer reader-2     | 200    | -            |
      | GET    | /v1/plans/p        | Bearer pub-1        | 200    | -            |
      | GET    | /v1/plans/p/events | Bearer wrong        | 401    | unauthorized |
      | GET    | /v1/plans/p/events | Bearer reader-1     | 200    | -            |
      | GET    | /v1/status         | -                   | 401    | unauthorized |
      | GET    | /v1/status         | Bearer reader-1     | 200    | -            |
      | GET    | /metrics           | -                   | 200    | -            |
    Given the HTTP client authenticates with the token "reader-1"
    When the metrics are read over HTTP
    Then the metrics show:
      | counter          | value |
      | auth_failures    | 11    |
      | events_published | 1     |
      | plans            | 1     |

  Scenario: With read tokens only, any reader token may also publish
    Given a reference server with settings
      | setting | value   |
      | tokens  | only-me |
    Then these HTTP requests get these answers:
      | method | path               | authorization  | status | error        |
      | POST   | /v1/plans/p/events | -              | 401    | unauthorized |
      | POST   | /v1/plans/p/events | Bearer only-me | 201    | -            |
      | GET    | /v1/plans/p/events | -              | 401    | unauthorized |
      | GET    | /v1/plans/p/events | Bearer only-me | 200    | -            |

  Scenario: With publish tokens only, reading needs a publish token too
    Given a reference server with settings
      | setting        | value    |
      | publish_tokens | feeder-1 |
    Then these HTTP requests get these answers:
      | method | path               | authorization   | status | error        |
      | GET    | /v1/plans          | -               | 401    | unauthorized |
      | GET    | /v1/plans          | Bearer feeder-1 | 200    | -            |
      | POST   | /v1/plans/p/events | Bearer feeder-1 | 201    | -            |
      | GET    | /healthz           | -               | 200    | -            |

  Scenario: With no tokens at all every endpoint is open
    Given a reference server
    Then these HTTP requests get these answers:
      | method | path               | authorization   | status | error     |
      | POST   | /v1/plans/p/events | -               | 201    | -         |
      | POST   | /v1/plans/p/events | Bearer anything | 201    | -         |
      | GET    | /v1/plans          | -               | 200    | -         |
      | GET    | /v1/plans/p        | -               | 200    | -         |
      | GET    | /v1/plans/q        | -               | 404    | not_found |
      | GET    | /v1/plans/p/events | Bearer anything | 200    | -         |
      | GET    | /v1/status         | -               | 200    | -         |
      | GET    | /metrics           | -               | 200    | -         |
      | GET    | /healthz           | -               | 200    | -         |

  Scenario: A pluggable token verifier can deny reading (403) while allowing publishing
    Given a reference server whose token verifier lets "feed" publish but not read
    Then these HTTP requests get these answers:
      | method | path               | authorization | status | error        |
      | POST   | /v1/plans/p/events | Bearer feed   | 201    | -            |
      | GET    | /v1/plans/p/events | Bearer feed   | 403    | forbidden    |
      | GET    | /v1/plans/p        | Bearer feed   | 403    | forbidden    |
      | GET    | /v1/plans          | Bearer feed   | 403    | forbidden    |
      | GET    | /v1/status         | Bearer feed   | 403    | forbidden    |
      | GET    | /v1/plans          | Bearer other  | 401    | unauthorized |

  Scenario: /healthz answers {"status":"ok"}
    Given a reference server
    When the HTTP client sends GET "/healthz"
    Then the HTTP status is 200
    And the HTTP answer is the JSON {"status": "ok"}

  Scenario: Unknown paths and methods answer in the JSON error format too
    Given a reference server
    When the HTTP client sends GET "/v1/nothing-here"
    Then the HTTP error is 404 "not_found"
    When the HTTP client sends DELETE "/v1/plans/p/events"
    Then the HTTP error is 405 "method_not_allowed"
    And the HTTP answer has the header "Allow" listing "GET, HEAD, POST"

  Scenario: /v1/status and /metrics report the same counters, and they follow what happens
    Given a reference server
    When the metrics are read over HTTP
    Then the metrics of /v1/status and /metrics agree
    And the metrics show:
      | counter              | value |
      | connections          | 0     |
      | subscriptions        | 0     |
      | plans                | 0     |
      | connections_total    | 0     |
      | events_published     | 0     |
      | events_sent          | 0     |
      | frames_sent          | 0     |
      | slow_consumer_closes | 0     |
      | rejected_frames      | 0     |
      | abuse_closes         | 0     |
      | auth_failures        | 0     |
    When 4 events are published to plan "counted-1"
    And the publisher POSTs a list of 2 log events to plan "counted-2"
    And a metrics WebSocket subscriber receives the 4 events of plan "counted-1"
    And the metrics WebSocket subscriber sends a malformed frame
    And the metrics are read over HTTP
    Then the metrics of /v1/status and /metrics agree
    And the metrics show:
      | counter              | value |
      | connections          | 1     |
      | subscriptions        | 1     |
      | plans                | 2     |
      | connections_total    | 1     |
      | events_published     | 6     |
      | events_sent          | 4     |
      | slow_consumer_closes | 0     |
      | rejected_frames      | 1     |
      | abuse_closes         | 0     |
      | auth_failures        | 0     |
    And the metrics counter "events_published" grew by 6
    And the metrics counter "frames_sent" grew by at least 3
    When the metrics WebSocket subscriber disconnects
    Then the metrics gauge "connections" reads 0 within 5 seconds
    And the metrics gauge "subscriptions" reads 0 within 5 seconds
    And the metrics of /v1/status and /metrics agree
    And the metrics show:
      | counter           | value |
      | connections_total | 1     |

  Scenario: The reference server mounts into a FastAPI app next to the host's own routes
    Given the example FastAPI app is served over HTTP by uvicorn with planstream mounted at "/planstream"
    Then the host route "/api/ping" of the mounted HTTP app answers {"pong": true}
    When the publisher POSTs to plan "mounted":
      """
      [
        {"kind": "plan.status", "data": {"status": "running"}},
        {"kind": "log", "data": {"level": "info", "message": "from the host", "stream": "stdout"}},
        {"kind": "plan.status", "data": {"status": "succeeded"}}
      ]
      """
    Then the publisher got 201 with the ids of plan "mounted" for seqs 1 to 3
    When plan "mounted" is polled over HTTP with "after=#1"
    Then the poll answered 200 with the events of plan "mounted" from seq 2 to 3
    And the poll head is the head of plan "mounted"
    When the HTTP snapshot of plan "mounted" is fetched
    Then the HTTP snapshot has status "succeeded" and progress null
    And a WebSocket subscriber of the mounted HTTP app at "/planstream/v1/stream" receives hello and the 3 events of plan "mounted"
    When the HTTP client sends GET "/v1/unknown"
    Then the HTTP error is 404 "not_found"

  Scenario: Server settings come from PLANSTREAM_SERVER_* variables; tokens as a comma list
    Given no PLANSTREAM_* environment variable is set
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_TOKENS" is " read-a, read-b ,"
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_PUBLISH_TOKENS" is "pub-secret"
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_RETENTION" is "50"
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_MAX_POLL_WAIT" is "2.5"
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_POLL_INTERVAL" is "0.25"
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_ALLOW_UNKNOWN_KINDS" is "true"
    When the HTTP server settings are built from the environment
    Then the HTTP server settings have the tokens ["read-a", "read-b"] and the publish tokens ["pub-secret"]
    And the HTTP server settings have these values:
      | field               | value |
      | retention           | 50    |
      | max_poll_wait       | 2.5   |
      | poll_interval       | 0.25  |
      | allow_unknown_kinds | true  |
      | port                | 8765  |
    And neither the HTTP server settings nor their token verifier show the tokens ["read-a", "read-b", "pub-secret"]

  Scenario: Server tokens may be given as a JSON list
    Given no PLANSTREAM_* environment variable is set
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_TOKENS" is '["json-1", "json,2"]'
    When the HTTP server settings are built from the environment
    Then the HTTP server settings have the tokens ["json-1", "json,2"] and the publish tokens []
    And neither the HTTP server settings nor their token verifier show the tokens ["json-1", "json,2"]

  Scenario: Without token variables the server settings are open
    Given no PLANSTREAM_* environment variable is set
    When the HTTP server settings are built from the environment
    Then the HTTP server settings have the tokens [] and the publish tokens []

  Scenario: A server configured from the environment enforces its tokens over HTTP
    Given no PLANSTREAM_* environment variable is set
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_TOKENS" is "env-reader"
    And the PLANSTREAM environment variable "PLANSTREAM_SERVER_PUBLISH_TOKENS" is '["env-publisher"]'
    And a reference server
    Then these HTTP requests get these answers:
      | method | path               | authorization        | status | error        |
      | GET    | /v1/plans          | -                    | 401    | unauthorized |
      | GET    | /v1/plans          | Bearer env-reader    | 200    | -            |
      | POST   | /v1/plans/e/events | Bearer env-reader    | 403    | forbidden    |
      | POST   | /v1/plans/e/events | Bearer env-publisher | 201    | -            |

  Scenario Outline: A bad server setting fails with SettingsError naming <variable>
    Given no PLANSTREAM_* environment variable is set
    And the PLANSTREAM environment variable "<variable>" is "<value>"
    When the HTTP server settings are built from the environment
    Then building the HTTP server settings failed naming "<variable>"
    And the HTTP server settings error does not echo "<value>"

    Examples:
      | variable                              | value              |
      | PLANSTREAM_SERVER_PORT                | hunter2-port       |
      | PLANSTREAM_SERVER_PORT                | 70000              |
      | PLANSTREAM_SERVER_RETENTION           | 0                  |
      | PLANSTREAM_SERVER_MAX_POLL_WAIT       | minus-one          |
      | PLANSTREAM_SERVER_HEARTBEAT_S         | nan                |
      | PLANSTREAM_SERVER_ALLOW_UNKNOWN_KINDS | maybe-so           |
      | PLANSTREAM_SERVER_TOKENS              | ["secret-1",       |
      | PLANSTREAM_SERVER_PUBLISH_TOKENS      | [{"t": "secret-2"}] |

  Scenario: A server setting that does not exist fails with SettingsError naming it
    Given no PLANSTREAM_* environment variable is set
    When the HTTP server settings are built with {"bogus_option": 1}
    Then building the HTTP server settings failed naming "PLANSTREAM_SERVER_BOGUS_OPTION"
