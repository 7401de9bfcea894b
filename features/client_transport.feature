Feature: Client WebSocket transport against the reference server
  The client transport (planstream.transport.websocket) opens a real
  WebSocket to the reference server on 127.0.0.1, accepts its hello
  (protocol §2) and turns every refusal, close and network failure into a
  verdict (protocol §4): retry, refresh_token or fatal, with a typed error.

  Scenario: Connecting gets the server's hello and moves raw frames
    Given a reference server with settings
      | setting     | value |
      | heartbeat_s | 7.5   |
    When the client transport connects to the reference server
    Then the transport hello names the reference server with heartbeat 7.5 seconds
    When the transport sends a raw subscribe to plan "plan-transport" from the start
    Then the transport receives "subscribed" for plan "plan-transport"
    When 3 events are published to plan "plan-transport"
    Then the transport receives the 3 published events of plan "plan-transport" in order

  Scenario: Compression can be negotiated by the transport
    Given a reference server with settings
      | setting     | value |
      | compression | true  |
    When the client transport connects to the reference server with compression
    Then the transport hello names the reference server with heartbeat 15 seconds

  Scenario Outline: An authentication refusal asks for a token refresh only when a provider exists
    Given a reference server with settings
      | setting | value                       |
      | tokens  | transport-good-token-c0ffee |
    When the client transport connects to the reference server with <credentials> and <provider>
    Then the transport attempt fails with verdict "<kind>" and error "AuthenticationError"
    And the transport failure mentions "401"
    And the transport failure never mentions the token "transport-SECRET-d34db33f"

    Examples:
      | credentials                            | provider            | kind          |
      | no token                               | no token provider   | fatal         |
      | no token                               | a token provider    | refresh_token |
      | the token "transport-SECRET-d34db33f"  | no token provider   | fatal         |
      | the token "transport-SECRET-d34db33f"  | a token provider    | refresh_token |

  Scenario: A valid token without the read right is forbidden, fatally
    Given a reference server whose token verifier accepts "transport-SECRET-d34db33f" as a principal that may not read
    When the client transport connects to the reference server with the token "transport-SECRET-d34db33f" and a token provider
    Then the transport attempt fails with verdict "fatal" and error "ForbiddenError"
    And the transport failure mentions "403"
    And the transport failure never mentions the token "transport-SECRET-d34db33f"

  Scenario: Nothing listening is a quick retry
    When the client transport connects to a free port where nothing listens
    Then the transport attempt fails with verdict "retry" and error "ConnectionLostError"
    And the transport attempt failed within 2 seconds

  Scenario: An invalid URL is fatal
    When the client transport connects to the URL "http://127.0.0.1:1/v1/stream"
    Then the transport attempt fails with verdict "fatal" and error "PlanStreamError"
    And the transport failure mentions "invalid server URL"

  Scenario: The server shutting down closes the transport with 1001, a retry
    Given a reference server
    When the client transport connects to the reference server with the token "transport-SECRET-d34db33f" and no token provider
    And the reference server stops while the transport waits to receive
    Then transport recv fails with verdict "retry" and error "ServerUnavailableError"
    And the transport failure mentions "code 1001"
    And the transport failure never mentions the token "transport-SECRET-d34db33f"

  Scenario: A flood of bad frames is a fatal policy violation
    Given a reference server
    When the client transport connects to the reference server
    And the transport sends 11 frames that are not JSON
    Then transport recv fails with verdict "fatal" and error "PolicyViolationError"
    And the transport failure mentions "code 1008"
    And the transport received 10 "bad_request" error frames before failing

  Scenario: Closing the transport twice is harmless and ends receiving
    Given a reference server
    When the client transport connects to the reference server
    And the transport session is closed twice
    Then transport recv fails with verdict "retry" and error "ConnectionLostError"
    And sending through the transport fails with verdict "retry" and error "ConnectionLostError"
