Feature: Resuming from the last event of a finished plan ends at once
  A resume from a plan's last event used to wait for ever once that plan had
  ended: the server replays nothing after that event, and its `subscribed`
  answer carries only the head (protocol §3), so no terminal status ever
  came. A resume without `follow` now looks the plan up over HTTP first
  (`GET /v1/plans/{plan_id}`, bounded by a few seconds): when the plan is
  finished and its head is that event, the iterator ends at once with nothing
  and `Subscription.already_ended` holds the plan's snapshot. The look-up never
  makes a resume worse: when it fails, the plan is subscribed as before.

  Scenario: subscribe() from a finished plan's last event ends at once, with nothing
    Given a reference server
    And plan "rae-done" was published on the reference server: 2 steps, then "succeeded"
    When a client resumes plan "rae-done" after its event seq 10
    Then the resumed subscription ended with no item, already ended "succeeded" at seq 10
    And the resume took less than 3 seconds

  Scenario: subscribe() from the middle of a finished plan delivers the rest, then ends
    Given a reference server
    And plan "rae-middle" was published on the reference server: 2 steps, then "failed"
    When a client resumes plan "rae-middle" after its event seq 7
    Then the resumed subscription delivered seq 8 to 10, the last a plan.status "failed", and ended

  Scenario: With must_exist too, one look-up serves both
    Given a reference server
    And plan "rae-once" was published on the reference server: 1 steps, then "cancelled"
    And an HTTP gate in front of the reference server that plays "forward"
    When a client resumes plan "rae-once" after its event seq 6 through the gate, with must_exist
    Then the resumed subscription ended with no item, already ended "cancelled" at seq 6
    And the gate saw 1 GET of "/v1/plans/rae-once"
    When a client resumes plan "rae-once" after its event seq 4 through the gate, with must_exist
    Then the resumed subscription delivered seq 5 to 6, the last a plan.status "cancelled", and ended
    And the gate saw 2 GET of "/v1/plans/rae-once"

  Scenario: Following, a resume from the last event looks nothing up and waits for more
    Given a reference server
    And plan "rae-follow" was published on the reference server: 1 steps, then "succeeded"
    And an HTTP gate in front of the reference server that plays "forward"
    When a client following plan "rae-follow" after its event seq 6 through the gate waits 1 seconds
    Then the following subscription was still open with no item
    And the gate saw 0 GET of "/v1/plans/rae-follow"

  Scenario Outline: When the look-up fails (<case>), the resume streams as before
    Given a reference server
    And plan "rae-blocked" was published on the reference server: 2 steps, then "succeeded"
    And an HTTP gate in front of the reference server that plays "<action>"
    When a client resumes plan "rae-blocked" after its event seq 7 through the gate
    Then the resumed subscription delivered seq 8 to 10, the last a plan.status "succeeded", and ended
    And the gate saw 1 GET of "/v1/plans/rae-blocked"
    And the resume took <time>

    Examples:
      | case                               | action   | time                                               |
      | the HTTP route is refused, 404     | 404      | less than 3 seconds                                |
      | the HTTP route never answers       | withhold | the look-up's bound, and less than 10 seconds more |

  Scenario: planstream watch --from a finished plan's last event exits 0 at once, with no event
    Given a reference server
    And plan "rae-cli" was published on the reference server: 2 steps, then "succeeded"
    When the planstream command runs "watch rae-cli --from {event_id_10} --json --url {url}"
    Then the planstream command exits with status 0
    And the planstream command ended within 15 seconds, nothing on stdout

  Scenario: planstream watch --from a failed plan's last event says so and exits 1
    Given a reference server
    And plan "rae-cli-failed" was published on the reference server: 1 steps, then "failed"
    When the planstream command runs "watch rae-cli-failed --from {event_id_6} --url {url}"
    Then the planstream command exits with status 1
    And the planstream command printed the line "rae-cli-failed: already failed at seq 6; nothing after it"

  Scenario: A resume closed while its look-up waits ends with nothing and subscribes nothing
    Given a reference server
    And plan "rae-closed" was published on the reference server: 1 steps, then "succeeded"
    And an HTTP gate in front of the reference server that plays "withhold"
    When a client's resume of plan "rae-closed" after its event seq 3 is closed while the gate holds its look-up
    Then the closed resume ended with no item, and the client never subscribed plan "rae-closed"
