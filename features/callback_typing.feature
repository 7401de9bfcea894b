Feature: The callback API is typed: mypy --strict checks every handler against its model
  A user who checks an integration with mypy --strict must see a handler typed
  for the wrong model, a kind string or a misplaced hook fail type checking, and
  the decorated functions stay typed. The examples are checked the same way, with
  the mypy of the test run's venv (the docs' python blocks, the client guide's
  callback section among them, in docs_run.feature).

  Scenario: Every example passes mypy --strict
    When mypy --strict checks every Python file of "examples"
    Then mypy found no error in the files it checked

  Scenario: The typed uses of the callback API pass mypy --strict
    When mypy --strict checks "features/typing/typed_usage.py"
    Then mypy found no error in the files it checked

  Scenario: Each misuse of the callback API fails mypy --strict with its own error
    When mypy --strict checks "features/typing/typed_misuse.py"
    Then every line marked "# error:" in "features/typing/typed_misuse.py" failed with its code and text, and no other line failed
    And mypy reported at least 11 errors in "features/typing/typed_misuse.py"
