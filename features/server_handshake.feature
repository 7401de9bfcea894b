Feature: The stream endpoint's handshake (protocol §2)
  A raw WebSocket client (the websockets library, speaking JSON by hand)
  connects to a real reference server on 127.0.0.1. The server checks the
  offered subprotocol and the bearer token before the upgrade, and its first
  frame is hello.

  Scenario: The hello frame describes the server and the settings it streams with
    Given a reference server with settings
      | setting         | value        |
      | name            | hello-tester |
      | heartbeat_s     | 7.5          |
      | max_frame_bytes | 65536        |
    When raw client "a" connects to the stream
    And raw client "b" connects to the stream
    Then raw client "a" selected the stream subprotocol "planstream.v1"
    And raw client "a" got a stream hello with protocol 1, schema "1.0", server "hello-tester/<version>", heartbeat_s 7.5 and max_frame_bytes 65536
    And raw clients "a" and "b" got different stream session ids

  Scenario: Offering only an unknown subprotocol is refused with 400 before the upgrade
    Given a reference server
    When a raw client offering the subprotocols "planstream.v2" tries to open the stream
    Then the stream handshake is refused with HTTP 400
    And the refusal has header "X-Planstream-Protocols" listing "planstream.v1"
    And the refusal body is {"error": "incompatible_protocol", "supported": ["planstream.v1"]}

  Scenario: Offering no subprotocol at all is refused with 400 before the upgrade
    Given a reference server
    When a raw client offering no subprotocol tries to open the stream
    Then the stream handshake is refused with HTTP 400
    And the refusal has header "X-Planstream-Protocols" listing "planstream.v1"
    And the refusal body is {"error": "incompatible_protocol", "supported": ["planstream.v1"]}

  Scenario: Offering a newer subprotocol first still selects planstream.v1
    Given a reference server
    When raw client "a" connects to the stream offering the subprotocols "planstream.v2, planstream.v1"
    Then raw client "a" selected the stream subprotocol "planstream.v1"
    And raw client "a" got a stream hello with protocol 1, schema "1.0", server "planstream-reference/<version>", heartbeat_s 15 and max_frame_bytes 1048576

  Scenario: A server with tokens refuses a raw client without a token with 401
    Given a reference server with settings
      | setting | value         |
      | tokens  | reader-secret |
    When a raw client without a token tries to open the stream
    Then the stream handshake is refused with HTTP 401
    And the refusal body has error "unauthorized"
    And the reference server counted 1 auth failure

  Scenario: A server with tokens refuses a raw client with a wrong token with 401
    Given a reference server with settings
      | setting        | value           |
      | tokens         | reader-secret   |
      | publish_tokens | publish-secret  |
    When a raw client with token "wrong-secret" tries to open the stream
    Then the stream handshake is refused with HTTP 401
    And the refusal body has error "unauthorized"

  Scenario Outline: A server with tokens greets a raw client with a valid <which> token
    Given a reference server with settings
      | setting        | value          |
      | tokens         | reader-secret  |
      | publish_tokens | publish-secret |
    When raw client "a" connects to the stream with token "<token>"
    Then raw client "a" got a stream hello with protocol 1, schema "1.0", server "planstream-reference/<version>", heartbeat_s 15 and max_frame_bytes 1048576

    Examples:
      | which   | token          |
      | reader  | reader-secret  |
      | publish | publish-secret |

  Scenario: A token whose principal may not read is refused with 403
    Given a reference server whose token verifier accepts "no-read" as a principal that may not read
    When a raw client with token "no-read" tries to open the stream
    Then the stream handshake is refused with HTTP 403
    And the refusal body has error "forbidden"
    When a raw client with token "unknown" tries to open the stream
    Then the stream handshake is refused with HTTP 401

  Scenario: A server that is draining its connections refuses new stream connections with 503
    Given a reference server
    And raw client "a" connects to the stream
    When the reference server closes every stream connection
    Then raw client "a" is closed by the server with code 1001
    When a raw client without a token tries to open the stream
    Then the stream handshake is refused with HTTP 503
    And the refusal body has error "unavailable"
