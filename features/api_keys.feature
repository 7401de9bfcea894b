Feature: API keys from a file of hashes, reloaded without dropping connections
  Issue 16 item 3. `planstream serve --api-keys FILE` (PLANSTREAM_SERVER_API_KEYS_FILE)
  reads a TOML file of SHA-256 hashes of keys, each with a name and the plan
  patterns it may read and publish. The file is checked whole at start (a
  clear error naming the file and the entry, never a value), read again on
  SIGHUP and when it changed (looked at, at most once a second, when a key is
  presented), and a file that does not load keeps the keys in use with one
  error line. Open connections keep their principal through a reload. The
  keys themselves appear nowhere: not in the file, not in any output.

  Background:
    Given an API key file with these keys:
      | name                | key                      | read     | publish  |
      | team-a-dashboard    | ka-dash-5Jq1wQ9z3Lm7Xc2V | team-a:* |          |
      | team-a-orchestrator | ka-orch-8Vx2pR4n6Tb1Ys5K | team-a:* | team-a:* |
      | team-b-dashboard    | kb-dash-3Pz7hG2k9Fd4Wq8M | team-b:* |          |

  Scenario: A key of the file is its entry's principal; any other key, or none, gets the generic 401
    Given a reference server with that API key file
    Then the server's verifier gives these principals:
      | key                      | subject             | read     | publish   |
      | ka-dash-5Jq1wQ9z3Lm7Xc2V | team-a-dashboard    | team-a:* | (no plan) |
      | ka-orch-8Vx2pR4n6Tb1Ys5K | team-a-orchestrator | team-a:* | team-a:*  |
      | kb-dash-3Pz7hG2k9Fd4Wq8M | team-b-dashboard    | team-b:* | (no plan) |
      | ka-dash-5Jq1wQ9z3Lm7Xc2  | -                   | -        | -         |
      | KA-DASH-5JQ1WQ9Z3LM7XC2V | -                   | -        | -         |
    And these HTTP requests get these answers:
      | method | path                            | authorization                   | status | error        |
      | POST   | /v1/plans/team-a:build-1/events | Bearer ka-orch-8Vx2pR4n6Tb1Ys5K | 201    | -            |
      | POST   | /v1/plans/team-a:build-1/events | Bearer ka-dash-5Jq1wQ9z3Lm7Xc2V | 403    | forbidden    |
      | GET    | /v1/plans                       | Bearer ka-dash-5Jq1wQ9z3Lm7Xc2V | 200    | -            |
      | GET    | /v1/plans/team-a:build-1        | Bearer ka-dash-5Jq1wQ9z3Lm7Xc2V | 200    | -            |
      | GET    | /v1/plans/team-a:build-1/events | Bearer ka-dash-5Jq1wQ9z3Lm7Xc2V | 200    | -            |
      | GET    | /v1/plans                       | Bearer not-a-key                | 401    | unauthorized |
      | GET    | /v1/plans                       | -                               | 401    | unauthorized |
      | POST   | /v1/plans/team-a:build-1/events | Bearer not-a-key                | 401    | unauthorized |
    And the key "not-a-key" gets the generic 401 body on GET /v1/plans, the snapshot, the poll and a publish
    And a WebSocket opened with the key of "team-a-dashboard" in the header gets its hello
    And a WebSocket opened with the key of "team-b-dashboard" in the browser subprotocol gets its hello
    And a WebSocket opened with the key "not-a-key" is refused with 401

  Scenario: Static tokens and API keys together: each credential works, a read token only reads, the server is not open
    Given the server's log is recorded
    And a reference server with the read token "static-reader-4Rt8" and that API key file
    Then these HTTP requests get these answers:
      | method | path                      | authorization                   | status | error        |
      | GET    | /v1/plans                 | Bearer static-reader-4Rt8       | 200    | -            |
      | GET    | /v1/plans                 | Bearer ka-dash-5Jq1wQ9z3Lm7Xc2V | 200    | -            |
      | GET    | /v1/plans                 | Bearer anything-else            | 401    | unauthorized |
      | GET    | /v1/plans                 | -                               | 401    | unauthorized |
      | POST   | /v1/plans/team-b:x/events | Bearer static-reader-4Rt8       | 403    | forbidden    |
    And the server's verifier is a chain of the static tokens, then the API keys
    And the server did not warn that it is open
    And a server with no token and no key file is open, and one with only a key file is not
    And a chain of no verifier is refused
    When a server with static tokens only is asked to reload its credentials
    Then the server logged "no credential file to reload"

  Scenario Outline: A key file that is not valid stops the start with a message naming the entry: <case>
    When a server is built with an API key file holding "<content>"
    Then building it failed with the message "API key file {file}: <message>"
    And the message quotes no key and no hash

    Examples:
      | case               | content                                                                           | message                                                                                                         |
      | not TOML           | [[key]\nname = 1                                                                  | not valid TOML (                                                                                                |
      | another table      | [[keys]]\nname = "x"                                                              | only [[key]] tables belong here, not 'keys'                                                                     |
      | key not tables     | key = "ka-dash-5Jq1wQ9z3Lm7Xc2V"                                                  | 'key' must be a list of [[key]] tables                                                                          |
      | no name            | [[key]]\nsha256 = "{hash:a}"                                                      | [[key]] #1: 'name' must be 1 to 128 printable ASCII characters (it is logged)                                   |
      | a name with a tab  | [[key]]\nname = "a\tb"\nsha256 = "{hash:a}"                                       | [[key]] #1: 'name' must be 1 to 128 printable ASCII characters (it is logged)                                   |
      | the key itself     | [[key]]\nname = "a"\nkey = "ka-dash-5Jq1wQ9z3Lm7Xc2V"                             | [[key]] #1 (a): unknown field 'key' (the file holds a key's sha256, never the key); the fields: name, sha256, read, publish |
      | another field      | [[key]]\nname = "a"\nsha256 = "{hash:a}"\nwrite = []                              | [[key]] #1 (a): unknown field 'write'; the fields: name, sha256, read, publish                                  |
      | a short hash       | [[key]]\nname = "a"\nsha256 = "abc123"                                            | [[key]] #1 (a): 'sha256' must be 64 hexadecimal digits, the SHA-256 of the key                                  |
      | read not a list    | [[key]]\nname = "a"\nsha256 = "{hash:a}"\nread = "team-a:*"                       | [[key]] #1 (a): 'read' must be a list of plan patterns (strings)                                                |
      | a bad pattern      | [[key]]\nname = "a"\nsha256 = "{hash:a}"\npublish = ["team a"]                    | [[key]] #1 (a): 'publish': plan pattern 'team a' holds a character that is not in the plan id alphabet         |
      | a name twice       | [[key]]\nname = "a"\nsha256 = "{hash:a}"\n[[key]]\nname = "a"\nsha256 = "{hash:b}" | [[key]] #2 (a): the name is already used by [[key]] #1                                                          |
      | a hash twice       | [[key]]\nname = "a"\nsha256 = "{hash:a}"\n[[key]]\nname = "b"\nsha256 = "{HASH:a}" | [[key]] #2 (b): the same sha256 as [[key]] #1 (a)                                                               |

  Scenario: planstream serve with a broken key file exits 2 with one line; a missing one is named as the flag or the variable
    When "planstream serve" runs with "--api-keys" naming a key file whose second entry has a short hash
    Then the planstream command exits with status 2 and prints only "planstream: error: API key file {file}: [[key]] #2 (b): 'sha256' must be 64 hexadecimal digits, the SHA-256 of the key"
    When "planstream serve --api-keys no-such-keys.toml" runs
    Then the planstream command exits with status 2 and its last line ends with "'--api-keys': File 'no-such-keys.toml' does not exist."
    When "planstream serve" runs with PLANSTREAM_SERVER_API_KEYS_FILE set to "no-such-keys.toml"
    Then the planstream command exits with status 2 and its last line starts with "planstream: error: invalid planstream settings: PLANSTREAM_SERVER_API_KEYS_FILE: "

  Scenario: SIGHUP reloads the key file of planstream serve; an open WebSocket stays on its connection
    Given "planstream serve --debug" runs with the read token "static-reader-4Rt8" and that API key file
    And a WebSocket client of "team-a-dashboard" subscribed to "team-a:deploy-1"
    When "team-a-orchestrator" publishes 2 events to "team-a:deploy-1"
    Then the WebSocket client of "team-a-dashboard" receives events 1..2 of "team-a:deploy-1"
    And the server prints "credentials: ChainVerifier(StaticTokenVerifier(read=1 tokens, publish=0), ApiKeyVerifier('{file}', 3 keys))" once
    When the API key file is replaced by one with these keys:
      | name                | key                      | read     | publish  |
      | team-a-orchestrator | ka-orch-8Vx2pR4n6Tb1Ys5K | team-a:* | team-a:* |
      | team-c-dashboard    | kc-dash-6Nw3sB8j2Hv5Qe1R | team-c:* |          |
    And the server gets SIGHUP
    Then the server prints "API keys reloaded from {file}: 2 keys (added: team-c-dashboard; removed: team-a-dashboard, team-b-dashboard)" once
    And these HTTP requests get these answers:
      | method | path      | authorization                   | status | error        |
      | GET    | /v1/plans | Bearer kc-dash-6Nw3sB8j2Hv5Qe1R | 200    | -            |
      | GET    | /v1/plans | Bearer ka-dash-5Jq1wQ9z3Lm7Xc2V | 401    | unauthorized |
      | GET    | /v1/plans | Bearer kb-dash-3Pz7hG2k9Fd4Wq8M | 401    | unauthorized |
      | GET    | /v1/plans | Bearer static-reader-4Rt8       | 200    | -            |
    And a WebSocket opened with the key "ka-dash-5Jq1wQ9z3Lm7Xc2V" is refused with 401
    When "team-a-orchestrator" publishes 1 events to "team-a:deploy-1"
    Then the WebSocket client of "team-a-dashboard" receives events 3..3 of "team-a:deploy-1"
    And the WebSocket client of "team-a-dashboard" is still on its first connection
    When the API key file is replaced by a file that is not TOML
    And the server gets SIGHUP
    Then the server prints "API key file {file}: not valid TOML (" once, and "the 2 keys loaded before stay in use"
    And these HTTP requests get these answers:
      | method | path      | authorization                   | status | error |
      | GET    | /v1/plans | Bearer kc-dash-6Nw3sB8j2Hv5Qe1R | 200    | -     |
    And a WebSocket opened with the key of "team-c-dashboard" in the browser subprotocol gets its hello
    And no output of the server, stopped now, holds a key, in the header's or the subprotocol's form

  Scenario: A changed key file is read again at the next key presented a second later; a bad version logs one error
    Given the server's log is recorded
    And a reference server whose API key verifier reads that file with a test clock
    And a WebSocket client of "team-a-dashboard" subscribed to "team-a:deploy-1"
    When the API key file is replaced by one with these keys:
      | name                | key                      | read     | publish  |
      | team-a-orchestrator | ka-orch-8Vx2pR4n6Tb1Ys5K | team-a:* | team-a:* |
      | team-c-dashboard    | kc-dash-6Nw3sB8j2Hv5Qe1R | team-c:* |          |
    Then these HTTP requests get these answers:
      | method | path      | authorization                   | status | error        |
      | GET    | /v1/plans | Bearer kc-dash-6Nw3sB8j2Hv5Qe1R | 401    | unauthorized |
      | GET    | /v1/plans | Bearer ka-dash-5Jq1wQ9z3Lm7Xc2V | 200    | -            |
    When the test clock advances 1 seconds
    Then these HTTP requests get these answers:
      | method | path      | authorization                   | status | error        |
      | GET    | /v1/plans | Bearer kc-dash-6Nw3sB8j2Hv5Qe1R | 200    | -            |
      | GET    | /v1/plans | Bearer ka-dash-5Jq1wQ9z3Lm7Xc2V | 401    | unauthorized |
    And the server logged "API keys reloaded from {file}: 2 keys (added: team-c-dashboard; removed: team-a-dashboard, team-b-dashboard)"
    When "team-a-orchestrator" publishes 2 events to "team-a:deploy-1"
    Then the WebSocket client of "team-a-dashboard" receives events 1..2 of "team-a:deploy-1"
    And the WebSocket client of "team-a-dashboard" is still on its first connection
    When the API key file is replaced by a file whose only entry has a short hash
    And the key of "team-c-dashboard" is presented 3 times, 1 seconds of the test clock apart
    Then every one of them was accepted
    And the server logged 1 error "API key file {file}: [[key]] #1 (c): 'sha256' must be 64 hexadecimal digits, the SHA-256 of the key; the 2 keys loaded before stay in use"
    When the API key file is deleted
    And the key of "team-c-dashboard" is presented 3 times, 1 seconds of the test clock apart
    Then every one of them was accepted
    And the server logged 1 error "API key file {file}: cannot read it (No such file or directory); the 2 keys loaded before stay in use"
    When the API key file is replaced by one with these keys:
      | name             | key                      | read     | publish |
      | team-b-dashboard | kb-dash-3Pz7hG2k9Fd4Wq8M | team-b:* |         |
    And the key of "team-b-dashboard" is presented 1 times, 1 seconds of the test clock apart
    Then every one of them was accepted
    And the server logged "API keys reloaded from {file}: 1 keys (added: team-b-dashboard; removed: team-a-orchestrator, team-c-dashboard)"
    And no record of the server's log holds a key
