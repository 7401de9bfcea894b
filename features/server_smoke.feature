Feature: The reference server starts, serves and stops
  Scenario: An embedded server answers its health check and streams a published event
    Given a reference server
    And 3 events were published to plan "smoke"
    Then the reference server's plan "smoke" has head seq 3
