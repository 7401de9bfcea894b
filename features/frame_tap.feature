Feature: The frame tap logs every WebSocket frame, size-capped, escaped and without the token
  For support and bug reports, PLANSTREAM_DEBUG_FRAMES=1 (ClientSettings.debug_frames)
  and `planstream watch --debug-frames` log each frame in (<) and out (>) of the
  client's WebSocket on the logger planstream.frames: the connection's URL,
  the frame's size and its first 512 characters. What a server sends cannot
  steer the terminal, and the client's token never shows, in any of its forms
  (issue 15 item 5). Off, nothing is logged and nothing is wrapped.

  Scenario: The setting is off by default and read from PLANSTREAM_DEBUG_FRAMES
    Given no PLANSTREAM_* environment variable is set
    When client settings are built with no arguments
    Then the client settings have these values:
      | field        | value |
      | debug_frames | false |
    Given the PLANSTREAM environment variable "PLANSTREAM_DEBUG_FRAMES" is "1"
    When client settings are built with no arguments
    Then the client settings have these values:
      | field        | value |
      | debug_frames | true  |
    When client settings are built with arguments {"debug_frames": false}
    Then the client settings have these values:
      | field        | value |
      | debug_frames | false |

  Scenario: PLANSTREAM_DEBUG_FRAMES=1 logs the frames both ways on stderr, with no token
    Given a tapped reference server with the token "tap-Secret-Token-0042"
    And plan "tapped" has 3 log events and succeeded
    When the tap program follows plan "tapped" with the token "tap-Secret-Token-0042" and PLANSTREAM_DEBUG_FRAMES=1
    Then the tap program exits with status 0 and printed 4 events
    And its frame lines show, in order:
      | direction | frame        |
      | <         | "hello"      |
      | >         | "subscribe"  |
      | <         | "subscribed" |
      | >         | "close 1000" |
    And every frame line names the server's URL and, after the hello, its session
    And the token "tap-Secret-Token-0042" appears nowhere in the tap program's output

  Scenario: Off by default: no frame line at all
    Given a tapped reference server with the token "tap-Secret-Token-0042"
    And plan "quiet" has 1 log events and succeeded
    When the tap program follows plan "quiet" with the token "tap-Secret-Token-0042"
    Then the tap program exits with status 0 and printed 2 events
    And the tap program wrote no frame line

  Scenario: An application that configured logging gets the lines through its own handler, once
    Given a tapped reference server with the token "tap-Secret-Token-0042"
    And plan "app" has 1 log events and succeeded
    When the tap program with its own logging follows plan "app" with the token "tap-Secret-Token-0042" and PLANSTREAM_DEBUG_FRAMES=1
    Then the tap program exits with status 0 and printed 2 events
    And every frame line came through the application's handler, none twice

  Scenario: A refused upgrade is one line with the HTTP status, and the wrong token is not in it
    Given a tapped reference server with the token "tap-Secret-Token-0042"
    When the tap program follows plan "nope" with the token "wrong-Token-9999" and PLANSTREAM_DEBUG_FRAMES=1
    Then the tap program exits with status 1
    And its frame lines show, in order:
      | direction | frame      |
      | <         | "HTTP 401" |
    And the token "wrong-Token-9999" appears nowhere in the tap program's output

  Scenario: A hostile server echoing the token, steering the terminal and sending huge and binary frames
    Given a token-echoing server
    When the tap program follows plan "echo" from the token-echoing server with PLANSTREAM_DEBUG_FRAMES=1
    Then the tap program exits with status 1
    And no frame line holds the token in any form, nor a control character
    And the steering frame is logged with its control characters escaped
    And the long frame is logged cut at 512 characters with its size, the token's straddling part redacted
    And the binary frame is logged as its size
    And the server's close is logged with its code and an escaped reason without the token

  Scenario: Without the tap, a server echoing the token gets it into no log line and no error text
    Given a token-echoing server
    When the tap program with its own logging follows plan "echo" from the token-echoing server, showing its error
    Then the tap program exits with status 1
    And its stderr shows the server's refusal and close, and no piece of the token in any form

  Scenario: planstream watch --debug-frames writes the frames on stderr and leaves --json stdout as it was
    Given a tapped reference server with the token "tap-Secret-Token-0042"
    And plan "cli" has 2 log events and succeeded
    When planstream watch --json follows plan "cli" with the token "tap-Secret-Token-0042", once without and once with --debug-frames
    Then both watches exit 0 with the same stdout
    And only the watch with --debug-frames wrote frame lines, "subscribe" among them
    And the token "tap-Secret-Token-0042" appears in neither watch's output

  Scenario: In a program, the tap's lines reach a handler on planstream.frames, every direction named
    Given a reference server
    And a handler collecting the lines of planstream.frames
    When the transport opens a tapped connection without a token, sends a ping frame and receives its pong
    And a second tapped connection to "ws://user:pw@127.0.0.1:9/v1/stream?token=t0ken&x=1" sees a hello naming session "s\x1b1", a lost connection and a pong that never came
    Then the collected frame lines are:
      | line                                                                                      |
      | < {server} text * B: {"type":"hello",*                                                    |
      | > {server} [*] text 28 B: {"type":"ping","id":"tap-1"}                                   |
      | < {server} [*] text * B: {"type":"pong","id":"tap-1",*                                   |
      | > {server} [*] close 1000                                                                 |
      | < ws://***@127.0.0.1:9/v1/stream?token=***&x=1 text 2 B: {}                               |
      | < ws://***@127.0.0.1:9/v1/stream?token=***&x=1 [s\x1b1] connection lost (no close frame) |
      | > ws://***@127.0.0.1:9/v1/stream?token=***&x=1 [s\x1b1] ping (WebSocket keepalive)       |
    And the tap's repr names its URL and session only

  Scenario: A server that closes before its hello: the close is one tap line
    Given a server that accepts the upgrade and closes with 1013 "come back later" before any hello
    And a handler collecting the lines of planstream.frames
    When the transport opens a tapped connection to it
    Then the collected frame lines are:
      | line                                               |
      | < {server} close 1013 "come back later"            |

  Scenario Outline: The shown text of a frame: <what>
    When a frame of <length> characters with the token "tok-ABCDEFGH-1234" at <at> is shown
    Then the shown text is at most 530 characters, has no token part longer than 3 characters, and <ends>

    Examples:
      | what                              | length | at  | ends                          |
      | short, token inside               | 40     | 10  | is not cut                    |
      | long, token straddling the cut    | 2000   | 505 | ends with "… (2000 bytes)"    |
      | long, token right before the cut  | 2000   | 495 | ends with "… (2000 bytes)"    |
      | long, tokens crowding the window  | 2000   | -10 | ends with "… (2000 bytes)"    |
