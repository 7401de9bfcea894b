Feature: The client's failure paths while polling and probing
  When HTTP polls fail, the client backs off and keeps polling until its
  attempts run out; while it polls, failed WebSocket probes are retried on
  their own schedule without ending the stream.

  Scenario: Failed polls back off and end with RetriesExhaustedError when the attempts run out
    Given a failure-path client in transport "polling" aimed at a closed port with at most 2 attempts
    When the failure-path client subscribes to plan "p"
    Then the failure-path subscription ends with RetriesExhaustedError
    And the failure-path state hook saw at least 2 poll failures with a retry delay

  Scenario: Failed WebSocket probes while polling are retried and the stream goes on
    Given a reference server with settings
      | setting       | value |
      | poll_interval | 0.05  |
    And a proxy in front of the reference server that answers WebSocket upgrades with 502
    And a failure-path client in transport "auto" probing the WebSocket every 0.2 s
    When 3 events are published to plan "p"
    And the failure-path client subscribes to plan "p"
    Then the failure-path client receives seq 1 to 3 while polling
    And the failure-path client saw at least 2 failed WebSocket probes
    When 2 events are published to plan "p"
    Then the failure-path client receives seq 1 to 5 while polling
