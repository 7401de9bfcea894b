Feature: The project keeps its promises to a newcomer
  The README's commands, the documented settings and the offline example are
  part of the product: they are checked like code.

  Scenario: The offline pipeline example delivers every event once and in order
    When the example "examples/offline_pipeline.py" runs with seed 7
    Then the example exits with status 0
    And the example reports 0 lost and in order
    And the example reports at least 1 duplicates dropped and 1 repaired

  Scenario Outline: The offline example survives any fault pattern
    When the example "examples/offline_pipeline.py" runs with seed <seed>
    Then the example exits with status 0
    And the example reports 0 lost and in order

    Examples:
      | seed |
      | 1    |
      | 42   |
      | 2026 |

  Scenario: The README gives the two commands and CI runs the test one
    Given the README of the project
    Then the README has a line ending in "# run the main job"
    And the README has a line ending in "# run the tests"
    And the README test command runs nox

  Scenario: Every client setting is documented with its environment variable
    Given the settings reference "docs/reference/settings.md"
    Then every ClientSettings field has its environment variable in the reference
