Feature: Browsers authenticate with the planstream.bearer.* subprotocol (protocol §2)
  Issue 14, item 1. A browser cannot set an Authorization header on a
  WebSocket upgrade, so it may offer, after planstream.v1, the subprotocol
  planstream.bearer.<token as base64url without padding>. The reference
  server reads the token from it exactly as from the header (same verifier,
  same 401 and 403), answers with planstream.v1 only, and never logs the
  offered list. A request carrying both uses the header. Anything malformed
  is a bad token: 401 with the generic body, never echoing what was offered.
  The SDK keeps using the header: these scenarios use a raw websockets client.

  Background:
    Given a reference server with settings
      | setting        | value          |
      | tokens         | reader-secret  |
      | publish_tokens | publish-secret |

  Scenario: A reader token offered as a subprotocol opens the stream, which answers planstream.v1 only
    When raw client "a" connects to the stream with the browser token "reader-secret"
    Then raw client "a" selected the stream subprotocol "planstream.v1"
    And raw client "a" got a stream hello with protocol 1, schema "1.0", server "planstream-reference/<version>", heartbeat_s 15 and max_frame_bytes 1048576
    When 5 events are published to plan "browser"
    And raw client "a" subscribes to plan "browser" from the start of the stream
    Then raw client "a" receives every stream event of plan "browser" from seq 1 to 5
    When raw client "b" connects to the stream with the browser token "publish-secret"
    Then raw client "b" selected the stream subprotocol "planstream.v1"
    And the reference server counted 0 auth failures

  Scenario: The bearer subprotocol may come first; planstream.v1 is still the one selected
    When raw client "a" connects to the stream offering the subprotocols "planstream.bearer.cmVhZGVyLXNlY3JldA, planstream.v1"
    Then raw client "a" selected the stream subprotocol "planstream.v1"

  Scenario: A bearer subprotocol without planstream.v1 is still refused with 400
    When a raw client offering the subprotocols "planstream.bearer.cmVhZGVyLXNlY3JldA" tries to open the stream
    Then the stream handshake is refused with HTTP 400
    And the refusal body is {"error": "incompatible_protocol", "supported": ["planstream.v1"]}

  Scenario: A wrong or absent token is refused with 401, a token that may not read with 403
    When a raw client with the browser token "wrong-secret" tries to open the stream
    Then the stream handshake is refused with the generic 401, quoting nothing offered
    When a raw client without a token tries to open the stream
    Then the stream handshake is refused with the generic 401, quoting nothing offered
    And the reference server counted 2 auth failures
    Given a reference server whose token verifier accepts "no-read" as a principal that may not read
    When a raw client with the browser token "no-read" tries to open the stream
    Then the stream handshake is refused with HTTP 403
    And the refusal body has error "forbidden"

  Scenario Outline: A malformed bearer subprotocol (<what>) is a bad token: 401, nothing echoed
    When a raw client offering planstream.v1 and the bearer subprotocols "<offered>" tries to open the stream
    Then the stream handshake is refused with the generic 401, quoting nothing offered
    And the reference server counted 1 auth failure

    Examples:
      | what                                       | offered                                       |
      | empty                                      | planstream.bearer.                            |
      | padded (reader-secret)                     | planstream.bearer.cmVhZGVyLXNlY3JldA==        |
      | standard base64 alphabet                   | planstream.bearer.cmVhZGVy+XNlY3JldA          |
      | percent-encoded                            | planstream.bearer.cmVhZGVy%2DNlY3JldA         |
      | a length no base64 has                     | planstream.bearer.cmVhZ                       |
      | non-canonical (also decodes reader-secret) | planstream.bearer.cmVhZGVyLXNlY3JldB          |
      | a NUL inside (reader\0secret)              | planstream.bearer.cmVhZGVyAHNlY3JldA          |
      | non-ASCII (reader-sécret in UTF-8)         | planstream.bearer.cmVhZGVyLXPDqWNyZXQ         |
      | a space inside (reader secret)             | planstream.bearer.cmVhZGVyIHNlY3JldA          |
      | the reader token twice                     | planstream.bearer.cmVhZGVyLXNlY3JldA, planstream.bearer.cmVhZGVyLXNlY3JldA |
      | a good and a wrong token                   | planstream.bearer.cmVhZGVyLXNlY3JldA, planstream.bearer.d3Jvbmctc2VjcmV0   |

  Scenario: A token longer than 4 KiB is refused with 401 even when the verifier knows it
    Given a reference server whose reader tokens are one of 4096 bytes and one of 4097 bytes
    When raw client "a" connects to the stream with the browser token of 4096 bytes
    Then raw client "a" selected the stream subprotocol "planstream.v1"
    When a raw client with the browser token of 4097 bytes tries to open the stream
    Then the stream handshake is refused with the generic 401, quoting nothing offered

  Scenario: A malformed bearer subprotocol is refused even by a server without tokens
    Given a reference server
    When a raw client offering planstream.v1 and the bearer subprotocols "planstream.bearer.cmVhZGVyLXNlY3JldA==" tries to open the stream
    Then the stream handshake is refused with the generic 401, quoting nothing offered
    When raw client "a" connects to the stream with the browser token "anything"
    Then raw client "a" selected the stream subprotocol "planstream.v1"

  Scenario: A request carrying both the header and the subprotocol is judged by the header alone
    When raw client "a" connects to the stream with the header token "reader-secret" and the browser token "wrong-secret"
    Then raw client "a" selected the stream subprotocol "planstream.v1"
    When a raw client with the header token "reader-secret" and the bearer subprotocols "planstream.bearer.cmVhZGVyLXNlY3JldA==" opens the stream
    Then that stream was opened with the subprotocol "planstream.v1" and a hello
    When a raw client with the header token "wrong-secret" and the browser token "reader-secret" tries to open the stream
    Then the stream handshake is refused with the generic 401, quoting nothing offered

  Scenario: The HTTP routes read the header only, never the subprotocol
    When "GET /v1/plans" is requested with the browser token "reader-secret" in Sec-WebSocket-Protocol only
    Then the HTTP route answered 401 with error "unauthorized"
    When "GET /v1/plans/browser/events" is requested with the browser token "reader-secret" in Sec-WebSocket-Protocol only
    Then the HTTP route answered 401 with error "unauthorized"
    When "GET /v1/plans/browser/events" is requested with the header token "reader-secret" and the browser token "wrong-secret"
    Then the HTTP route answered 200

  Scenario: The offered subprotocols reach no log, even with the server's loggers at DEBUG
    Given a reference server logging at DEBUG with the reader token "tok-BROWSER-5k2j", its log captured
    When raw client "a" connects to the stream with the browser token "tok-BROWSER-5k2j"
    And a raw client with the browser token "tok-BROWSER-wr0ng" tries to open the stream
    And a raw client offering planstream.v1 and the bearer subprotocols "planstream.bearer.dG9rLUJST1dTRVItNWsyag==" tries to open the stream
    And a raw client with the header token "tok-BROWSER-wr0ng" and the browser token "tok-BROWSER-5k2j" tries to open the stream
    Then the server's DEBUG log shows each offered bearer subprotocol as "planstream.bearer.***" or "planstream.bearer.~malformed"
    And the server's log holds neither "tok-BROWSER" nor the base64url form of "tok-BROWSER-5k2j" or "tok-BROWSER-wr0ng"

  Scenario: The parser's answer never shows the token
    Then reading the offer "planstream.v1, planstream.bearer.cmVhZGVyLXNlY3JldA" gives the token "reader-secret", and its repr hides it
