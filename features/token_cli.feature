Feature: planstream token: development JWTs and API key hashes
  Issue 16, item 5. `planstream token create` signs an HS256 JWT with the
  shared secret file the server reads (`serve --jwt-secret-file`), carrying
  the per-plan permissions in the "planstream" claim; `planstream token hash`
  prints the SHA-256 an API keys file holds, reading the key from stdin or a
  hidden prompt, never from the command line.

  Background:
    Given a JWT secret file and a secret file of 20 bytes

  Scenario: token create prints one JWT whose claims say what was asked
    When "planstream token create --read team-a:* --read team-b:build-? --publish '' --ttl 1h --secret-file {secret} --audience planstream-tests --issuer https://issuer.test --subject orchestrator-a" runs
    Then it exits 0 and prints one JWT that the secret verifies, with these claims:
      | claim      | value                                                     |
      | sub        | "orchestrator-a"                                          |
      | aud        | "planstream-tests"                                        |
      | iss        | "https://issuer.test"                                     |
      | planstream | {"read": ["team-a:*", "team-b:build-?"], "publish": []}   |
    And its exp is 3600 seconds after its iat, give or take a second

  Scenario Outline: --ttl <ttl> is <seconds> seconds
    When "planstream token create --read team-a:* --ttl <ttl> --secret-file {secret}" runs
    Then it exits 0 and prints one JWT that the secret verifies, with these claims:
      | claim      | value                                 |
      | sub        | "developer"                           |
      | planstream | {"read": ["team-a:*"], "publish": []} |
    And its exp is <seconds> seconds after its iat, give or take a second

    Examples:
      | ttl  | seconds |
      | 90   | 90      |
      | 45s  | 45      |
      | 30m  | 1800    |
      | 1.5h | 5400    |
      | 2d   | 172800  |

  Scenario Outline: token create refuses <what> in one line
    When "planstream token create <arguments>" runs
    Then it exits 2 with one line on stderr holding "<message>"

    Examples:
      | what                  | arguments                                                  | message                                                            |
      | a zero lifetime       | --read team-a:* --ttl 0 --secret-file {secret}             | planstream: error: --ttl '0' is not a lifetime                     |
      | weeks                 | --read team-a:* --ttl 1w --secret-file {secret}            | planstream: error: --ttl '1w' is not a lifetime                    |
      | more than a year      | --read team-a:* --ttl 367d --secret-file {secret}          | at most 366d                                                       |
      | a bad read pattern    | --read 'team a' --secret-file {secret}                     | planstream: error: plan pattern 'team a' holds a character         |
      | a bad publish pattern | --read team-a:* --publish a/b --secret-file {secret}       | planstream: error: plan pattern 'a/b' holds a character            |
      | a short secret        | --read team-a:* --secret-file {short_secret}               | is too short: a shared secret must hold at least 32 bytes           |
      | no --read             | --secret-file {secret}                                     | Error: Missing option '--read'.                                    |
      | a missing secret file | --read team-a:* --secret-file /nonexistent/secret          | does not exist                                                     |

  Scenario: A token from token create opens planstream serve --jwt-secret-file; others are refused
    Given "planstream serve --jwt-secret-file {secret} --jwt-audience planstream-tests --jwt-issuer https://issuer.test" runs
    When "planstream token create --read team-a:* --publish team-a:* --ttl 10m --secret-file {secret} --audience planstream-tests --issuer https://issuer.test" mints a token
    Then "planstream publish team-a:build-1 log --data '{"level":"info","message":"hi","step_id":null,"stream":"system"}'" with that token exits 0
    And "planstream plans" with that token exits 0 and lists "team-a:build-1"
    When "planstream token create --read team-a:* --ttl 10m --secret-file {secret} --audience another-service --issuer https://issuer.test" mints a token
    Then "planstream plans" with that token exits 2 saying "HTTP 401"
    And the server's log says "JWT refused: its audience is not this server's" and holds no token

  Scenario: planstream serve with a secret file too short stops at start, naming the file
    When "planstream serve --jwt-secret-file {short_secret} --port {free_port}" runs
    Then it exits 2 with one line on stderr holding "planstream: error: invalid planstream settings: PLANSTREAM_SERVER_JWT_SECRET_FILE: {short_secret}: a shared secret must hold at least 32 bytes"

  Scenario: token hash prints the SHA-256 of the key on stdin
    When "planstream token hash" runs with "my-api-key" and a newline on stdin
    Then it exits 0 and prints the SHA-256 of "my-api-key"

  Scenario Outline: token hash refuses <what>
    When "planstream token hash" runs with <stdin> on stdin
    Then it exits 2 with one line on stderr holding "<message>"

    Examples:
      | what          | stdin            | message                                              |
      | an empty key  | nothing          | planstream: error: no API key given                  |
      | several lines | two keys         | planstream: error: stdin holds several lines         |

  Scenario: On a terminal token hash asks for the key without echoing it
    When "planstream token hash" runs in a terminal and "s3cret-typed-key" is typed at its prompt
    Then the terminal shows "API key: " and the SHA-256 of "s3cret-typed-key", but never the key

  Scenario: mint_token, which the command and the tests call, checks what it is given
    Then mint_token refuses a lifetime of 0 s, of infinity, and a secret of 20 bytes, each with a ValueError
