Feature: The protocol reference shows real frames
  docs/reference/server_websocket.md is what other servers are written from:
  every JSON example in it must be a valid frame or HTTP body of the schema.

  Scenario: Every JSON example in the protocol reference validates with the schema
    Given the JSON examples of "docs/reference/server_websocket.md"
    Then there are at least 20 JSON examples
    And every JSON example validates as the frame or HTTP body it shows
    And the examples show every server frame type and every client frame type

  Scenario: The protocol reference lists every close code and HTTP endpoint the server uses
    Given the text of "docs/reference/server_websocket.md"
    Then the text mentions close codes 1000, 1001, 1008, 1009, 1011, 1012, 1013, 4001, 4003, 4006, 4008, 4029
    And the text mentions every route of the reference server

  Scenario: Every server setting is documented with its environment variable
    Given the text of "docs/reference/server_settings.md"
    Then every ServerSettings field has its PLANSTREAM_SERVER_ variable in the text
