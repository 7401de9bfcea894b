Feature: A JWT that expires on an open WebSocket closes it with 4001; the SDK refreshes and resumes exactly
  Issue 16, item 4. The server keeps the principal the upgrade authenticated;
  when its JWT's exp passes, the connection ends with 4001 (protocol §4) at
  that deadline: one sleep in the connection's task group, not a poll. The SDK,
  given a token provider, asks it for a fresh token, reconnects and resumes
  from its last event: nothing lost, nothing twice. Without a provider the
  client stops with the fatal AuthenticationError protocol §4 calls for.

  Scenario: The server closes at the token's exp, not before, with 4001 "token expired"
    Given a reference server accepting HS256 JWTs with no leeway
    When a raw client connects with a JWT that expires in 2 seconds
    Then the server closes it with 4001 "token expired" once the token's exp has passed, within 5 seconds

  Scenario: A plan published across several expiries reaches the SDK exactly once, in order
    Given a reference server accepting HS256 JWTs with no leeway
    And a token provider minting JWTs that live 2 seconds
    When plan "team-a:build-7" is published, one event every 40 ms for 7 seconds, then ends, while the SDK client with the provider follows it
    Then every published event was delivered exactly once, in order
    And the server closed the SDK's connection with 4001 at least 2 times
    And the provider was asked for a token once per connection

  Scenario: Without a token provider, an expired JWT stops the client with a fatal AuthenticationError
    Given a reference server accepting HS256 JWTs with no leeway
    When an SDK client with a static JWT that lives 2 seconds follows plan "team-a:build-8"
    Then its subscription ends with an AuthenticationError saying "with code 4001" and "no token provider can renew it"
