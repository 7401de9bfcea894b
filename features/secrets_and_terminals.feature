Feature: Secrets never reach a log, and server text never steers a terminal
  Issue 10, items 11 and 12. The token travels in the Authorization header
  (protocol §2), which websockets logs at DEBUG: a redacting filter keeps it
  out of every log record, whatever the logging level. Tokens are never
  accepted in the URL. Anything the server sends (log messages, step names,
  reasons, error texts, even plan ids) is shown with its control characters
  escaped; --json stays lossless.

  Scenario: The token appears in no stream the CLI and the SDK write, even at DEBUG
    Given "planstream serve" runs with the reader token "tok-READ-7q2w" and the publish token "tok-PUB-9x8c"
    And plan "p1" was published over HTTP with a terminal-escaping reason, step name, error and log message
    When "planstream watch p1 --debug" runs with the token "tok-READ-7q2w"
    And "planstream plans --debug" runs with the token "tok-READ-7q2w"
    And "planstream publish p2 log --debug" runs with the token "tok-PUB-9x8c"
    And "planstream plans --debug" runs with the token "tok-READ-7q2w-revoked"
    And the SDK streams "p1" with the token "tok-READ-7q2w" over WebSocket, then over polling, with the root logger at DEBUG
    And the SDK streams "p1" with the token "tok-READ-7q2w-revoked" over WebSocket, with the root logger at DEBUG
    Then no captured output, log record, exception text or repr contains "tok-READ-7q2w" or "tok-PUB-9x8c"
    And the DEBUG log shows the handshake's header as "Authorization: ***"
    And the SDK received the 4 events of "p1" over each transport

  Scenario Outline: A URL carrying credentials (<what>) is refused without echoing them
    When client settings are built with the URL "<url>"
    Then building them fails with a SettingsError naming "url" without "S3cr3t-V4lue"
    When "planstream watch p1" runs with the URL "<url>"
    Then the command failed with one error line saying "must not carry credentials" without "S3cr3t-V4lue"

    Examples:
      | what             | url                                                    |
      | a token query    | ws://127.0.0.1:1/v1/stream?token=S3cr3t-V4lue          |
      | an access_token  | wss://plans.example.com/v1/stream?x=1&access_token=S3cr3t-V4lue |
      | an API key       | ws://127.0.0.1:1/v1/stream?API-Key=S3cr3t-V4lue        |
      | a user:password  | ws://robot:S3cr3t-V4lue@127.0.0.1:1/v1/stream          |

  Scenario: A token that cannot be a header value is refused without echoing it
    When client settings are built with a token holding a newline
    Then building them fails with a SettingsError naming "token" without "S3cr3t-V4lue"
    When a client whose token provider returns a token holding a newline streams over WebSocket, then over polling
    Then each stream fails with an AuthenticationError that does not quote the token

  Scenario: The redaction covers headers, bearer tokens, subprotocols and URLs
    Then these texts are redacted:
      | text                                                        | redacted                                      |
      | > Authorization: Bearer abc.def-ghi                         | > Authorization: ***                          |
      | {'authorization': 'Basic dXNlcjpwYXNz'}                     | {'authorization': '***'}                      |
      | refused Bearer abc/def+g== twice                            | refused Bearer *** twice                      |
      | offered planstream.bearer.YWJjZGVm, planstream.v1           | offered planstream.bearer.***, planstream.v1  |
      | GET https://u:p@example.com/v1/plans?limit=5&api_key=k1 200 | GET https://***@example.com/v1/plans?limit=5&api_key=*** 200 |
      | nothing secret here: ?limit=5                               | nothing secret here: ?limit=5                 |
    And a log record whose traceback quotes "Bearer abc.def" reaches the handler redacted
    And a record already formatted with its traceback, or with a malformed format, passes the filter unharmed

  Scenario: Server text shows its control characters escaped: watch, live view, plans, errors
    Given "planstream serve" runs with the reader token "tok-READ-7q2w" and the publish token "tok-PUB-9x8c"
    And plan "p1" was published over HTTP with a terminal-escaping reason, step name, error and log message
    When "planstream watch p1" runs with the token "tok-READ-7q2w"
    Then its output holds no raw control or bidi character and shows "\x1b]0;TITLE\x07\x1b[2J\u202e" 5 times
    When "planstream watch p1 --json" runs with the token "tok-READ-7q2w"
    Then the JSON lines hold the exact strings with their control characters, 5 of them
    When "planstream watch p1" runs with the token "tok-READ-7q2w" in a 100x40 pseudo-terminal
    Then the terminal received no injected sequence and shows "\x1b]0;TITLE\x07"
    Given a hostile HTTP server that lists a plan named with escapes and refuses every other request with an escaping message
    When "planstream plans" runs against the hostile server
    Then its output holds no raw control or bidi character and shows "\x1b]0;TITLE\x07\x1b[2J\u202e" 1 times
    When "planstream watch p1" runs against the hostile server
    Then the command failed with one error line saying "\x1b]0;PWNED\x07" and no raw control character

  Scenario: One escaping function: C0, C1, DEL, bidi controls, separators and lone surrogates
    Then printable text is escaped like this:
      | text (as a Python literal)     | shown                          |
      | 'plain text, ünïcödé 🚀'       | plain text, ünïcödé 🚀         |
      | 'a\x1b[31mred\x1b[0m'          | a\x1b[31mred\x1b[0m            |
      | 'bell\x07 tab\t nl\n cr\r'     | bell\x07 tab\x09 nl\x0a cr\x0d |
      | 'del\x7f c1\x9b nel\x85'       | del\x7f c1\x9b nel\x85         |
      | '\u202eevil\u2066x\u200f'      | \u202eevil\u2066x\u200f        |
      | 'line\u2028sep'                | line\u2028sep                  |
      | 'lone\ud800'                   | lone\ud800                     |
      | 'C:\\temp'                     | C:\temp                        |
    And a record with a traceback and a stack, formatted for the terminal, keeps its line breaks and escapes the rest

  Scenario: The security page's code runs and its commands use real options
    Given the text of the security page "docs/security.md"
    Then every Python block of the security page runs in a fresh interpreter
    And every planstream command line of the security page uses options the command has
    And the security page has the section "## Limits" with the table header "| limit | default | setting | what happens past it |"
