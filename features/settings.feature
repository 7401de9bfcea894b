Feature: Client settings come from arguments or PLANSTREAM_* environment variables
  Every parameter of the client is a setting (protocol §4). A bad value fails
  at construction with planstream.SettingsError naming the environment
  variable that sets it, and the token is never echoed anywhere.

  Background:
    Given no PLANSTREAM_* environment variable is set

  Scenario: The defaults are those of the protocol
    When client settings are built with no arguments
    Then the client settings have these values:
      | field                       | value                           |
      | url                         | "ws://127.0.0.1:8765/v1/stream" |
      | token                       | null                            |
      | transport                   | "auto"                          |
      | reconnect.initial_delay     | 0.5                             |
      | reconnect.max_delay         | 30.0                            |
      | reconnect.factor            | 2.0                             |
      | reconnect.jitter            | "full"                          |
      | reconnect.max_attempts      | null                            |
      | reconnect.reset_after       | 30.0                            |
      | heartbeat.dead_after_factor | 2.5                             |
      | sequencer.gap_timeout       | 2.0                             |
      | sequencer.reorder_window    | 1024                            |
      | sequencer.dedup_window      | 4096                            |
      | max_frame_bytes             | 1048576                         |
    And the client setting "reconnect.jitter" is the JitterMode "full"
    And the client setting "transport" is the TransportMode "auto"

  Scenario: Values come from PLANSTREAM_* environment variables, nested ones with "__"
    Given the PLANSTREAM environment variable "PLANSTREAM_URL" is "wss://plans.example.com:9443/v1/stream"
    And the PLANSTREAM environment variable "PLANSTREAM_TRANSPORT" is "polling"
    And the PLANSTREAM environment variable "PLANSTREAM_RECONNECT__INITIAL_DELAY" is "0.125"
    And the PLANSTREAM environment variable "PLANSTREAM_RECONNECT__JITTER" is "decorrelated"
    And the PLANSTREAM environment variable "PLANSTREAM_RECONNECT__MAX_ATTEMPTS" is "7"
    And the PLANSTREAM environment variable "PLANSTREAM_SEQUENCER__GAP_TIMEOUT" is "0.75"
    And the PLANSTREAM environment variable "PLANSTREAM_HEARTBEAT__DEAD_AFTER_FACTOR" is "3"
    And the PLANSTREAM environment variable "PLANSTREAM_MAX_FRAME_BYTES" is "65536"
    And the PLANSTREAM environment variable "PLANSTREAM_QUEUE_SIZE" is "16"
    When client settings are built with no arguments
    Then the client settings have these values:
      | field                       | value                                    |
      | url                         | "wss://plans.example.com:9443/v1/stream" |
      | transport                   | "polling"                                |
      | reconnect.initial_delay     | 0.125                                    |
      | reconnect.jitter            | "decorrelated"                           |
      | reconnect.max_attempts      | 7                                        |
      | reconnect.max_delay         | 30.0                                     |
      | sequencer.gap_timeout       | 0.75                                     |
      | heartbeat.dead_after_factor | 3.0                                      |
      | max_frame_bytes             | 65536                                    |
      | queue_size                  | 16                                       |
    And the client setting "transport" is the TransportMode "polling"

  Scenario: A whole section can be given as JSON in one environment variable
    Given the PLANSTREAM environment variable "PLANSTREAM_RECONNECT" is '{"factor": 3, "max_delay": 10}'
    When client settings are built with no arguments
    Then the client settings have these values:
      | field                   | value |
      | reconnect.factor        | 3.0   |
      | reconnect.max_delay     | 10.0  |
      | reconnect.initial_delay | 0.5   |

  Scenario: A nested variable refines a section given as JSON
    Given the PLANSTREAM environment variable "PLANSTREAM_RECONNECT" is '{"factor": 3}'
    And the PLANSTREAM environment variable "PLANSTREAM_RECONNECT__INITIAL_DELAY" is "0.25"
    When client settings are built with no arguments
    Then the client settings have these values:
      | field                   | value |
      | reconnect.factor        | 3.0   |
      | reconnect.initial_delay | 0.25  |

  Scenario: Arguments override the environment
    Given the PLANSTREAM environment variable "PLANSTREAM_URL" is "ws://env-host:1/env"
    And the PLANSTREAM environment variable "PLANSTREAM_QUEUE_SIZE" is "5"
    And the PLANSTREAM environment variable "PLANSTREAM_RECONNECT__FACTOR" is "3"
    When client settings are built with arguments {"url": "wss://arg-host:2/arg", "queue_size": 9, "reconnect": {"factor": 1.5}}
    Then the client settings have these values:
      | field            | value                  |
      | url              | "wss://arg-host:2/arg/v1/stream" |
      | queue_size       | 9                      |
      | reconnect.factor | 1.5                    |

  Scenario: Section objects are accepted as arguments
    When client settings are built with a ReconnectSettings of initial delay 0.2 and max delay 4
    Then the client settings have these values:
      | field                   | value |
      | reconnect.initial_delay | 0.2   |
      | reconnect.max_delay     | 4.0   |

  Scenario Outline: The URL <url> is normalised to <normalised>
    When client settings are built with arguments {"url": "<url>"}
    Then the client settings have these values:
      | field | value          |
      | url   | "<normalised>" |

    Examples:
      | url                             | normalised                          |
      | ws://example.com                | ws://example.com/v1/stream          |
      | wss://example.com:9443/         | wss://example.com:9443/v1/stream    |
      | ws://10.0.0.1:8765              | ws://10.0.0.1:8765/v1/stream        |
      | ws://[::1]:8765                 | ws://[::1]:8765/v1/stream           |
      | wss://example.com/custom/stream | wss://example.com/custom/stream/v1/stream |
      | wss://example.com/ps/v1/stream/ | wss://example.com/ps/v1/stream      |
      | http://example.com:8001/ps      | ws://example.com:8001/ps/v1/stream  |
      | https://example.com             | wss://example.com/v1/stream         |
      | ws://example.com/v1/stream?a=1  | ws://example.com/v1/stream?a=1      |
      | ws://example.com/v1/stream#frag | ws://example.com/v1/stream          |

  Scenario Outline: A bad <what> fails with a SettingsError naming <variable>
    Given the PLANSTREAM environment variable "<variable>" is "<value>"
    When client settings are built with no arguments
    Then building the client settings fails with a SettingsError naming "<variable>"
    And the SettingsError message mentions "<problem>"

    Examples:
      | what                   | variable                                 | value             | problem                             |
      | negative initial delay | PLANSTREAM_RECONNECT__INITIAL_DELAY      | -1                | greater than 0                      |
      | zero initial delay     | PLANSTREAM_RECONNECT__INITIAL_DELAY      | 0                 | greater than 0                      |
      | non-number delay       | PLANSTREAM_RECONNECT__MAX_DELAY          | soon              | valid number                        |
      | infinite delay         | PLANSTREAM_RECONNECT__MAX_DELAY          | inf               | finite number                       |
      | factor below 1         | PLANSTREAM_RECONNECT__FACTOR             | 0.5               | greater than or equal to 1          |
      | unknown jitter         | PLANSTREAM_RECONNECT__JITTER             | wild              | 'full', 'equal', 'decorrelated'     |
      | zero max attempts      | PLANSTREAM_RECONNECT__MAX_ATTEMPTS       | 0                 | greater than or equal to 1          |
      | negative reset_after   | PLANSTREAM_RECONNECT__RESET_AFTER        | -3                | greater than or equal to 0          |
      | ftp URL                | PLANSTREAM_URL                           | ftp://host/v1/stream | ws:// or wss://                  |
      | URL without a host     | PLANSTREAM_URL                           | ws:///v1/stream   | with a host                         |
      | URL with a bad port    | PLANSTREAM_URL                           | ws://host:99999/  | invalid port                        |
      | URL with a text port   | PLANSTREAM_URL                           | ws://host:web/    | invalid port                        |
      | URL that is no URL     | PLANSTREAM_URL                           | localhost         | ws:// or wss://                     |
      | unknown transport      | PLANSTREAM_TRANSPORT                     | carrier-pigeon    | 'auto', 'websocket' or 'polling'    |
      | queue size 0           | PLANSTREAM_QUEUE_SIZE                    | 0                 | greater than or equal to 1          |
      | tiny max frame         | PLANSTREAM_MAX_FRAME_BYTES               | 10                | greater than or equal to 1024       |
      | zero reorder window    | PLANSTREAM_SEQUENCER__REORDER_WINDOW     | 0                 | greater than or equal to 1          |
      | zero gap timeout       | PLANSTREAM_SEQUENCER__GAP_TIMEOUT        | 0                 | greater than 0                      |
      | dead-after below 1     | PLANSTREAM_HEARTBEAT__DEAD_AFTER_FACTOR  | 0.5               | greater than or equal to 1          |
      | unknown nested field   | PLANSTREAM_RECONNECT__PATIENCE           | 3                 | Extra inputs are not permitted      |

  Scenario: A max delay below the initial delay names the max delay variable and both fields
    Given the PLANSTREAM environment variable "PLANSTREAM_RECONNECT__MAX_DELAY" is "0.1"
    When client settings are built with no arguments
    Then building the client settings fails with a SettingsError naming "PLANSTREAM_RECONNECT__MAX_DELAY"
    And the SettingsError message mentions "max_delay must be at least initial_delay"

  Scenario: Credentials in the URL are refused without echoing them
    Given the PLANSTREAM environment variable "PLANSTREAM_URL" is "wss://robot:tok-Zq93-never-print-me@plans.example.com/"
    When client settings are built with no arguments
    Then building the client settings fails with a SettingsError naming "PLANSTREAM_URL"
    And the SettingsError message mentions "credentials"
    And the SettingsError message does not contain "tok-Zq93-never-print-me"

  Scenario: An unknown argument fails with a SettingsError naming it
    When client settings are built with arguments {"patience": 3}
    Then building the client settings fails with a SettingsError naming "patience"
    And the SettingsError message mentions "Extra inputs are not permitted"
    And the SettingsError message does not contain "PLANSTREAM_"

  Scenario: A bad argument is named as the argument, not as a variable the user never set
    When client settings are built with arguments {"reconnect": {"initial_delay": -2}}
    Then building the client settings fails with a SettingsError naming "reconnect.initial_delay"
    And the SettingsError message does not contain "PLANSTREAM_"

  Scenario: Every bad value is reported, each with its variable
    Given the PLANSTREAM environment variable "PLANSTREAM_QUEUE_SIZE" is "0"
    And the PLANSTREAM environment variable "PLANSTREAM_RECONNECT__FACTOR" is "0"
    When client settings are built with no arguments
    Then building the client settings fails with a SettingsError naming "PLANSTREAM_QUEUE_SIZE"
    And the SettingsError names "PLANSTREAM_RECONNECT__FACTOR" too, with 2 problems in all

  Scenario: A section given as malformed JSON fails with a SettingsError naming it
    Given the PLANSTREAM environment variable "PLANSTREAM_RECONNECT" is '{"factor": 3'
    When client settings are built with no arguments
    Then building the client settings fails with a SettingsError naming "PLANSTREAM_RECONNECT"

  Scenario: The token is read but never shown by repr, str or a JSON dump
    Given the PLANSTREAM environment variable "PLANSTREAM_TOKEN" is "tok-Zq93-never-print-me"
    When client settings are built with no arguments
    Then the client settings token is "tok-Zq93-never-print-me"
    And no rendering of the client settings contains "tok-Zq93-never-print-me"

  Scenario: A token given as an argument is never shown either
    When client settings are built with arguments {"token": "tok-Zq93-never-print-me"}
    Then the client settings token is "tok-Zq93-never-print-me"
    And no rendering of the client settings contains "tok-Zq93-never-print-me"

  Scenario Outline: The token stays secret when <what> is bad
    Given the PLANSTREAM environment variable "PLANSTREAM_TOKEN" is "tok-Zq93-never-print-me"
    And the PLANSTREAM environment variable "<variable>" is "<value>"
    When client settings are built with no arguments
    Then building the client settings fails with a SettingsError naming "<variable>"
    And the SettingsError message does not contain "tok-Zq93-never-print-me"

    Examples:
      | what       | variable                            | value    |
      | the url    | PLANSTREAM_URL                      | ftp://x  |
      | the delay  | PLANSTREAM_RECONNECT__INITIAL_DELAY | -1       |
      | the queue  | PLANSTREAM_QUEUE_SIZE               | 0        |

  Scenario: The token stays secret when an argument is bad
    When client settings are built with arguments {"token": "tok-Zq93-never-print-me", "queue_size": 0, "url": "ftp://x"}
    Then building the client settings fails with a SettingsError naming "queue_size"
    And the SettingsError names "url" too, with 2 problems in all
    And the SettingsError message does not contain "tok-Zq93-never-print-me"

  Scenario: A token of the wrong type is refused without echoing it
    When client settings are built with arguments {"token": 987654321}
    Then building the client settings fails with a SettingsError naming "token"
    And the SettingsError message does not contain "987654321"

  Scenario: An empty token means no token
    Given the PLANSTREAM environment variable "PLANSTREAM_TOKEN" is ""
    When client settings are built with no arguments
    Then the client settings have these values:
      | field | value |
      | token | null  |

  Scenario: The reconnect section builds the configured backoff policy
    Given the PLANSTREAM environment variable "PLANSTREAM_RECONNECT" is '{"initial_delay": 0.2, "max_delay": 5, "factor": 3, "jitter": "equal", "max_attempts": 4}'
    When client settings are built with no arguments
    Then the backoff policy of the client settings has initial delay 0.2, max delay 5, factor 3, jitter "equal" and max attempts 4

  Scenario: The ordering section of the settings builds a configured ordering object
    Given the PLANSTREAM environment variable "PLANSTREAM_SEQUENCER__REORDER_WINDOW" is "16"
    And the PLANSTREAM environment variable "PLANSTREAM_SEQUENCER__DEDUP_WINDOW" is "32"
    And the PLANSTREAM environment variable "PLANSTREAM_SEQUENCER__GAP_TIMEOUT" is "0.5"
    And the PLANSTREAM environment variable "PLANSTREAM_SEQUENCER__RESUBSCRIBE_TIMEOUT" is "3"
    When client settings are built with no arguments
    Then the ordering object built from the client settings has reorder window 16, dedup window 32, gap timeout 0.5 and resubscribe timeout 3

  Scenario: Settings are immutable once built
    When client settings are built with no arguments
    Then changing the client setting "queue_size" fails
    And changing the client setting "reconnect.factor" fails
