Feature: The embedded server publishes the typed data models
  `server.publish(plan_id, LogData(...))` and `server.state.publish(...)` take
  the data models (`LogData`, `StepStatusData`, `PlanStatusData`,
  `PlanProgressData`), the kind read from the model: the shape of the SDK's
  HTTP publisher, checked by mypy. `publish(plan_id, kind, mapping)` stays for
  data read from JSON and for kinds without a model.

  Scenario: Each data model is published as its kind, and a subscriber of the SDK receives them
    Given a reference server
    When the reference server publishes to plan "typed" the data models of a plan that runs one step and succeeds
    Then an SDK subscriber of plan "typed" receives the kinds "plan.status, step.status, log, plan.progress, plan.status" at seqs 1 to 5
    And each event it received carries the data model that was published

  Scenario: With an idempotency key, a data model and the same data as a mapping are one publish
    Given a reference server
    When the server state publishes a LogData "compiling" to plan "once" with the idempotency key "run-7.1"
    And the server state publishes a LogData "compiling" to plan "once" with the idempotency key "run-7.1"
    And the server state publishes the log "compiling" as a mapping to plan "once" with the idempotency key "run-7.1"
    Then every one of those publishes returned the event at seq 1
    And the reference server's plan "once" holds 1 events

  Scenario Outline: Arguments of neither form are refused with a PublishError saying which forms there are: <case>
    Given a reference server
    When the reference server is asked to publish <arguments> to plan "wrong"
    Then the publish raised a PublishError containing "<message>"
    And the reference server's plan "wrong" holds 0 events

    Examples:
      | case                     | arguments                 | message                                                                                                                        |
      | a mapping without a kind | a log as a mapping alone  | publish(plan_id, data) takes a LogData, StepStatusData, PlanStatusData or PlanProgressData (the model names the kind), or publish(plan_id, kind, mapping); not dict |
      | a model with more data   | a LogData and a mapping   | publish(plan_id, LogData(...)) takes no more data: the model names its kind ('log')                                           |
      | a kind with a model      | the kind "log" and a LogData | data must be a JSON object (a mapping), not LogData (a data model goes alone: publish(plan_id, data))                             |
      | a number                 | the number 42             | not int                                                                                                                        |

  Scenario: mypy --strict accepts a program publishing the data models, which runs
    Given a program using the embedded server
      """
      import asyncio

      from planstream import (
          LogData,
          LogLevel,
          LogStream,
          PlanProgressData,
          PlanStatus,
          PlanStatusData,
          StepStatus,
          StepStatusData,
      )
      from planstream.server import PlanStreamServer, ServerSettings, StoredEvent


      async def main() -> None:
          async with PlanStreamServer(ServerSettings(port=0)) as server:
              await server.publish("p", PlanStatusData(status=PlanStatus.RUNNING))
              step = StepStatusData(step_id="s", index=1, name="S", status=StepStatus.RUNNING)
              await server.publish("p", step, idempotency_key="step-1")
              line = LogData(level=LogLevel.INFO, message="hi", stream=LogStream.STDOUT)
              stored: StoredEvent = await server.state.publish("p", line)
              progress = PlanProgressData(completed_steps=1, total_steps=1, percent=100.0)
              await server.state.publish("p", progress, idempotency_key="progress-1")
              raw = {"status": "succeeded"}
              last = await server.publish("p", "plan.status", raw)
              print(stored.seq, stored.event.kind, last.seq)


      asyncio.run(main())
      """
    When mypy --strict checks the program
    Then mypy found no error in the program
    And the program runs and prints "3 log 5"

  Scenario: mypy --strict refuses the calls of neither form
    Given a program using the embedded server
      """
      from planstream import LogData, LogLevel, LogStream, PlanStatus, PlanStatusData
      from planstream.server import PlanStreamServer, ServerState, StoredEvent

      LINE = LogData(level=LogLevel.INFO, message="x", stream=LogStream.STDOUT)


      async def wrong(server: PlanStreamServer, state: ServerState) -> None:
          await server.publish("p", {"level": "info", "message": "x"})  # refused
          await server.publish("p", "log", LINE)  # refused
          await state.publish("p", LINE, {"level": "info"})  # refused
          await state.publish("p", 42)  # refused
          await state.publish("p", LINE, key="k")  # refused
          seq: str = (await server.publish("p", PlanStatusData(status=PlanStatus.RUNNING))).seq  # refused
          event: StoredEvent = await server.publish("p", data=LINE)
          print(seq, event)
      """
    When mypy --strict checks the program
    Then mypy found an error on each line marked "# refused", and on no other line
