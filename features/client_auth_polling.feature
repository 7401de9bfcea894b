Feature: Client failure handling: fatal refusals, token refresh and the polling fallback
  PlanStreamClient against real servers on 127.0.0.1. A server of another
  protocol or schema major, a refused token and a forbidden token stop the
  client at once with a typed error and no retry (protocol §2, §4); a token
  provider gets one chance to cure a 401. Behind a proxy that refuses
  WebSocket upgrades the client long-polls over HTTP (protocol §6) and goes
  back to the WebSocket once upgrades pass again, losing and repeating
  nothing. A token never shows in errors, reprs or logs.

  Scenario Outline: A server whose hello has <field> <value> stops the client at once, without a retry
    Given an api scripted stream server whose hello has "<field>" <value>
    When an api client connects to the scripted server and subscribes to plan "p"
    Then the api client stopped with "IncompatibleProtocolError" within 1 second, from wait_open and from the subscription to plan "p"
    And the api client never scheduled a retry
    And the api scripted server saw exactly 1 connection, closed by the client with code 4006
    And the api client state is "closed"

    Examples:
      | field    | value |
      | protocol | 2     |
      | schema   | "2.0" |

  Scenario: A wrong static token without a token provider is fatal, without a retry
    Given a reference server with settings
      | setting | value               |
      | tokens  | api-good-token-7f3a |
    When an api client with the token "api-WRONG-secret-91x" connects to the reference server and subscribes to plan "p"
    Then the api client stopped with "AuthenticationError", from wait_open and from the subscription to plan "p"
    And the api client never scheduled a retry
    And the reference server refused 1 upgrade and accepted 0 connections
    And the api texts "api-WRONG-secret-91x" and "api-good-token-7f3a" appear in no error, repr or log record

  Scenario: A token provider's fresh token cures a 401, and the stream flows
    Given a reference server with settings
      | setting | value               |
      | tokens  | api-good-token-7f3a |
    And 3 events were published to plan "p"
    When an api client whose token provider returns "api-WRONG-secret-91x" then "api-good-token-7f3a" connects to the reference server and subscribes to plan "p"
    Then the api consumer of plan "p" has received seq 1 to 3 exactly once in order
    When 2 events are published to plan "p"
    Then the api consumer of plan "p" has received seq 1 to 5 exactly once in order
    And the api token provider was called 2 times
    And the reference server refused 1 upgrade and accepted 1 connection
    And the api client state is "open"
    And the api texts "api-WRONG-secret-91x" and "api-good-token-7f3a" appear in no error, repr or log record

  Scenario: A token provider whose fresh token is refused too is fatal after one refresh
    Given a reference server with settings
      | setting | value               |
      | tokens  | api-good-token-7f3a |
    When an api client whose token provider always returns "api-WRONG-secret-91x" connects to the reference server and subscribes to plan "p"
    Then the api client stopped with "AuthenticationError", from wait_open and from the subscription to plan "p"
    And the api token provider was called 2 times
    And the reference server refused 2 upgrades and accepted 0 connections
    And the api client state is "closed"
    And the api texts "api-WRONG-secret-91x" and "api-good-token-7f3a" appear in no error, repr or log record

  Scenario: A token that may not read is forbidden, fatal at once
    Given a reference server whose token verifier accepts "api-no-read-token-c4e2" as a principal that may not read
    When an api client with the token "api-no-read-token-c4e2" connects to the reference server and subscribes to plan "p"
    Then the api client stopped with "ForbiddenError", from wait_open and from the subscription to plan "p"
    And the api client never scheduled a retry
    And the reference server refused 1 upgrade and accepted 0 connections
    And the api text "api-no-read-token-c4e2" appears in no error, repr or log record

  Scenario: Behind a proxy refusing WebSockets the client polls, then returns to the WebSocket
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And a proxy in front of the reference server that answers WebSocket upgrades with 502
    And 3 events were published to plan "p"
    When an api client in transport "auto" connects through the proxy and subscribes to plan "p"
    Then the api client state becomes "polling"
    And the api consumer of plan "p" has received seq 1 to 3 exactly once in order
    When 3 events are published to plan "p"
    Then the api consumer of plan "p" has received seq 1 to 6 exactly once in order
    And the api client answered polls while the proxy refused at least 2 upgrades
    When the proxy starts passing WebSocket upgrades
    Then the api client state becomes "open"
    When 3 events are published to plan "p"
    Then the api consumer of plan "p" has received seq 1 to 9 exactly once in order
    And the api state hook saw the states "connecting, reconnecting, polling, open"
    And the proxy passed at least 1 WebSocket upgrade

  Scenario: Transport "polling" streams from the reference server without ever opening a WebSocket
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And 3 events were published to plan "p"
    When an api client in transport "polling" connects to the reference server and subscribes to plan "p"
    Then the api client state becomes "polling"
    And the api consumer of plan "p" has received seq 1 to 3 exactly once in order
    When 2 events are published to plan "p"
    Then the api consumer of plan "p" has received seq 1 to 5 exactly once in order
    And the api client answered polls and opened no WebSocket
    And the api state hook saw the states "polling"
