Feature: The client fails loudly and takes server URLs as users write them
  A new user writes the server's address the way they know it (http://HOST:PORT,
  the app's mount prefix, the WebSocket endpoint) and expects it to work; when
  it cannot, they expect a clear error within a bound they can change, not a
  silent wait. One pure module derives the stream URL and the HTTP base
  (planstream.endpoints); a first-connection deadline (connect_timeout) ends
  every wait with ConnectTimeoutError naming the URL and the last failure; a
  404 or a non-planstream 403 on the upgrade says that no planstream endpoint
  answers there; settings warn about misspelled PLANSTREAM_* variables.
  (issue 13, items 2, 3 and 6)

  Background:
    Given no PLANSTREAM_* environment variable is set

  # --- one place derives the endpoints (item 3) ----------------------------------------

  Scenario Outline: The URL <url> is the stream <stream> and the HTTP base <http>
    When the server endpoints of "<url>" are derived
    Then the endpoints are the stream URL "<stream>" and the HTTP base "<http>"
    And the endpoints' plan URLs for plan "a b/c" are under "<http>"

    Examples:
      | url                                | stream                                         | http                               |
      | ws://127.0.0.1:8765/v1/stream      | ws://127.0.0.1:8765/v1/stream                  | http://127.0.0.1:8765              |
      | ws://127.0.0.1:8765                | ws://127.0.0.1:8765/v1/stream                  | http://127.0.0.1:8765              |
      | http://127.0.0.1:8765/             | ws://127.0.0.1:8765/v1/stream                  | http://127.0.0.1:8765              |
      | https://example.org:9443/planstream | wss://example.org:9443/planstream/v1/stream   | https://example.org:9443/planstream |
      | wss://example.org/planstream       | wss://example.org/planstream/v1/stream         | https://example.org/planstream     |
      | HTTP://example.org/a/b/v1/stream/  | ws://example.org/a/b/v1/stream                 | http://example.org/a/b             |
      | ws://[::1]:8765/x?region=eu        | ws://[::1]:8765/x/v1/stream?region=eu          | http://[::1]:8765/x                |

  Scenario Outline: A URL planstream cannot use is refused with InvalidUrlError, shown redacted (<case>)
    When the server endpoints of "<url>" are derived
    Then deriving the endpoints fails with InvalidUrlError saying "<message>"
    And the InvalidUrlError never shows "S3cr3t-pw" nor names a PLANSTREAM_ variable

    Examples:
      | case                 | url                                    | message                                   |
      | another scheme       | ftp://example.org/planstream           | must be ws:// or wss:// (the stream)      |
      | no host              | http:///planstream                     | with a host                               |
      | no URL at all        | localhost:8765                         | with a host                               |
      | a bad port           | http://example.org:99999               | has an invalid port                       |
      | a broken host        | http://[::1/x                          | is not a URL                              |
      | a password           | https://robot:S3cr3t-pw@example.org    | 'https://***@example.org' must not carry credentials |
      | a token parameter    | wss://example.org/ps?token=S3cr3t-pw   | query parameter 'token'                   |

  Scenario: A bad URL among several is named by its place in the urls argument
    When client settings are built with arguments {"urls": ["ws://a:1", "ftp://b:2"]}
    Then building the client settings fails with a SettingsError naming "urls[1]"
    And the SettingsError message mentions "'ftp://b:2' must be ws:// or wss://"

  Scenario: The polling transport's HTTP base comes from the same place
    Then http_base_url of "wss://example.org/planstream/v1/stream" is "https://example.org/planstream"
    And http_base_url of "http://example.org:8001/planstream/" is "http://example.org:8001/planstream"

  Scenario: A client built with an http:// URL streams from the reference server
    Given a reference server with a plan "loud-http" of 3 events
    When a loud client built with the server's http:// base streams plan "loud-http"
    Then the loud client received seq 1 to 3 of plan "loud-http"

  Scenario: A client built with a URL it cannot use names that URL, not a variable the user never set
    When a PlanStreamClient is built with the URL "ftp://robot:S3cr3t-pw@example.org"
    Then building the client failed with a SettingsError mentioning "'ftp://***@example.org'"
    And that SettingsError names "url", never "PLANSTREAM_URL", nor "S3cr3t-pw"

  Scenario: A server mounted under /planstream streams to the SDK and to every CLI command given http://HOST:PORT/planstream
    Given the reference server mounted under "/planstream" in a host app served by uvicorn
    And plan "mounted" was published through the mounted server's prefix: 1 steps, then "succeeded"
    When the planstream command runs "watch mounted --json --url {mount_url}" against the mounted server
    Then the planstream command exits with status 0
    And the planstream command printed 6 lines starting with "{"
    When the planstream command runs "plans --url {mount_url}" against the mounted server
    Then the planstream command exits with status 0
    And the planstream command's stdout mentions "mounted"
    When the planstream command runs "plans --url {mount_url}/elsewhere" against the mounted server
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "no planstream endpoint answers at http://127.0.0.1"
    When a loud client in transport "polling" built with the mounted URL streams plan "mounted"
    Then the loud client received seq 1 to 6 of plan "mounted"
    When a loud client in transport "websocket" built with the mounted URL streams plan "mounted"
    Then the loud client received seq 1 to 6 of plan "mounted"

  # --- fail loudly: a first-connection deadline (item 2) ---------------------------------

  Scenario: Nothing listening: subscribe() and wait_open() raise ConnectTimeoutError within connect_timeout
    Given a loud client with connect_timeout 0.5 aimed at a closed port
    When the loud client subscribes to plan "p" and waits at most 10 seconds
    Then the loud subscription ended with ConnectTimeoutError naming the URL and "ConnectionRefusedError"
    And the loud client's wait_open() raised ConnectTimeoutError too
    And the loud client gave up after at least 0.5 and at most 5 seconds
    And the loud client's state changes end with "reconnecting -> closed" and none is "closed -> closed"

  Scenario: An attempt that hangs is cut short at the deadline
    Given a silent TCP server that accepts connections and never answers
    And a loud client with connect_timeout 0.5 and open_timeout 30 aimed at the silent server
    When the loud client subscribes to plan "p" and waits at most 10 seconds
    Then the loud subscription ended with ConnectTimeoutError naming the URL and "no answer yet (the first attempt was still under way)"
    And the ConnectTimeoutError has no last failure
    And the loud client gave up after at least 0.5 and at most 5 seconds
    And the silent server saw 1 connection

  Scenario: A plain HTTP server answering 404 is "no planstream endpoint", and the deadline ends the wait
    Given a plain HTTP server answering 404 to every request
    And a loud client with connect_timeout 1 in transport "auto" aimed at the 404 server under "/wrong"
    When the loud client subscribes to plan "p" and waits at most 15 seconds
    Then the loud subscription ended with ConnectTimeoutError naming the URL and "no planstream endpoint answers at"
    And the loud client's state changes reported EndpointNotFoundError for "ws://127.0.0.1:{port}/wrong/v1/stream"
    And the loud client's state changes reported EndpointNotFoundError for "http://127.0.0.1:{port}/wrong/v1/plans/p/events"

  Scenario: The reference server's 403 for an unknown path is not a token problem; its own 403 is
    Given a reference server with a plan "loud-403" of 1 events
    When a loud client in transport "websocket" with connect_timeout 1 aims at the reference server under "/wrong"
    And the loud client subscribes to plan "loud-403" and waits at most 15 seconds
    Then the loud subscription ended with ConnectTimeoutError naming the URL and "no planstream endpoint answers at"
    And the ConnectTimeoutError's last failure is an EndpointNotFoundError with status 403, not a ForbiddenError

  Scenario: A client that connected once is not ended by the deadline
    Given a reference server with a plan "loud-late" of 2 events
    And a loud client with connect_timeout 0.5 aimed at the reference server
    When the loud client subscribes to plan "loud-late" and waits at most 2 seconds
    Then the loud client received seq 1 to 2 of plan "loud-late"
    And the loud client is still "open" after 1 seconds

  Scenario: Polling that answered before the deadline carries on past it
    Given a reference server with a plan "loud-poll" of 2 events
    And a loud client with connect_timeout 0.5 in transport "polling" aimed at the reference server
    When the loud client subscribes to plan "loud-poll" and waits at most 2 seconds
    Then the loud client received seq 1 to 2 of plan "loud-poll"
    And the loud client is still "polling" after 1 seconds

  Scenario: Without connect_timeout polling has no deadline at all
    Given a reference server with a plan "loud-forever" of 2 events
    And a loud client with connect_timeout 0 in transport "polling" aimed at the reference server
    When the loud client subscribes to plan "loud-forever" and waits at most 1 seconds
    Then the loud client received seq 1 to 2 of plan "loud-forever"
    And the loud client is still "polling" after 0.2 seconds

  Scenario: connect_timeout is 30 s by default; 0 or None waits for ever
    Then client settings built with these connect timeouts hold these values:
      | given                             | value |
      | nothing                           | 30.0  |
      | argument 2.5                      | 2.5   |
      | argument 0                        | none  |
      | argument none                     | none  |
      | PLANSTREAM_CONNECT_TIMEOUT=0      | none  |
      | PLANSTREAM_CONNECT_TIMEOUT=12     | 12.0  |
    And a connect_timeout of -1 is refused naming "connect_timeout"

  # --- watch --json tells the connection's story on stderr (item 2) ---------------------------

  Scenario: watch --json writes every connection state change on stderr, one line each, and exits 2 at the deadline
    When the planstream command runs "watch p --json --url ws://127.0.0.1:{free_port} --connect-timeout 0.6"
    Then the planstream command exits with status 2
    And the planstream command's stdout is empty
    And the planstream command's stderr starts with these lines:
      | line                                                            |
      | planstream: connection closed -> connecting                     |
      | planstream: connection connecting -> reconnecting: ConnectionLostError: could not reach the server |
    And every "reconnecting" line on the planstream command's stderr says "; retry in" with at most 3 decimals
    And the planstream command's last stderr line contains "cannot reach ws://127.0.0.1:" and "(gave up after 0.6 s)"

  Scenario: An outage during watch --json is told on stderr, one line per change, while stdout stays JSON
    Given "planstream serve" runs with "--token loud-reader --publish-token loud-writer"
    When the planstream command runs "publish loud-out plan.status --data '{"status": "running", "reason": null}' --token loud-writer --url {http_url}"
    And "planstream watch loud-out --json --follow --token loud-reader --url {http_url}" runs in the background until it printed "plan.status"
    And "planstream serve" is stopped with SIGTERM
    And the background planstream command is interrupted with SIGINT after 1.5 seconds
    Then the background planstream command's stdout is 1 JSON line
    And the background planstream command's stderr has the lines, in order:
      | line                                                    |
      | planstream: connection closed -> connecting             |
      | planstream: connection connecting -> open               |
      | planstream: connection open -> reconnecting:            |
      | planstream: connection reconnecting -> reconnecting: ConnectionLostError: could not reach the server |
    And every reconnecting line of the background planstream command says "; retry in" and a delay

  Scenario: watch --connect-timeout reads PLANSTREAM_CONNECT_TIMEOUT
    When the planstream command runs "watch p --url ws://127.0.0.1:{free_port}" with the environment variable PLANSTREAM_CONNECT_TIMEOUT=0.4
    Then the planstream command exits with status 2
    And the planstream command printed one error line containing "(gave up after 0.4 s)"

  # --- settings and display (item 6) ---------------------------------------------------------------

  Scenario: A misspelled PLANSTREAM_* variable warns, naming the closest known one
    Given the PLANSTREAM environment variable "PLANSTREAM_RECONECT__INITIAL_DELAY" is "0.123"
    When client settings are built with no arguments, recording warnings
    Then one PlanStreamWarning says "PLANSTREAM_RECONECT__INITIAL_DELAY is not a planstream setting and is ignored; did you mean PLANSTREAM_RECONNECT__INITIAL_DELAY?"
    And no warning shows "0.123"
    When a PlanStreamClient is built with no arguments, recording warnings
    Then one PlanStreamWarning says "PLANSTREAM_RECONECT__INITIAL_DELAY is not a planstream setting and is ignored; did you mean PLANSTREAM_RECONNECT__INITIAL_DELAY?"

  Scenario: Variables the project reads elsewhere are not reported; one far from every name gets no guess
    Given the PLANSTREAM environment variable "PLANSTREAM_SERVER_PORT" is "8001"
    And the PLANSTREAM environment variable "PLANSTREAM_TEST_SEED" is "7"
    And the PLANSTREAM environment variable "PLANSTREAM_BENCH_REPEAT" is "1"
    And the PLANSTREAM environment variable "PLANSTREAM_SSL__VERIFY" is "true"
    And the PLANSTREAM environment variable "PLANSTREAM_RECONNECT" is '{"factor": 3}'
    And the PLANSTREAM environment variable "PLANSTREAM_CONNECT_TIMEOUT" is "5"
    And the PLANSTREAM environment variable "PLANSTREAM_XYZZY" is "1"
    When client settings are built with no arguments, recording warnings
    Then one PlanStreamWarning says "PLANSTREAM_XYZZY is not a planstream setting and is ignored (see docs/reference/settings.md)"

  Scenario: A CLI command warns about a misspelled variable in one plain line
    When the planstream command runs "watch p --url ws://127.0.0.1:{free_port} --connect-timeout 0.3" with the environment variable PLANSTREAM_RECONECT__INITIAL_DELAY=1
    Then the planstream command exits with status 2
    And the planstream command's stderr starts with these lines:
      | line                                                                                                                               |
      | planstream: warning: PLANSTREAM_RECONECT__INITIAL_DELAY is not a planstream setting and is ignored; did you mean PLANSTREAM_RECONNECT__INITIAL_DELAY? |
      | planstream: error: cannot reach ws://127.0.0.1:                                                                                    |

  Scenario: A PlanStreamWarning is a planstream error too, so one filter can make it fatal
    Then PlanStreamWarning is a UserWarning and a PlanStreamError

  Scenario: A state change shows its durations rounded
    Then a StateChange from "reconnecting" to "reconnecting" with a ConnectionLostError "gone" and retry_in 0.19999999999998863 reads "reconnecting -> reconnecting: ConnectionLostError: gone; retry in 0.2 s"
    And its repr shows "retry_in=0.2)"
    And a StateChange from "closed" to "connecting" reads "closed -> connecting"

  Scenario: Giving up after max_attempts ends with one move to closed, not closed -> closed
    Given a loud client with max_attempts 2 and no connect_timeout aimed at a closed port
    When the loud client subscribes to plan "p" and waits at most 10 seconds
    Then the loud subscription ended with the error RetriesExhaustedError
    And the loud client's state changes end with "reconnecting -> closed" and none is "closed -> closed"

  # --- the deadline in the pure connection machine (item 2) -----------------------------------

  Scenario Outline: The machine's connect deadline stops it from <state> with ConnectTimeoutError
    Given a deadline machine over transport "<transport>" with connect_timeout 5 for "ws://a:1/v1/stream"
    When the deadline machine starts at 10 and <then>
    Then the deadline machine's deadline is 15
    And the deadline machine times out at 15 with ConnectTimeoutError naming "ws://a:1/v1/stream" and "<last>"
    And the deadline machine is "closed" with no deadline

    Examples:
      | state        | transport | then                                 | last                         |
      | connecting   | websocket | nothing else happens                 | no answer yet                |
      | reconnecting | websocket | its first attempt is refused at 11   | could not reach the server   |
      | polling      | polling   | nothing else happens                 | no answer yet                |
      | polling      | auto      | two upgrades are refused with 404    | no planstream endpoint answers at ws://a:1/v1/stream |

  Scenario: The machine's deadline is lifted for good by a first connection, and refused when not due
    Given a deadline machine over transport "websocket" with connect_timeout 5 for "ws://a:1/v1/stream"
    Then the deadline machine refuses timed_out at 3 before it starts
    When the deadline machine starts at 0 and nothing else happens
    Then the deadline machine refuses timed_out at 3 before its deadline
    When the deadline machine connects at 1
    Then the deadline machine has no deadline
    And the deadline machine refuses timed_out at 9 with no deadline
    When the deadline machine's connection fails at 2
    Then the deadline machine has no deadline

  Scenario: A first answered poll lifts the deadline; a fatal stop and close() clear it
    Given a deadline machine over transport "polling" with connect_timeout 5 for "ws://a:1/v1/stream"
    When the deadline machine starts at 0 and a poll is answered at 1
    Then the deadline machine has no deadline
    Given a deadline machine over transport "websocket" with connect_timeout 5 for "ws://a:1/v1/stream"
    When the deadline machine starts at 0 and its first attempt is refused with 403 at 1
    Then the deadline machine is "closed" with no deadline
    Given a deadline machine over transport "websocket" with connect_timeout 5 for "ws://a:1/v1/stream"
    When the deadline machine starts at 0 and nothing else happens
    And the deadline machine is closed
    Then the deadline machine is "closed" with no deadline

  Scenario: A machine without connect_timeout has no deadline; a zero or negative one is refused
    Given a deadline machine over transport "websocket" with no connect_timeout
    When the deadline machine starts at 0 and nothing else happens
    Then the deadline machine has no deadline
    And a deadline machine with connect_timeout 0 is refused with "connect_timeout must be positive"

  # --- an upgrade refusal from something that is not a planstream endpoint (item 2) -------------

  Scenario Outline: HTTP <status> with <body> at the upgrade URL is <error>
    When an upgrade refusal with HTTP <status> and body "<body>" at "ws://h:1/x/v1/stream?token=S3cr3t-pw" is classified
    Then the connection machine verdict is "<kind>" with error class <error>
    And the connection machine verdict's error message includes "<mentions>"
    And the connection machine verdict's error message never shows "S3cr3t-pw"

    Examples:
      | status | body                       | kind     | error                 | mentions                                                      |
      | 404    | empty                      | fallback | EndpointNotFoundError | no planstream endpoint answers at ws://h:1/x/v1/stream?token=*** (HTTP 404) |
      | 404    | a JSON not_found           | fallback | EndpointNotFoundError | (HTTP 404: Not Found); check the URL's host, port and path    |
      | 403    | empty                      | fallback | EndpointNotFoundError | no planstream endpoint answers at                             |
      | 403    | a proxy's JSON             | fallback | EndpointNotFoundError | (HTTP 403: edge proxy)                                        |
      | 403    | planstream's forbidden     | fatal    | ForbiddenError        | HTTP 403: this token may not read (forbidden)                 |
      | 502    | empty                      | fallback | UpgradeRefusedError   | HTTP 502                                                      |
