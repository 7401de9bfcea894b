Feature: The user guides and the README tell the truth
  The guides are read before the code: their JSON examples are validated
  against the schema, every command and option of `planstream` is documented,
  and their links lead somewhere.

  Scenario: Every JSON example of the payloads guide is a real frame or HTTP body
    Given the JSON examples of "docs/guide/payloads_and_resume.md"
    Then there are at least 10 JSON examples
    And every JSON example validates as the frame or HTTP body it shows
    And the payloads guide shows an event of every kind, a resync frame and a resync poll

  Scenario: The CLI guide documents every command and every option
    Then every planstream command and each of its options appear in "docs/guide/cli.md"

  Scenario: The README's main job installs the package and runs the demo
    Given the README of the project
    Then the README main job command installs the package and runs "planstream demo"

  Scenario: The links of the README and the guides lead to files that exist
    Then every relative link in the README and docs/ leads to an existing file
