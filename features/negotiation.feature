Feature: The client negotiates protocol and schema versions with the server
  Protocol §2: the protocol number must match; any minor of the client's
  schema major is accepted; another major is fatal, with an error naming both
  sides' versions.

  Scenario Outline: A hello of protocol 1 and schema <schema> is accepted
    Given a server hello with protocol 1 and schema "<schema>"
    When the hello is checked against this client's versions
    Then the hello is accepted

    Examples:
      | schema |
      | 1.0    |
      | 1.7    |
      | 1.12   |

  Scenario Outline: A hello of protocol <protocol> and schema <schema> is fatal
    Given a server hello with protocol <protocol> and schema "<schema>"
    When the hello is checked against this client's versions
    Then the hello is refused as incompatible because the "<detail>"
    And the incompatibility error names the server's "protocol <protocol>, schema <schema>" and the client's "protocol 1, schema 1.0"
    And the incompatibility error names this client's versions
    And the incompatibility error names the server's "refserver/9.9" and the client's "schema 1.0"

    Examples:
      | protocol | schema | detail                      |
      | 1        | 2.0    | schema major version differs |
      | 1        | 0.9    | schema major version differs |
      | 2        | 1.0    | protocol differs            |
      | 2        | 2.0    | protocol differs            |

  Scenario: A client of another version compares against its own versions
    Given a server hello with protocol 2 and schema "2.4"
    When the hello is checked against a client of protocol 2 and schema "2.0"
    Then the hello is accepted
    When the hello is checked against a client of protocol 2 and schema "3.0"
    Then the hello is refused as incompatible because the "schema major version differs"
    And the incompatibility error names the server's "schema 2.4" and the client's "protocol 2, schema 3.0"

  Scenario: A server without a common subprotocol gets an error naming both sides
    When the server refused the upgrade listing the subprotocols ["planstream.v2"]
    Then the subprotocol error names "planstream.v2" for the server and "planstream.v1" for the client

  Scenario: A server refusing without listing subprotocols still gets a clear error
    When the server refused the upgrade listing the subprotocols []
    Then the subprotocol error names "(none listed)" for the server and "planstream.v1" for the client

  Scenario: A hello with a malformed schema version fails decoding
    Given the raw wire JSON {"type": "hello", "protocol": 1, "schema": "abc", "server": "s/1", "session_id": "x", "heartbeat_s": 15, "max_frame_bytes": 1000}
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "hello.schema"

  Scenario Outline: A hello whose <field> is <value> fails decoding
    Given the raw wire JSON {"type": "hello", "protocol": <protocol>, "schema": "1.0", "server": "s/1", "session_id": "x", "heartbeat_s": <heartbeat>, "max_frame_bytes": 1000}
    When the raw wire frame is decoded as a server frame
    Then wire decoding failed with InvalidFrameError whose reason mentions "hello.<field>"

    Examples:
      | field       | value    | protocol | heartbeat |
      | protocol    | 0        | 0        | 15        |
      | protocol    | "1"      | "1"      | 15        |
      | heartbeat_s | 0        | 1        | 0         |
      | heartbeat_s | negative | 1        | -2.5      |

  Scenario: An incompatibility error built without a detail still names both sides
    When an incompatibility error is built for server "protocol 3, schema 3.1" and client "protocol 1, schema 1.0" without a detail
    Then the incompatibility error reads "incompatible server: server has protocol 3, schema 3.1, client supports protocol 1, schema 1.0"
