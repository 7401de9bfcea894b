Feature: planstream demo serves the dashboard
  The demo's server serves the browser dashboard. The demo prints its URL
  before the plan starts (here in plain output; in a terminal the live view
  shows it too: features/cli.feature). Anyone on the loopback may read the
  demo's plans without a token, so the page opens without one, and nobody may
  publish: the demo publishes in-process. With `--keep-serving` the server
  stays up after the plan, until Ctrl-C or SIGTERM, so the page still shows
  the finished plan; `--open` opens the URL in the browser `$BROWSER` names
  (Python's webbrowser) and keeps serving too.

  Scenario: The demo prints the dashboard URL before the plan and, asked to, keeps serving the finished plan
    When the demo runs with "--seconds 1 --keep-serving" until it says "Ctrl-C stops it"
    Then the demo's second line is "dashboard: http://127.0.0.1:PORT/" with the port of its server, before any event
    And the demo's dashboard URL answers the page with the Content-Security-Policy
    And the demo's server lists plan "demo-release" as "succeeded" to a reader without a token
    And the demo's server answers a publish without a token with 403 "forbidden"
    When the demo is stopped with SIGINT
    Then the demo exited with status 0, its summary and then its still-serving line ending its output

  Scenario: demo --open opens the dashboard in the browser $BROWSER names, and keeps serving it
    When the demo runs with "--seconds 1 --open" and a $BROWSER that records what it is given, until it says "Ctrl-C stops it"
    Then that browser was started once, with the dashboard URL the demo printed
    And the demo's dashboard URL answers the page with the Content-Security-Policy
    When the demo is stopped with SIGTERM
    Then the demo exited with status 0, its summary and then its still-serving line ending its output

  Scenario: When no browser can be started, demo --open says so and still serves the dashboard
    When the demo runs with "--seconds 0.5 --open" and a $BROWSER that fails, until it says "Ctrl-C stops it"
    Then the demo said "dashboard: no browser could be started (set BROWSER to one); open the URL yourself" right after its dashboard line
    And the demo's dashboard URL answers the page with the Content-Security-Policy
    When the demo is stopped with SIGTERM
    Then the demo exited with status 0, its summary and then its still-serving line ending its output
