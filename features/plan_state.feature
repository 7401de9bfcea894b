Feature: The plan-state reducer folds a plan's events into the snapshot of protocol §5
  status: of the latest plan.status; progress: the latest plan.progress data;
  steps: the latest step.status data of each step_id, ordered by index; head:
  the last folded event; updated_at: its ts. log events (and unknown kinds) do
  not change the snapshot beyond its position.

  Background:
    Given the recorded event stream of plan "plan-42":
      | seq | event_id | ts                   | kind            | data                                                                                                 |
      | 1   | ev-01    | 2024-05-01T10:00:00Z | plan.status     | {"status": "queued", "reason": null}                                                                 |
      | 2   | ev-02    | 2024-05-01T10:00:01Z | step.status     | {"step_id": "deploy", "index": 2, "name": "Deploy", "status": "pending", "error": null}              |
      | 3   | ev-03    | 2024-05-01T10:00:01Z | step.status     | {"step_id": "fetch", "index": 0, "name": "Fetch", "status": "pending", "error": null}                |
      | 4   | ev-04    | 2024-05-01T10:00:01Z | step.status     | {"step_id": "build", "index": 1, "name": "Build", "status": "pending", "error": null}                |
      | 5   | ev-05    | 2024-05-01T10:00:02Z | plan.status     | {"status": "running", "reason": null}                                                                |
      | 6   | ev-06    | 2024-05-01T10:00:03Z | plan.progress   | {"completed_steps": 0, "total_steps": 3, "percent": 0, "message": "starting"}                        |
      | 7   | ev-07    | 2024-05-01T10:00:03Z | step.status     | {"step_id": "fetch", "index": 0, "name": "Fetch", "status": "running", "error": null}                |
      | 8   | ev-08    | 2024-05-01T10:00:04Z | log             | {"level": "info", "message": "cloning", "step_id": "fetch", "stream": "stdout"}                       |
      | 9   | ev-09    | 2024-05-01T10:00:09Z | step.status     | {"step_id": "fetch", "index": 0, "name": "Fetch", "status": "succeeded", "error": null}              |
      | 10  | ev-10    | 2024-05-01T10:00:09Z | plan.progress   | {"completed_steps": 1, "total_steps": 3, "percent": 33.3, "message": "fetched"}                      |
      | 11  | ev-11    | 2024-05-01T10:00:10Z | step.status     | {"step_id": "build", "index": 1, "name": "Build", "status": "running", "error": null}                |
      | 12  | ev-12    | 2024-05-01T10:00:20Z | log             | {"level": "error", "message": "cc: error", "step_id": "build", "stream": "stderr"}                    |
      | 13  | ev-13    | 2024-05-01T10:00:21Z | step.status     | {"step_id": "build", "index": 1, "name": "Build", "status": "failed", "error": "exit status 2"}      |
      | 14  | ev-14    | 2024-05-01T10:00:21Z | plan.progress   | {"completed_steps": 2, "total_steps": 3, "percent": 66.7, "message": "build failed"}                 |
      | 15  | ev-15    | 2024-05-01T10:00:22Z | step.status     | {"step_id": "deploy", "index": 2, "name": "Deploy", "status": "running", "error": null}              |
      | 16  | ev-16    | 2024-05-01T10:00:30Z | step.status     | {"step_id": "deploy", "index": 2, "name": "Deploy (rollback)", "status": "succeeded", "error": null} |
      | 17  | ev-17    | 2024-05-01T10:00:30Z | plan.progress   | {"completed_steps": 3, "total_steps": 3, "percent": 100, "message": "done"}                          |
      | 18  | ev-18    | 2024-05-01T10:00:31Z | plan.status     | {"status": "failed", "reason": "step build failed"}                                                  |
      | 19  | ev-19    | 2024-05-01T10:00:32Z | log             | {"level": "info", "message": "plan finished", "step_id": null, "stream": "system"}                   |
      | 20  | ev-20    | 2024-05-01T10:00:33Z | plan.annotation | {"note": "archived"}                                                                                 |

  Scenario: Folding a whole plan gives its final snapshot
    When the whole recorded stream is folded by the plan-state reducer
    Then the folded plan status is "failed" and it is terminal
    And the folded plan progress is {"completed_steps": 3, "total_steps": 3, "percent": 100.0, "message": "done"}
    And the folded plan steps are, in order:
      | step_id | index | name              | status    | error         |
      | fetch   | 0     | Fetch             | succeeded |               |
      | build   | 1     | Build             | failed    | exit status 2 |
      | deploy  | 2     | Deploy (rollback) | succeeded |               |
    And the folded plan head is the last recorded event
    And the folded plan was updated at the ts of the last recorded event

  Scenario: Halfway through, the snapshot shows the plan running
    When the recorded stream up to seq 11 is folded by the plan-state reducer
    Then the folded plan status is "running" and it is not terminal
    And the folded plan progress is {"completed_steps": 1, "total_steps": 3, "percent": 33.3, "message": "fetched"}
    And the folded plan steps are, in order:
      | step_id | index | name   | status    | error |
      | fetch   | 0     | Fetch  | succeeded |       |
      | build   | 1     | Build  | running   |       |
      | deploy  | 2     | Deploy | pending   |       |
    And the folded plan head is recorded event seq 11
    And the folded plan was updated at the ts of recorded event seq 11

  Scenario Outline: A <kind> event (seq <seq>) only moves the head and updated_at
    When the recorded stream up to seq <before> is folded by the plan-state reducer
    And recorded event seq <seq> is applied to the folded plan
    Then applying it was reported as a change of position
    And the folded plan differs from before only in head and updated_at
    And the folded plan head is recorded event seq <seq>

    Examples:
      | kind            | before | seq |
      | log             | 7      | 8   |
      | log             | 11     | 12  |
      | log             | 18     | 19  |
      | plan.annotation | 19     | 20  |

  Scenario: An empty plan has an empty snapshot
    When no events are folded for plan "plan-empty"
    Then the folded plan snapshot is empty for plan "plan-empty"
    And the folded plan snapshot round-trips through encode_frame and PlanSnapshot.model_validate_json

  Scenario Outline: The plan status <status> is terminal: <terminal>
    When only a plan.status event of status "<status>" is folded for plan "plan-x"
    Then the folded plan status is "<status>" and it is <terminal>

    Examples:
      | status    | terminal     |
      | queued    | not terminal |
      | running   | not terminal |
      | paused    | not terminal |
      | succeeded | terminal     |
      | failed    | terminal     |
      | cancelled | terminal     |

  Scenario: The terminal statuses are exactly succeeded, failed and cancelled
    Then the terminal plan statuses are exactly "succeeded, failed, cancelled"

  Scenario: Re-applying old events is ignored, so folding is idempotent
    When the whole recorded stream is folded by the plan-state reducer
    And the folded plan snapshot is kept
    And recorded event seq 3 is applied to the folded plan
    Then applying it was reported as no change
    And the folded plan snapshot equals the kept one
    When the whole recorded stream is applied to the folded plan again
    Then every re-application was reported as no change
    And the folded plan snapshot equals the kept one

  Scenario: A stale event is ignored even when it would change the state
    When the recorded stream up to seq 13 is folded by the plan-state reducer
    And the folded plan snapshot is kept
    And a plan.status event "cancelled" with seq 13 and event_id "ev-13-replay" is applied to the folded plan
    Then applying it was reported as no change
    And the folded plan snapshot equals the kept one

  Scenario: An event of another plan is refused with PlanStateError
    When the recorded stream up to seq 5 is folded by the plan-state reducer
    And the folded plan snapshot is kept
    And an event of plan "plan-other" is applied to the folded plan
    Then applying it failed with a PlanStateError naming "plan-other" and "plan-42"
    And the folded plan snapshot equals the kept one

  Scenario: A state restored from a snapshot continues with the following events
    When the recorded stream up to seq 10 is folded by the plan-state reducer
    And a new plan state is restored from the folded plan's snapshot sent over the wire
    And the recorded events after seq 10 are applied to the restored plan state
    Then the restored plan state's snapshot equals the fold of the whole recorded stream

  Scenario: A state restored from a resync snapshot ignores replayed history
    When the recorded stream up to seq 14 is folded by the plan-state reducer
    And a new plan state is restored from the folded plan's snapshot sent over the wire
    And the whole recorded stream is applied to the restored plan state
    Then the restored plan state's snapshot equals the fold of the whole recorded stream

  Scenario: The snapshot round-trips through the wire encoding
    When the whole recorded stream is folded by the plan-state reducer
    Then the folded plan snapshot round-trips through encode_frame and PlanSnapshot.model_validate_json
    And the folded plan snapshot decodes inside a resync frame to the same snapshot

  Scenario: Steps sharing an index are ordered by step_id
    When the step events "zeta" (index 1), "alpha" (index 1) and "mid" (index 0) are folded for plan "plan-y"
    Then the folded plan step ids in order are "mid, alpha, zeta"
