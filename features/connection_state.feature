Feature: The connection state machine decides what the transport does after every connection event
  Failures are classified in one place (protocol §2 and §4): a close code, an
  HTTP answer refusing the WebSocket upgrade, a network error or a silent
  connection becomes a verdict (retry, refresh_token, fatal or fallback) with
  the error to report. The pure ConnectionStateMachine turns events and
  verdicts into the one action the asyncio transport performs next. Time is a
  plain number and the backoff randomness is seeded, so every timing here is
  exact.

  # --- close codes (protocol §4) ----------------------------------------------------

  Scenario Outline: Close code <code> (<meaning>) calls for <kind> with error class <error>
    When close code <code> with an empty reason is classified, with a token provider: <provider>
    Then the connection machine verdict is "<kind>" with error class <error>
    And the connection machine verdict's error class derives from <base> and its message names close code <code>
    And the connection machine verdict carries no retry_after hint

    Examples:
      | code | meaning                    | provider | kind          | error                     | base           |
      | 1000 | normal, but not asked for  | yes      | retry         | ConnectionLostError       | RetryableError |
      | 1001 | going away                 | yes      | retry         | ServerUnavailableError    | RetryableError |
      | 1011 | internal error             | no       | retry         | ServerUnavailableError    | RetryableError |
      | 1012 | service restart            | no       | retry         | ServerUnavailableError    | RetryableError |
      | 1013 | try again later            | no       | retry         | ServerUnavailableError    | RetryableError |
      | 4029 | rate limited               | yes      | retry         | RateLimitedError          | RetryableError |
      | 4008 | slow consumer              | no       | retry         | SlowConsumerError         | RetryableError |
      | 4001 | token expired, provider    | yes      | refresh_token | AuthenticationError       | FatalError     |
      | 4001 | token expired, no provider | no       | fatal         | AuthenticationError       | FatalError     |
      | 4003 | forbidden                  | yes      | fatal         | ForbiddenError            | FatalError     |
      | 4006 | incompatible protocol      | yes      | fatal         | IncompatibleProtocolError | FatalError     |
      | 1008 | policy violation           | no       | fatal         | PolicyViolationError      | FatalError     |
      | 1009 | frame too big              | no       | fatal         | MessageTooBigError        | FatalError     |
      | 1006 | abrupt loss                | yes      | retry         | ConnectionLostError       | RetryableError |
      | 1005 | no status received         | no       | retry         | ConnectionLostError       | RetryableError |
      | 3000 | a code nobody defined      | no       | retry         | ConnectionLostError       | RetryableError |
      | 4999 | an unknown private code    | yes      | retry         | ConnectionLostError       | RetryableError |

  Scenario: A JSON retry_after in the reason of 1013 and 4029 is read; malformed reasons are ignored
    Then close code reasons give these retry_after hints:
      | code | reason                   | retry_after | why                                   |
      | 1013 | {"retry_after": 5}       | 5           | the hint of try-again-later           |
      | 4029 | {"retry_after": 0.25}    | 0.25        | fractions of a second                 |
      | 4029 | {"retry_after": 0}       | 0           | zero is a hint (no wait)              |
      | 4029 | rate limited             | none        | not JSON                              |
      | 4029 | {"retry_after": "soon"}  | none        | not a number                          |
      | 4029 | {"retry_after": true}    | none        | a boolean is not a number of seconds  |
      | 1013 | {"retry_after": -3}      | none        | negative                              |
      | 1013 | {"retry_after": NaN}     | none        | not finite                            |
      | 4029 | {"retry_after": 1e999}   | none        | infinite                              |
      | 4029 | [5]                      | none        | not an object                         |
      | 4029 | {"wait": 5}              | none        | no retry_after field                  |
      | 1001 | {"retry_after": 5}       | none        | only 1013 and 4029 carry the hint     |
    And the error of every close code verdict with a hint carries the same retry_after

  Scenario: A close reason nested too deep to parse is ignored, never raised
    When close code 4029 with a reason of 100000 nested JSON arrays is classified
    Then the connection machine verdict is "retry" with error class RateLimitedError
    And the connection machine verdict carries no retry_after hint
    And the error message quotes at most 120 characters of the close code reason

  Scenario: The close code 4006 error names the server's reason and this client's versions
    When close code 4006 with reason "schema 2.0 required" is classified, with a token provider: no
    Then the connection machine verdict's error says the server has "schema 2.0 required" and the client "protocol 1, schema 1.0"

  # --- upgrade refusals (protocol §2, §6) --------------------------------------------

  Scenario Outline: An upgrade refusal with HTTP <status> (<meaning>) calls for <kind>
    When an upgrade refusal with HTTP <status> and body "<body>" is classified, with a token provider: <provider>
    Then the connection machine verdict is "<kind>" with error class <error>
    And the connection machine verdict's error message includes "<mentions>"

    Examples:
      | status | meaning                     | body         | provider | kind          | error                     | mentions              |
      | 400    | no common subprotocol       | incompatible | yes      | fatal         | IncompatibleProtocolError | no common subprotocol |
      | 401    | unauthorized, provider      | unauthorized | yes      | refresh_token | AuthenticationError       | HTTP 401              |
      | 401    | unauthorized, no provider   | unauthorized | no       | fatal         | AuthenticationError       | HTTP 401              |
      | 403    | forbidden                   | forbidden    | yes      | fatal         | ForbiddenError            | HTTP 403              |
      | 429    | rate limited                | empty        | no       | retry         | RateLimitedError          | HTTP 429              |
      | 503    | unavailable                 | unavailable  | no       | retry         | ServerUnavailableError    | HTTP 503              |
      | 502    | a proxy's bad gateway       | html         | no       | fallback      | UpgradeRefusedError       | HTTP 502              |
      | 404    | a proxy that knows no route | empty        | yes      | fallback      | UpgradeRefusedError       | HTTP 404              |
      | 400    | a bad request, not ours     | bad_request  | no       | fallback      | UpgradeRefusedError       | HTTP 400              |
      | 500    | a proxy's internal error    | garbage      | no       | fallback      | UpgradeRefusedError       | HTTP 500              |
      | 200    | a page instead of a socket  | html         | no       | fallback      | UpgradeRefusedError       | HTTP 200              |

  Scenario: The incompatible-protocol upgrade refusal names both sides' subprotocols
    When an upgrade refusal with HTTP 400 and body "incompatible" is classified, with a token provider: no
    Then the connection machine verdict's error says the server has "subprotocols planstream.v2, planstream.v3" and the client "subprotocols planstream.v1"
    And the connection machine verdict's error message mentions "planstream.v2, planstream.v3" and "planstream.v1"

  Scenario: An incompatible upgrade refusal is recognised by its X-Planstream-Protocols header alone
    When an upgrade refusal with HTTP 400, no body and X-Planstream-Protocols "planstream.v2, ,planstream.v3," is classified
    Then the connection machine verdict is "fatal" with error class IncompatibleProtocolError
    And the connection machine verdict's error says the server has "subprotocols planstream.v2, planstream.v3" and the client "subprotocols planstream.v1"

  Scenario: An incompatible upgrade refusal that lists no subprotocols says so
    When an upgrade refusal with HTTP 400 and body "incompatible_unlisted" is classified, with a token provider: no
    Then the connection machine verdict is "fatal" with error class IncompatibleProtocolError
    And the connection machine verdict's error says the server has "subprotocols (none listed)" and the client "subprotocols planstream.v1"

  Scenario: The server's message in an upgrade refusal body reaches the error, cut short
    When an upgrade refusal with HTTP 401 and body "unauthorized" is classified, with a token provider: no
    Then the connection machine verdict's error message mentions "missing or invalid bearer token" and "no token provider"
    When an upgrade refusal with HTTP 403 and body "long_message" is classified, with a token provider: no
    Then the connection machine verdict's error message is shorter than 250 characters

  Scenario: A Retry-After header on 429 and 503 upgrade refusals is honoured when it is a number of seconds
    Then upgrade refusals with these Retry-After headers give these retry_after hints:
      | status | retry_after                   | hint | why                                      |
      | 429    | 7                             | 7    | delta-seconds                            |
      | 503    | " 2.5 "                       | 2.5  | surrounding spaces are tolerated         |
      | 503    | 0                             | 0    | zero is a hint                           |
      | 429    | Wed, 21 Oct 2015 07:28:00 GMT | none | an HTTP date needs a clock: ignored      |
      | 429    | -1                            | none | negative                                 |
      | 503    | inf                           | none | not finite                               |
      | 503    | none                          | none | no header                                |
      | 429    | float 12.5                    | 12.5 | already parsed by the transport          |
      | 502    | 30                            | none | only 429 and 503 carry the hint          |

  # --- other failures -----------------------------------------------------------------

  Scenario: A refused connection, a DNS failure or a timeout is retried and keeps its cause
    When a refused connection is classified for the connection machine
    Then the connection machine verdict is "retry" with error class ConnectionLostError
    And the connection machine verdict's error message mentions "ConnectionRefusedError" and "connection refused"
    And the connection machine verdict's error has the foreign error as its cause
    When a network error without a cause is classified for the connection machine
    Then the connection machine verdict is "retry" with error class ConnectionLostError
    And the connection machine verdict's error message mentions "could not reach the server" and "server"

  Scenario: A silent connection is retried with a heartbeat timeout
    When a heartbeat silence of 40 s over a limit of 37.5 s is classified for the connection machine
    Then the connection machine verdict is "retry" with error class HeartbeatTimeoutError
    And the connection machine verdict's error message mentions "40.0 s" and "37.5 s"

  # --- backoff (protocol §4) ---------------------------------------------------------------

  Scenario: Retry delays stay within the full-jitter envelope and reproduce exactly for the same seed
    Given a connection machine over transport "websocket"
    And the connection machine backoff is initial 0.1, factor 2, max 1.0 and jitter "full"
    And the connection machine randomness is seeded with 42
    When the connection machine starts at 0
    And the connection machine's next 12 attempts all fail with close code 1006
    Then every connection machine retry delay n lies within [0, min(1.0, 0.1 * 2^n)]
    And the connection machine drew retry delays that are not all equal
    And the connection machine attempt counter is 12
    And another connection machine seeded with 42 and fed the same failures draws exactly the same delays
    And another connection machine seeded with 43 and fed the same failures draws different delays

  Scenario: Without jitter the retry delays follow the curve, and a 4029 hint is a lower bound
    Given a connection machine over transport "websocket"
    When the connection machine starts at 0
    And the connection machine's next 4 attempts all fail with close code 1011
    Then the connection machine retry delays are 1, 2, 4, 8
    When the connection machine fails with close code 4029 and reason '{"retry_after": 20}' at 100
    Then the connection machine says connect over WebSocket at 120
    And the connection machine attempt counter is 5

  Scenario: The attempt counter resets only after a connection stayed healthy for reset_after seconds
    Given a connection machine over transport "websocket"
    And the connection machine resets its attempts after 10 healthy seconds
    When the connection machine starts at 0
    And the connection machine's next 3 attempts all fail with close code 1006
    Then the connection machine attempt counter is 3
    When the connection machine connects at 100
    Then the connection machine says carry on with nothing scheduled
    And the connection machine is "open"
    When the connection machine fails with close code 1001 at 109.99
    Then the connection machine attempt counter is 4
    And the connection machine says connect over WebSocket at 117.99
    When the connection machine connects at 120
    And the connection machine fails with close code 1001 at 130
    Then the connection machine attempt counter is 1
    And the connection machine says connect over WebSocket at 131

  Scenario: When max_attempts is used up the connection machine stops with the last error
    Given a connection machine over transport "websocket"
    And the connection machine gives up after 3 attempts
    When the connection machine starts at 0
    And the connection machine fails with close code 1006 at 1
    And the connection machine fails with close code 1011 at 3
    And the connection machine fails with close code 1012 at 7
    Then the connection machine is "reconnecting"
    When the connection machine fails with close code 4029 at 20
    Then the connection machine says stop with error class RetriesExhaustedError
    And the connection machine is "closed"
    And the connection machine's RetriesExhaustedError carries the RateLimitedError of close code 4029 after 3 attempts

  Scenario: A healthy connection gives a connection machine at its max_attempts a fresh start
    Given a connection machine over transport "websocket"
    And the connection machine gives up after 2 attempts
    And the connection machine resets its attempts after 10 healthy seconds
    When the connection machine starts at 0
    And the connection machine's next 2 attempts all fail with close code 1006
    And the connection machine connects at 50
    And the connection machine fails with close code 1006 at 60
    Then the connection machine says connect over WebSocket at 61
    And the connection machine attempt counter is 1

  # --- fallback to polling (protocol §6) -------------------------------------------------

  Scenario: Transport auto falls back to polling after 2 upgrade refusals and probes the WebSocket until it works
    Given a connection machine over transport "auto"
    When the connection machine starts at 0
    Then the connection machine says connect over WebSocket at 0
    When the connection machine fails with upgrade refusal HTTP 502 at 0.5
    Then the connection machine says connect over WebSocket at 1.5
    And the connection machine is "reconnecting"
    When the connection machine fails with upgrade refusal HTTP 404 at 2
    Then the connection machine says start polling at 2 with a WebSocket probe at 32
    And the connection machine is "polling"
    And the connection machine attempt counter is 0
    When the connection machine's poll succeeds at 2.5
    Then the connection machine says carry on until 32
    When the connection machine's WebSocket probe fails with upgrade refusal HTTP 502 at 32
    Then the connection machine says connect over WebSocket at 62
    And the connection machine is "polling"
    And the connection machine attempt counter is 0
    When the connection machine's WebSocket probe fails with close code 1006 at 62
    Then the connection machine says connect over WebSocket at 92
    And the connection machine attempt counter is 0
    When the connection machine's poll succeeds at 70
    Then the connection machine says carry on until 92
    When the connection machine connects at 92
    Then the connection machine says stop polling
    And the connection machine is "open"

  Scenario: Only consecutive refusals of connection attempts count towards the fallback
    Given a connection machine over transport "auto"
    When the connection machine starts at 0
    And the connection machine fails with upgrade refusal HTTP 502 at 0
    And the connection machine fails with a network error at 1
    And the connection machine fails with upgrade refusal HTTP 502 at 3
    Then the connection machine is "reconnecting"
    When the connection machine fails with upgrade refusal HTTP 502 at 7
    Then the connection machine says start polling at 7 with a WebSocket probe at 37

  Scenario: A fallback-candidate failure of an open connection does not count as an upgrade refusal
    Given a connection machine over transport "auto"
    And the connection machine falls back after 1 refusal
    When the connection machine starts at 0
    And the connection machine connects at 0
    And the connection machine fails with upgrade refusal HTTP 502 at 5
    Then the connection machine is "reconnecting"
    And the connection machine says connect over WebSocket at 6
    When the connection machine fails with upgrade refusal HTTP 502 at 6
    Then the connection machine says start polling at 6 with a WebSocket probe at 36

  Scenario: A failed poll backs off and keeps polling; a healthy poll lets the counter reset
    Given a connection machine over transport "polling"
    And the connection machine resets its attempts after 10 healthy seconds
    When the connection machine starts at 0
    Then the connection machine says start polling at 0 with no WebSocket probe
    And the connection machine is "polling"
    When the connection machine's poll succeeds at 1
    Then the connection machine says carry on with nothing scheduled
    When the connection machine's poll fails with HTTP 503 at 5
    Then the connection machine says connect by polling at 6
    And the connection machine is "polling"
    When the connection machine's poll fails with a network error at 6
    Then the connection machine says connect by polling at 8
    And the connection machine attempt counter is 2
    When the connection machine's poll succeeds at 8
    And the connection machine's poll succeeds at 12
    And the connection machine's poll fails with a network error at 18
    Then the connection machine attempt counter is 1
    And the connection machine says connect by polling at 19

  Scenario: Transport websocket never falls back, however many upgrade refusals
    Given a connection machine over transport "websocket"
    When the connection machine starts at 0
    And the connection machine's next 6 attempts all fail with upgrade refusal HTTP 502
    Then the connection machine is "reconnecting"
    And every connection machine action so far was a connect over WebSocket
    And the connection machine attempt counter is 6

  Scenario: Transport polling never tries the WebSocket
    Given a connection machine over transport "polling"
    When the connection machine starts at 0
    And the connection machine's poll fails with HTTP 502 at 1
    And the connection machine's poll fails with HTTP 502 at 2
    And the connection machine's poll fails with HTTP 502 at 4
    Then the connection machine is "polling"
    And no connection machine action so far asked for a WebSocket
    And the connection machine refuses a WebSocket report while polling with an InvalidStateError

  # --- the token (protocol §2, §4) --------------------------------------------------------

  Scenario: The token is refreshed once; refused again right after the refresh is fatal
    Given a connection machine over transport "auto"
    When the connection machine starts at 0
    And the connection machine connects at 0
    And the connection machine fails with close code 4001 at 50
    Then the connection machine says refresh the token then connect over WebSocket at 50
    And the connection machine is "reconnecting"
    And the connection machine attempt counter is 0
    When the connection machine fails with upgrade refusal HTTP 401 at 51
    Then the connection machine says stop with error class AuthenticationError
    And the connection machine is "closed"
    And the connection machine's stop error mentions the refresh and is caused by the second refusal

  Scenario: A token accepted after a refresh may be refreshed again later
    Given a connection machine over transport "websocket"
    When the connection machine starts at 0
    And the connection machine fails with upgrade refusal HTTP 401 at 0
    And the connection machine connects at 1
    And the connection machine fails with close code 4001 at 3600
    Then the connection machine says refresh the token then connect over WebSocket at 3600

  Scenario: Any other failure between two refusals of the token allows another refresh
    Given a connection machine over transport "websocket"
    When the connection machine starts at 0
    And the connection machine fails with upgrade refusal HTTP 401 at 0
    And the connection machine fails with a network error at 0
    And the connection machine fails with upgrade refusal HTTP 401 at 1
    Then the connection machine says refresh the token then connect over WebSocket at 1

  Scenario: Without a token provider a refused token stops the connection machine at once
    Given a connection machine over transport "websocket"
    And the connection machine has no token provider
    When the connection machine starts at 0
    And the connection machine fails with close code 4001 at 0
    Then the connection machine says stop with error class AuthenticationError
    When the connection machine starts at 10
    And the connection machine fails with a refresh_token verdict meant for a client with a provider at 11
    Then the connection machine says stop with error class AuthenticationError
    And the connection machine is "closed"

  Scenario: A refused token while polling is refreshed for the poll, and for a WebSocket probe
    Given a connection machine over transport "auto"
    When the connection machine starts at 0
    And the connection machine's next 2 attempts all fail with upgrade refusal HTTP 502
    And the connection machine's poll fails with HTTP 401 at 5
    Then the connection machine says refresh the token then connect by polling at 5
    When the connection machine's poll succeeds at 6
    And the connection machine's WebSocket probe fails with upgrade refusal HTTP 401 at 40
    Then the connection machine says refresh the token then connect over WebSocket at 40
    And the connection machine is "polling"
    When the connection machine's poll succeeds at 41
    Then the connection machine says carry on until 40

  # --- fatal verdicts, close(), misuse ----------------------------------------------------

  Scenario Outline: A fatal <failure> stops the connection machine from <state> with its error
    Given a connection machine over transport "auto"
    When the connection machine is driven to state "<state>"
    And the connection machine's current channel fails with <failure>
    Then the connection machine says stop with error class <error>
    And the connection machine is "closed"

    Examples:
      | state        | failure                  | error                     |
      | connecting   | upgrade refusal HTTP 403 | ForbiddenError            |
      | open         | close code 1008          | PolicyViolationError      |
      | open         | close code 1009          | MessageTooBigError        |
      | reconnecting | close code 4006          | IncompatibleProtocolError |
      | polling      | upgrade refusal HTTP 403 | ForbiddenError            |
      | polling      | WebSocket probe refused with HTTP 400 | IncompatibleProtocolError |

  Scenario Outline: close() from <state> stops the connection machine with no error
    Given a connection machine over transport "<transport>"
    When the connection machine is driven to state "<state>"
    And the connection machine is closed
    Then the connection machine says stop with no error
    And the connection machine is "closed"
    When the connection machine is closed
    Then the connection machine says stop with no error
    When the connection machine starts at 1000
    Then the connection machine attempt counter is 0
    And the connection machine is "<restart>"

    Examples:
      | transport | state        | restart    |
      | auto      | closed       | connecting |
      | auto      | connecting   | connecting |
      | auto      | open         | connecting |
      | auto      | reconnecting | connecting |
      | auto      | polling      | connecting |
      | polling   | polling      | polling    |

  Scenario: An input the current state does not accept raises InvalidStateError and changes nothing
    Then the connection machine refuses these inputs with an InvalidStateError:
      | transport | state        | input                         |
      | auto      | closed       | connected                     |
      | auto      | closed       | poll succeeded                |
      | auto      | closed       | failed with close code 1006   |
      | auto      | closed       | poll failed with HTTP 503     |
      | auto      | connecting   | start                         |
      | auto      | connecting   | poll succeeded                |
      | auto      | open         | connected                     |
      | auto      | open         | start                         |
      | auto      | open         | poll failed with HTTP 503     |
      | auto      | reconnecting | start                         |
      | auto      | polling      | start                         |
      | polling   | polling      | connected                     |
      | polling   | polling      | failed with close code 1006   |
      | websocket | reconnecting | poll succeeded                |

  Scenario: The transition table is complete and read-only
    Then every connection machine state has a transition for close, and close always leads to "closed"
    And every connection machine state except "closed" has a transition for stop leading to "closed"
    And every connection machine state is reachable from "closed" through the transition table
    And every connection machine trigger appears in the transition table
    And the connection machine transition table cannot be modified

  Scenario: A connection machine refuses nonsensical parameters and accepts the transport as text
    Then a connection machine with fallback_after 0 is refused with a ValueError
    And a connection machine with reset_after -1 is refused with a ValueError
    And a connection machine with websocket_retry_interval 0 is refused with a ValueError
    And a connection machine built with transport "polling" as text starts by polling
