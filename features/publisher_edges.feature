Feature: The HTTP half of the SDK at its edges: every failure typed, nothing sent in vain
  The publisher and the plan API share one HTTP session (token, TLS, retries,
  error translation). These scenarios walk its less travelled paths: bad
  arguments refused before anything is sent, proxies' 502 and 504, TLS spoken
  to a plain port, tokens that cannot be a header, token providers that fail
  or keep handing out a stale token, answers too long or not planstream's.

  Scenario: Bad arguments are refused, typed, before anything is sent
    Given a reference server
    Then these publisher calls fail before sending anything:
      | call                                   | error           | text                                  |
      | RequestLimits(max_attempts=0)          | SettingsError   | max_attempts: must be at least 1      |
      | RequestLimits(deadline=0)              | SettingsError   | deadline: must be a positive number   |
      | publish to plan "no spaces please"     | InvalidIdError  | plan_id                               |
      | publish a PlanSnapshot                 | TypeError       | cannot publish a PlanSnapshot         |
      | client.plans(page_size=0)              | SettingsError   | page_size: must be between 1 and 1000 |
      | client.snapshot of plan "bad/id"       | InvalidIdError  | plan_id                               |
      | HttpSession([])                        | SettingsError   | url: needs at least one server URL    |
    And the reference server holds no plan

  Scenario: A proxy's 502 and 504 are retried like a 503
    Given a reference server
    And an HTTP fault proxy in front of it that plays "502, 504"
    When the publisher publishes a log line to plan "pub-gateway" through the proxy with a request timeout of 5 s
    Then the proxy saw 3 POST requests carrying the same Idempotency-Key
    And the reference server's plan "pub-gateway" holds 1 events

  Scenario: An answer that places no event is not a planstream answer
    Given a reference server
    And an HTTP fault proxy in front of it that plays "created-nothing"
    When the publisher publishes a log line to plan "pub-odd" through the proxy, 3 attempts at most
    Then the publish failed with InvalidResponseError, its text containing "the server's answer is not a planstream one"
    And the proxy saw 1 POST requests carrying the same Idempotency-Key

  Scenario Outline: Something that is not a planstream server at that URL is said so: <call>
    Given a plain HTTP file server that answers GET /v1/plans with "hello"
    When the plan API <call> of the file server
    Then the plan API call failed with <error> containing "<text>"

    Examples:
      | call                          | error                | text                                                                 |
      | reads the snapshot of plan p  | RequestRefusedError  | HTTP 404 File not found (no planstream endpoint answers at http://127.0.0.1: |
      | lists the plans               | InvalidResponseError | cannot list plans: the server's answer is not a planstream one       |
      | publishes a log line to p     | RequestRefusedError  | the server refused the event: HTTP 501 Unsupported method ('POST')   |

  Scenario: TLS spoken to a plain HTTP port is a fatal TLSError, not retried
    Given a reference server
    When the publisher publishes a log line to the reference server over https
    Then the publish failed at once with TLSError containing "TLS failed"

  Scenario Outline: A token that goes wrong is an AuthenticationError: <case>
    Given a reference server with settings
      | setting        | value  |
      | publish_tokens | writer |
    When the publisher with a token provider that <provider> publishes a log line to plan "pub-token", <attempts> attempts at most
    Then the publish failed with <error>, its text containing "<text>"
    And the reference server's plan "pub-token" holds 0 events

    Examples:
      | case                     | provider                  | attempts | error                        | text                                   |
      | not a header value       | answers "two words"       | 2        | AuthenticationError          | cannot be sent as a header             |
      | stale after a refresh    | answers "stale"           | 2        | AuthenticationError          | HTTP 401 unauthorized                  |
      | stale, no attempt left   | answers "stale"           | 1        | AuthenticationError          | HTTP 401 unauthorized                  |
      | the provider raises      | raises RuntimeError       | 2        | RequestRetriesExhaustedError | the token provider raised RuntimeError |

  Scenario: An answer longer than the limit is refused
    Given a reference server
    And 40 plans "page-1" to "page-40" have one event each
    When the plan API lists the plans reading at most 1024 bytes an answer
    Then the plan API call failed with FrameTooLargeError containing "response body of more than 1024 bytes"

  Scenario: A must_exist subscription closed before it started subscribes nothing
    Given a reference server
    When a must_exist subscription to plan "never" is closed before its first item
    Then iterating it ends at once, and the client never subscribed plan "never"

  Scenario: A publisher takes the URLs users write and shows no token
    Then a PlanPublisher made with these arguments sends to this HTTP base:
      | url                                  | base                           |
      | http://127.0.0.1:8765                | http://127.0.0.1:8765          |
      | http://127.0.0.1:8765/               | http://127.0.0.1:8765          |
      | https://example.org/planstream       | https://example.org/planstream |
      | https://example.org/p/v1/stream      | https://example.org/p          |
      | ws://127.0.0.1:9000/v1/stream        | http://127.0.0.1:9000          |
    And a PlanPublisher made with a token and an SSL context shows neither in its repr

  Scenario: A publisher configured by ClientSettings moves to the next node when one is down
    Given a reference server
    When a publisher configured by ClientSettings with the nodes "a closed port" and "the reference server" publishes a log line to plan "pub-nodes"
    Then the publisher got seqs 1 to 1 back, each with an event id
    And the reference server's plan "pub-nodes" holds 1 events

  Scenario: A reconnect.max_attempts in the settings bounds the retries too
    Given a reference server
    And an HTTP fault proxy in front of it that plays "503, 503, 503"
    When the publisher configured with reconnect.max_attempts 1 publishes a log line to plan "pub-bounded" through the proxy
    Then the publish failed with RequestRetriesExhaustedError, its text containing "(reconnect.max_attempts 1)"
    And the proxy saw 2 POST requests carrying the same Idempotency-Key
