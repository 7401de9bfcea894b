Feature: The examples run against a real server
  Each example in examples/ is a program a user copies: it runs here as a
  subprocess against `planstream serve` (or serves itself), and what it prints
  is checked against what was published.

  Scenario: The client examples stream a plan from planstream serve, by flags or by environment
    Given "planstream serve" runs with "--token reader --publish-token writer"
    And plan "ex-plan" was published with "planstream publish --stdin": 2 steps, then "succeeded"
    When the example "examples/subscribe.py ex-plan --url {url} --token reader" runs
    Then the example command exits with status 0
    And the subscribe example printed every published event in order, then "10 events, 0 reconnects"
    When the example "examples/callbacks.py ex-plan" runs with PLANSTREAM_URL and PLANSTREAM_TOKEN "reader"
    Then the example command exits with status 0
    And the callbacks example printed one line per published event, ending with "plan succeeded"
    When the example "examples/watch_state.py ex-plan --url {url} --token reader" runs
    Then the example command exits with status 0
    And the watch_state example printed the state after each event, ending with "final: succeeded after 2 steps"

  Scenario: A job runner embedding the server publishes a plan that planstream watch follows
    Given the example "examples/publish_from_orchestrator.py" serves with "--pause 0.02 --linger 60 --token reader"
    When the planstream command runs "watch nightly-build --json --token reader --url {url}"
    Then the planstream command exits with status 0
    And the JSON lines tell 3 steps succeeding, then the plan succeeding at seq 17
    When the example server is stopped with SIGTERM
    Then the example server exited with status 0 after printing "plan 'nightly-build' succeeded"

  Scenario: A SIGTERM while its plan runs cancels the plan and stops the job runner cleanly
    Given the example "examples/publish_from_orchestrator.py" serves with "--pause 5 --linger 60 --token reader"
    When "planstream watch nightly-build --json --token reader --url {url}" runs in the background until it printed "nightly-build"
    And the example server is stopped with SIGTERM
    Then the example server exited with status 1 after printing "plan 'nightly-build' cancelled (stopped by SIGTERM)"
    And the example server's last line says the plan was cancelled by SIGTERM, and its stderr holds no traceback
