Feature: Reconnect delays follow an exponential curve with a choice of jitter
  Protocol §4: delay = uniform(0, min(max_delay, initial_delay * factor^attempt))
  by default; every parameter is a setting. The policy only computes; a seeded
  random.Random makes it reproducible.

  Scenario: The default policy is the one of protocol §4
    Given the default backoff policy
    Then the backoff policy has initial delay 0.5, max delay 30, factor 2, jitter "full" and unlimited attempts

  Scenario: The curve doubles from the initial delay and caps at the max delay
    Given a backoff policy of initial delay 0.5, max delay 30, factor 2 and jitter "none"
    Then the backoff curve for attempts 0 to 8 is 0.5, 1, 2, 4, 8, 16, 30, 30, 30
    And the backoff curve follows min(max_delay, initial_delay * factor^attempt) for attempts 0 to 200

  Scenario Outline: Every <jitter> delay stays within that mode's bounds
    Given a backoff policy of initial delay 0.25, max delay 20, factor 2 and jitter "<jitter>"
    And the backoff randomness is seeded with <seed>
    When 200 backoff delays are drawn
    Then every drawn backoff delay lies within the bounds of jitter "<jitter>"
    And no drawn backoff delay exceeds the max delay of 20
    And the drawn backoff delays are <spread>

    Examples:
      | jitter       | seed | spread                            |
      | full         | 1    | spread below the curve            |
      | equal        | 2    | spread below the curve            |
      | decorrelated | 3    | spread between initial and max    |
      | none         | 4    | exactly the curve                 |
      | full         | 2024 | spread below the curve            |

  Scenario Outline: The same seed gives the same <jitter> delays, another seed others
    Given a backoff policy of initial delay 0.5, max delay 30, factor 2 and jitter "<jitter>"
    Then two schedules seeded with 99 draw the same 50 backoff delays
    And a schedule seeded with 100 draws different backoff delays than one seeded with 99

    Examples:
      | jitter       |
      | full         |
      | equal        |
      | decorrelated |

  Scenario: A schedule without a given random generator still draws bounded delays
    Given a backoff policy of initial delay 1, max delay 8, factor 2 and jitter "full"
    When 50 backoff delays are drawn from an unseeded schedule
    Then every drawn backoff delay lies within the bounds of jitter "full"

  Scenario Outline: With max_attempts 3 exactly 3 <jitter> delays are given, then none
    Given a backoff policy of initial delay 0.5, max delay 30, factor 2, jitter "<jitter>" and max attempts 3
    And the backoff randomness is seeded with 5
    When the backoff schedule is iterated to its end
    Then the backoff schedule gave exactly 3 delays
    And the next backoff delay of the exhausted schedule is None
    And iterating the exhausted backoff schedule again gives nothing

    Examples:
      | jitter |
      | full   |
      | none   |

  Scenario: A server's retry_after hint is a lower bound on the delay
    Given a backoff policy of initial delay 1, max delay 30, factor 2 and jitter "none"
    And the backoff randomness is seeded with 8
    Then the next backoff delays with these retry_after hints are:
      | retry_after | delay | why                                  |
      | 12          | 12    | the hint is above the curve (1)      |
      | 0.5         | 2     | the curve (2) is above the hint      |
      | none        | 4     | no hint: the curve                   |
      | 0           | 8     | a zero hint is no hint               |
      | -5          | 16    | a negative hint is no hint           |

  Scenario: A jittered delay is never below the retry_after hint
    Given a backoff policy of initial delay 0.5, max delay 30, factor 2 and jitter "full"
    And the backoff randomness is seeded with 11
    Then 100 backoff delays drawn with retry_after 5 are all at least 5

  Scenario: A huge retry_after hint is capped by max_retry_after
    Given a backoff policy of initial delay 1, max delay 30, factor 2, jitter "none" and max_retry_after 60
    Then the next backoff delays with these retry_after hints are:
      | retry_after | delay | why                              |
      | 3600        | 60    | capped at max_retry_after        |
      | 45          | 45    | below the cap: honoured          |

  Scenario Outline: reset() restarts the <jitter> schedule at attempt 0
    Given a backoff policy of initial delay 0.5, max delay 30, factor 2 and jitter "<jitter>"
    And the backoff randomness is seeded with 21
    When 8 backoff delays are drawn
    Then the backoff schedule is at attempt 8
    When the backoff schedule is reset
    Then the backoff schedule is at attempt 0
    And the next backoff delay is within the bounds of attempt 0 for jitter "<jitter>"

    Examples:
      | jitter       |
      | none         |
      | full         |
      | equal        |
      | decorrelated |

  Scenario: reset() also gives back the attempts of a limited schedule
    Given a backoff policy of initial delay 0.5, max delay 30, factor 2, jitter "none" and max attempts 2
    When the backoff schedule is iterated to its end
    And the backoff schedule is reset
    Then the next backoff delay is within the bounds of attempt 0 for jitter "none"

  Scenario Outline: An invalid backoff policy (<what>) is refused with ValueError
    When a backoff policy is built with <arguments>
    Then building the backoff policy fails with ValueError mentioning "<problem>"

    Examples:
      | what                      | arguments                                | problem                              |
      | zero initial delay        | {"initial_delay": 0}                     | initial_delay must be positive       |
      | negative initial delay    | {"initial_delay": -1}                    | initial_delay must be positive       |
      | NaN initial delay         | {"initial_delay": NaN}                   | initial_delay must be positive       |
      | max below initial         | {"initial_delay": 5, "max_delay": 1}     | max_delay must be at least initial_delay |
      | NaN max delay             | {"max_delay": NaN}                       | max_delay must be at least initial_delay |
      | factor below 1            | {"factor": 0.5}                          | factor must be at least 1            |
      | NaN factor                | {"factor": NaN}                          | factor must be at least 1            |
      | zero max attempts         | {"max_attempts": 0}                      | max_attempts must be at least 1      |
      | negative max_retry_after  | {"max_retry_after": -1}                  | max_retry_after must not be negative |
      | unknown jitter mode       | {"jitter": "wobbly"}                     | wobbly                               |

  Scenario Outline: A jitter mode given as its text "<jitter>" behaves like the JitterMode
    Given a backoff policy of initial delay 0.5, max delay 30, factor 2 and jitter text "<jitter>"
    And the backoff randomness is seeded with 13
    When 100 backoff delays are drawn
    Then every drawn backoff delay lies within the bounds of jitter "<jitter>"
    And the drawn backoff delays are <spread>

    Examples:
      | jitter | spread                 |
      | full   | spread below the curve |
      | equal  | spread below the curve |
      | none   | exactly the curve      |

  Scenario Outline: A huge attempt number (<attempt>) does not overflow
    Given a backoff policy of initial delay 0.5, max delay 30, factor <factor> and jitter "none"
    Then the backoff curve at attempt <attempt> is <delay>
    And a backoff schedule at attempt <attempt> gives a finite delay of at most 30

    Examples:
      | factor | attempt | delay |
      | 2      | 10000   | 30    |
      | 1      | 10000   | 0.5   |
      | 1.0001 | 10000   | 1.3591 |
      | 10     | 10000   | 30    |

  Scenario: Factor 1 keeps the delay constant
    Given a backoff policy of initial delay 2, max delay 30, factor 1 and jitter "none"
    When 20 backoff delays are drawn
    Then every drawn backoff delay equals 2
