Feature: A failing token provider is logged and bounded by the reconnect policy
  The token provider is user code: when it raises, the client says so in its
  log (the exception's type, rate-limited; never the exception's text, which
  may hold a secret), and the failure is a retry like any other: it draws a
  backoff delay and counts toward reconnect.max_attempts, so a provider that
  keeps failing ends the client with a RetriesExhaustedError whose cause says
  the provider failed.

  Scenario: A token provider that keeps raising ends the client after max_attempts
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And an edge token provider handing out "RAISE"
    And an edge client in transport "websocket" aimed at the reference server, giving up after 3 attempts
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" ends with RetriesExhaustedError mentioning "gave up after 3 reconnect attempts"
    And the edge client stopped with RetriesExhaustedError
    And the edge client's error is caused by an AuthenticationError saying "the token provider raised RuntimeError"
    And the edge token provider was called 4 times
    And the reference server refused 0 requests
    And the edge log has a WARNING record "the token provider raised RuntimeError"

  Scenario: A token provider's repeated failures are logged a few times, then counted
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And an edge token provider handing out "RAISE"
    And an edge client in transport "websocket" aimed at the reference server, giving up after 6 attempts
    When the edge client subscribes to plan "p"
    Then the edge client stopped with RetriesExhaustedError
    And the edge token provider was called 7 times
    And the edge log has 3 WARNING records "the token provider raised RuntimeError" and then "4 more token provider failures were not logged"
    And the edge log has a WARNING record "WebSocket failed: the token provider raised RuntimeError"
