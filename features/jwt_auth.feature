Feature: JWT bearer tokens: the key decides the algorithm, the claims decide the permissions
  Issue 16, item 2. The reference server verifies JWTs with PyJWT: HS256 with a
  shared secret file, RS256 / ES256 with a PEM public key, or the keys of a
  local JWKS file (the token's kid picks one). The accepted algorithms come
  from the key, never from the token's header, so "alg: none" and an HS256
  token signed with the public key's bytes are refused. exp (required), nbf,
  iat, iss and aud are checked with a leeway (30 s). The "planstream" claim
  holds the per-plan permissions; a token without it may do nothing. Every
  refusal is a 401 with the one generic body on the WebSocket upgrade and over
  HTTP; the server logs why at INFO, a few lines per 10 s, never the token.

  Scenario Outline: A valid <token> is accepted on the WebSocket and over HTTP, with its permissions
    Given a reference server accepting JWTs from <source>
    When a client presents a "valid" token signed <token>
    Then the token is accepted on the WebSocket and over HTTP
    And the connection's principal is "dashboard-a", reading "team-a:*", publishing "team-a:build-?", until the token's exp

    Examples:
      | source                | token                                 |
      | the shared secret     | HS256 with the secret                 |
      | the RSA public key    | RS256 with the RSA key                |
      | the EC public key     | ES256 with the EC key                 |
      | the JWKS              | RS256 with the RSA key as kid "rsa-1" |
      | the JWKS              | ES256 with the EC key as kid "ec-1"   |
      | a JWKS of the EC key without kid | ES256 with the EC key without kid |

  Scenario: A JWT's planstream claim is enforced per plan on every HTTP route
    Given a reference server accepting JWTs from the shared secret
    When a client presents a "valid" token signed HS256 with the secret
    Then over HTTP the token publishes to "team-a:build-1" but not to "team-a:deploy" or "team-b:build-1"
    And over HTTP the token reads "team-a:build-1" and is refused "team-b:build-1" with 403, both as snapshot and poll
    And the token's plan list holds "team-a:build-1" and not "team-b:build-1"

  Scenario Outline: A token that is <case> and signed <token> is refused with 401 and the generic body
    Given a reference server accepting JWTs from <source>
    When a client presents a "<case>" token signed <token>
    Then the token is refused with 401 and the generic body on the WebSocket upgrade, a read and a publish
    And the server logged at INFO "JWT refused: <why>" without the token

    Examples:
      | source             | case                 | token                                  | why                                        |
      | the shared secret  | expired              | HS256 with the secret                  | it has expired                             |
      | the shared secret  | not yet valid        | HS256 with the secret                  | it is not valid yet                        |
      | the shared secret  | issued in the future | HS256 with the secret                  | it is not valid yet                        |
      | the shared secret  | wrong audience       | HS256 with the secret                  | its audience is not this server's          |
      | the shared secret  | no audience          | HS256 with the secret                  | it has no aud claim                        |
      | the shared secret  | wrong issuer         | HS256 with the secret                  | its issuer is not the expected one         |
      | the shared secret  | no issuer            | HS256 with the secret                  | it has no iss claim                        |
      | the shared secret  | no exp               | HS256 with the secret                  | it has no exp claim                        |
      | the shared secret  | exp as a string      | HS256 with the secret                  | its exp claim is not a number              |
      | the shared secret  | read as a string     | HS256 with the secret                  | planstream.read is not a list of strings   |
      | the shared secret  | read with a number   | HS256 with the secret                  | planstream.read is not a list of strings   |
      | the shared secret  | a bad pattern        | HS256 with the secret                  | planstream.read holds an invalid plan pattern |
      | the shared secret  | the claim as a list  | HS256 with the secret                  | its planstream claim is not an object      |
      | the shared secret  | a subject that is a number | HS256 with the secret            | its claims are invalid                     |
      | the shared secret  | valid                | with alg none                          | its algorithm is not the key's             |
      | the shared secret  | valid                | HS256 with another secret              | its signature does not verify              |
      | the shared secret  | valid                | RS256 with the RSA key                 | its algorithm is not the key's             |
      | the shared secret  | valid                | as a string that is no JWT             | it is not a well-formed JWT                |
      | the RSA public key | valid                | HS256 with the RSA public key's PEM    | its algorithm is not the key's             |
      | the RSA public key | valid                | with alg none                          | its algorithm is not the key's             |
      | the RSA public key | valid                | RS256 with another RSA key             | its signature does not verify              |
      | the EC public key  | valid                | HS256 with the EC public key's PEM     | its algorithm is not the key's             |
      | the EC public key  | valid                | RS256 with the RSA key                 | its algorithm is not the key's             |
      | the JWKS           | valid                | HS256 with the RSA public key's PEM    | no key has its kid                         |
      | the JWKS           | valid                | HS256 with the RSA public key's PEM as kid "rsa-1" | its algorithm is not the key's |
      | the JWKS           | valid                | RS256 with the RSA key as kid "nope"   | no key has its kid                         |
      | the JWKS           | valid                | RS256 with the RSA key without kid     | no key has its kid                         |
      | the JWKS           | valid                | ES256 with the EC key as kid "rsa-1"   | its algorithm is not the key's             |
      | the JWKS           | expired              | RS256 with the RSA key as kid "rsa-1"  | it has expired                             |
      | a JWKS of the EC key without kid | valid  | ES256 with the EC key as kid "ec-1"    | no key has its kid                         |

  Scenario: A token within the leeway is accepted; one past it is not
    Given a reference server accepting JWTs from the shared secret
    When a client presents a "expired within the leeway" token signed HS256 with the secret
    Then the token is accepted on the WebSocket and over HTTP
    When a client presents a "expired" token signed HS256 with the secret
    Then the token is refused with 401 and the generic body on the WebSocket upgrade, a read and a publish

  Scenario: A token without exp is accepted when jwt_allow_no_exp is set, and never expires
    Given a reference server accepting JWTs from the shared secret, with jwt_allow_no_exp
    When a client presents a "no exp" token signed HS256 with the secret
    Then the token is accepted on the WebSocket and over HTTP
    And the connection's principal never expires

  Scenario: A valid token without the planstream claim authenticates but may do nothing
    Given a reference server accepting JWTs from the shared secret
    When a client presents a "no planstream claim" token signed HS256 with the secret
    Then the WebSocket upgrade is refused with 403 "this token may not read"
    And a publish over HTTP is refused with 403 "this token may not publish"

  Scenario Outline: A subject that is <what> is replaced by a stand-in safe to log
    Given a reference server accepting JWTs from the shared secret
    When a client presents a "<case>" token signed HS256 with the secret
    Then the token is accepted on the WebSocket and over HTTP
    And the connection's principal is named like "<subject>"

    Examples:
      | what         | case                     | subject                |
      | missing      | no subject               | ^jwt$                  |
      | too long     | a long subject           | ^jwt:[0-9a-f]{16}$     |
      | not printable | a subject with a newline | ^jwt:[0-9a-f]{16}$     |

  Scenario: Refusals are logged a few lines per 10 s, with a count of the rest
    Given a JWT verifier of the shared secret with a manual clock
    When it refuses 8 expired tokens at second 0
    Then it logged 5 lines "JWT refused: it has expired"
    When it refuses 1 expired token at second 10
    Then its last line is "JWT refused: it has expired (3 similar lines suppressed)"
    And the verifier's repr names its source and algorithms but no key

  Scenario: No JWT ever reaches a log line, on the server or in the SDK at DEBUG
    Given a reference server accepting JWTs from the shared secret
    And plan "team-a:build-1" has 3 events, the last one terminal
    When the SDK streams "team-a:build-1" at DEBUG with a valid token, then with an expired one, then with one of another secret
    Then the SDK received the 3 events with the valid token and an AuthenticationError with each other
    And no log line, error or repr holds any of the tokens or their signatures

  Scenario Outline: A JWT key file that cannot be used stops the server at start, naming it: <problem>
    Given a <setting> file holding <contents>
    When a reference server is built with it
    Then building it fails with a SettingsError naming PLANSTREAM_SERVER_<variable>, the file and "<problem>", quoting nothing of the file

    Examples:
      | setting             | variable            | contents                                  | problem                                              |
      | jwt_secret_file     | JWT_SECRET_FILE     | a 20-byte secret                          | a shared secret must hold at least 32 bytes          |
      | jwt_secret_file     | JWT_SECRET_FILE     | nothing, removed after the settings       | cannot be read (No such file or directory)           |
      | jwt_public_key_file | JWT_PUBLIC_KEY_FILE | text that is no PEM                       | is not a PEM public key                              |
      | jwt_public_key_file | JWT_PUBLIC_KEY_FILE | the RSA private key                       | holds a private key: give the public key only        |
      | jwt_public_key_file | JWT_PUBLIC_KEY_FILE | a 1024-bit RSA public key                 | an RSA key needs at least 2048 bits                  |
      | jwt_public_key_file | JWT_PUBLIC_KEY_FILE | an Ed25519 public key                     | holds neither an RSA key nor an EC key               |
      | jwks_file           | JWKS_FILE           | text that is no PEM                       | is not JSON                                          |
      | jwks_file           | JWKS_FILE           | the JSON {"keys": 1}                      | is not a JWKS: no "keys" list                        |
      | jwks_file           | JWKS_FILE           | the JSON {"keys": []}                     | holds no signing key                                 |
      | jwks_file           | JWKS_FILE           | a JWKS of one encryption key              | holds no signing key                                 |
      | jwks_file           | JWKS_FILE           | the JSON {"keys": [7]}                    | key 1 is not a JSON object                           |
      | jwks_file           | JWKS_FILE           | a JWKS whose key has the kid 5            | key 1: "kid" must be a non-empty string              |
      | jwks_file           | JWKS_FILE           | a JWKS of a symmetric key                 | key 1 is secret (a symmetric or private key)         |
      | jwks_file           | JWKS_FILE           | a JWKS of the RSA key twice               | key 2: kid 'rsa-1' appears twice                     |
      | jwks_file           | JWKS_FILE           | a JWKS of two keys, one without kid       | with several keys, each needs a "kid"                |
      | jwks_file           | JWKS_FILE           | a JWKS of an RSA key without its modulus  | key 1 is not a usable RSA or EC public key           |
      | jwks_file           | JWKS_FILE           | a JWKS of an Ed25519 key                  | key 1: algorithm 'EdDSA' is not allowed for a JWKS key |

  Scenario: A JWKS key for encryption is skipped, the signing key beside it used
    Given a jwks_file file holding a JWKS of an encryption key and the EC key
    When a reference server is built with it
    Then its verifier holds 1 key, for ES256

  Scenario Outline: Settings that mix JWT key sources, or check aud/iss without a key, are refused
    When ServerSettings are built with <settings>
    Then building them fails with a SettingsError saying "<message>"

    Examples:
      | settings                                   | message                                                                      |
      | a secret file and a JWKS file              | PLANSTREAM_SERVER_JWKS_FILE: set one JWT key source only, not jwt_secret_file too |
      | a secret file and a public key file        | PLANSTREAM_SERVER_JWT_PUBLIC_KEY_FILE: set one JWT key source only, not jwt_secret_file too |
      | an audience and no key                     | PLANSTREAM_SERVER_JWT_AUDIENCE: needs a JWT key                              |
      | an issuer and no key                       | PLANSTREAM_SERVER_JWT_ISSUER: needs a JWT key                                |
