Feature: The client's public API edges and its polling failure paths
  PlanStreamClient against the real reference server on 127.0.0.1: misuse of
  the API fails with a typed error at once; a client that stopped for good
  fails every later stream with the same error; watch() rebases on a resync;
  a failing state hook or token provider is logged and survived; while it
  polls, a 401 refreshes the token and a fatal refusal of a WebSocket probe
  stops the client; a WebSocket whose pongs stop coming is replaced.

  Scenario: An explicit url and token override the settings object, which keeps the rest
    Given a reference server with settings
      | setting       | value          |
      | poll_interval | 0.05           |
      | tokens        | edge-good-5d1e |
    And the reference server publishes 2 log events to plan "p"
    When an edge client is built with the reference server's url and the token "edge-good-5d1e" over settings aimed elsewhere with queue size 7
    Then the edge client's settings name the reference server's url, the token "edge-good-5d1e" and queue size 7
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 2

  Scenario: A client never entered refuses streams, closes quietly and cannot be entered after
    Given an edge client that was never entered
    Then the edge client raises PlanStreamError mentioning "inside `async with" when subscribing to plan p
    And the edge client is "closed" with no error and 0 connections
    When the edge client is closed twice
    Then the edge client is "closed" with no error and 0 connections
    And the edge client raises PlanStreamError mentioning "entered only once" when entered
    And the edge client raises ClientClosedError mentioning "closed" when subscribing to plan p

  Scenario: An entered client refuses an empty plan id and a second entry, and closes twice quietly
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And an edge client in transport "websocket" aimed at the reference server
    Then the edge client raises InvalidIdError mentioning "plan_id must not be empty" when subscribing to an empty plan id
    And the edge client raises PlanStreamError mentioning "entered only once" when entered
    And the edge client state becomes "open"
    When the edge client is closed twice
    Then the edge client is "closed" with no error and 1 connections
    And the edge client raises ClientClosedError mentioning "closed" when subscribing to plan p

  Scenario: Callbacks are checked when registered, off() removes every registration, run() needs a plan
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And the reference server publishes 2 log events and a "succeeded" status to plan "p"
    And an edge client in transport "websocket" aimed at the reference server
    Then the edge client raises InvalidCallbackError mentioning "must be callable" when given a callback that is not callable
    And the edge client raises InvalidCallbackError mentioning "a callback target is an event model" when given a callback for the target 123
    And the edge client raises ValueError mentioning "at least one plan id" when run with no plan ids
    And an edge callback registry counts 2 registrations of one callback, and 0 after removing it
    When the edge callback "all" is registered for every item and "logs" twice for LogEvent, then "logs" is removed
    And the edge client runs plan "p" into its callbacks
    Then the edge run ended without an error
    And the edge callback "all" received seq 1 to 3 and "logs" received nothing

  Scenario: A fatal refusal ends run() with the error itself, and later streams fail with it at once
    Given a reference server with settings
      | setting       | value          |
      | poll_interval | 0.05           |
      | tokens        | edge-good-5d1e |
    And the edge static token "edge-WRONG-77b0"
    And an edge client in transport "websocket" aimed at the reference server
    When the edge client runs plans "a" and "b" into its callbacks
    Then the edge run raised AuthenticationError itself, the client's error, not an exception group
    And the edge client stopped with AuthenticationError
    When the edge client subscribes to plan "c"
    Then the edge subscription to plan "c" ends with AuthenticationError mentioning "unauthorized" before any item

  Scenario: A state hook that raises is logged with its traceback, and the client and other hooks go on
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And the reference server publishes 2 log events to plan "p"
    And an edge client in transport "websocket" aimed at the reference server, whose first state hook raises
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 2
    And the edge log has an ERROR record "state-change hook" with a RuntimeError traceback
    And the edge state hook saw the states "connecting, open"

  Scenario: watch() starts from the resync's snapshot when history expired, and folds what follows
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
      | retention     | 2     |
    And the reference server publishes plan "p" running, step "build" succeeded and 2 log events
    And an edge client in transport "websocket" aimed at the reference server
    When the edge client watches plan "p"
    Then the first edge snapshot of plan "p" is "running" with step "build" "succeeded" at seq 4
    When the reference server publishes 2 log events and a "succeeded" status to plan "p"
    Then the edge watch of plan "p" ends with a "succeeded" snapshot at seq 7

  Scenario: A token provider that fails when polling starts leaves the polls without a token, and its error text out of the logs
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And the reference server publishes 3 log events to plan "p"
    And an edge token provider handing out "RAISE"
    And an edge client in transport "polling" aimed at the reference server
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 3
    And the edge log has a WARNING record "polling without a token: the token provider raised RuntimeError"
    And the edge client state becomes "polling"

  Scenario: A poll answered 401 asks the token provider again, and the polls go on with the fresh token
    Given a reference server with settings
      | setting       | value          |
      | poll_interval | 0.05           |
      | tokens        | edge-good-5d1e |
    And the reference server publishes 3 log events to plan "p"
    And an edge token provider handing out "edge-WRONG-77b0, edge-good-5d1e"
    And an edge client in transport "polling" aimed at the reference server
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 3
    And the edge state hook saw an AuthenticationError while "polling" with a retry
    And the edge token provider was called 2 times
    And the reference server refused 1 request
    When the reference server publishes 2 log events to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 5

  Scenario: A poll answered 401 whose token refresh fails is fatal at the next 401
    Given a reference server with settings
      | setting       | value          |
      | poll_interval | 0.05           |
      | tokens        | edge-good-5d1e |
    And an edge token provider handing out "edge-WRONG-77b0, RAISE"
    And an edge client in transport "polling" aimed at the reference server
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" ends with AuthenticationError mentioning "right after a refresh"
    And the edge log has a WARNING record "token refresh failed: the token provider raised RuntimeError"
    And the edge token provider was called 2 times
    And the reference server refused 2 requests
    And the edge client stopped with AuthenticationError

  Scenario: A token provider that fails before a WebSocket connect costs one retry
    Given a reference server with settings
      | setting       | value          |
      | poll_interval | 0.05           |
      | tokens        | edge-good-5d1e |
    And the reference server publishes 2 log events to plan "p"
    And an edge token provider handing out "RAISE, edge-good-5d1e"
    And an edge client in transport "websocket" aimed at the reference server
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 2
    And the edge state hook saw an AuthenticationError while "reconnecting" with a retry
    And the edge token provider was called 2 times
    And the reference server refused 0 requests
    And the edge client state becomes "open"

  Scenario: A WebSocket probe answered 403 while polling stops the client with ForbiddenError
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And an edge proxy in front of the reference server answering WebSocket upgrades with 502
    And the reference server publishes 2 log events to plan "p"
    And an edge client in transport "auto" aimed at the edge proxy
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 2
    And the edge client state becomes "polling"
    When the edge proxy answers the next WebSocket upgrades with 403
    Then the edge subscription to plan "p" ends with ForbiddenError mentioning "forbidden"
    And the edge client stopped with ForbiddenError
    And the edge proxy answered 403 once

  Scenario: A WebSocket probe answered 401 while polling refreshes the token and the WebSocket returns
    Given a reference server with settings
      | setting       | value          |
      | poll_interval | 0.05           |
      | tokens        | edge-good-5d1e |
    And an edge proxy in front of the reference server answering WebSocket upgrades with 502
    And the reference server publishes 2 log events to plan "p"
    And an edge token provider handing out "edge-good-5d1e"
    And an edge client in transport "auto" aimed at the edge proxy
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 2
    And the edge client state becomes "polling"
    When the edge proxy answers the next WebSocket upgrade with 401 and passes the ones after
    Then the edge client state becomes "open"
    And the edge state hook saw an AuthenticationError while "polling" with a retry
    And the edge proxy answered 401 once
    When the reference server publishes 2 log events to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 4

  Scenario: A WebSocket whose keepalive pong does not come back in time is replaced
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And an edge proxy in front of the reference server passing WebSocket upgrades
    And the reference server publishes 2 log events to plan "p"
    And an edge client in transport "websocket" aimed at the edge proxy, pinging every 0.1 s with a 0.3 s pong timeout
    When the edge client subscribes to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 2
    When the edge proxy holds the server's bytes on the open connections
    Then the edge state hook saw a ConnectionLostError mentioning "no pong to the keepalive ping" with a retry
    And the edge client state becomes "open"
    And the edge client connected 2 times
    When the reference server publishes 2 log events to plan "p"
    Then the edge subscription to plan "p" receives seq 1 to 4
