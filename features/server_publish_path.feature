Feature: The publish path validates once and encodes once (issue 12, item 5)

  A publish body is parsed and validated in one pass, each event's data is
  encoded once and spliced into the event's JSON; only a refused body is
  looked at again, item by item, to say what is wrong. The size limit on an
  event's data is counted one way everywhere: the UTF-8 bytes of its compact
  JSON as sent on the wire (docs/reference/server_websocket.md, reading 40).

  Scenario: The one-pass validation accepts and refuses exactly what the item-by-item check does
    Then every publish body of the corpus gets the same verdict from parse_publish_body as from validate_new_event item by item
    And every event the corpus publishes is stored as the JSON the event model dumps

  Scenario: Non-ASCII data counts its UTF-8 bytes, over HTTP and in server.publish() alike
    Given a reference server with settings
      | setting         | value |
      | max_frame_bytes | 4096  |
    When the publisher POSTs a log event whose message is 900 times "é" to plan "utf8"
    Then the publisher got 201 with the ids of plan "utf8" for seqs 1 to 1
    When the publisher POSTs a log event whose message is 1100 times "é" to plan "utf8"
    Then the HTTP error is 400 "bad_request" mentioning "event data larger than 2048 bytes"
    When the embedded publisher publishes a log event whose message is 900 times "é" to plan "utf8"
    Then the embedded publish stored seq 2 of plan "utf8"
    When the embedded publisher publishes a log event whose message is 1100 times "é" to plan "utf8"
    Then the embedded publisher refused it with a PublishError mentioning "event data larger than 2048 bytes"
    And plan "utf8" has head seq 2 over HTTP

  Scenario: An answer's head waits for its body, so both leave in one send
    Then a response head written through HeadWithBody leaves with the body in one write
    And a head written alone leaves at the next loop iteration, and closing sends what is held first

  Scenario: The log line's plain-values schema is derived from its model, and refuses what it cannot derive
    Then a model's values schema validates to a dict that encodes as the model does
    And a values schema is refused for a model with an alias, a model validator, a computed field or an int enum
    And a publish body's events by column read as the NewEvents they hold
    And a 201 answer for ids JSON must escape is what the encoder writes
