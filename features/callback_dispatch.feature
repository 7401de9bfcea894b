Feature: Callbacks by model, against a real server; a failing callback is loud and harmless
  client.on(Model, handler) calls each handler with the items of its model,
  client.on_any with every item. A target that is no model is refused when it is
  registered, with a typed error saying what to pass. A handler that raises is
  counted, logged at ERROR with its traceback and handed to the on_error hooks;
  the stream and the other handlers go on. With no logging configured and no
  hook, the traceback still reaches stderr.

  Scenario: Each typed registration gets exactly the items of its model
    Given a callback reference server keeping 5 events per plan and accepting unknown kinds
    And the callback server published 12 log events to plan "p"
    When a callback client registers the handlers of features/typing/typed_usage.py and runs plan "p"
    And the callback handler "resynced" has received an item
    And the callback server publishes one event of each kind to plan "p", ending with "succeeded"
    Then the callback run of plan "p" completed without an error
    And the callback handlers received:
      | handler      | items                                                                                                                            |
      | resynced     | Resync@12                                                                                                                        |
      | any_event    | PlanStatusEvent@13, PlanStatusEvent@18                                                                                           |
      | step_changed | StepStatusEvent@14                                                                                                               |
      | progressed   | PlanProgressEvent@15                                                                                                             |
      | logged       | LogEvent@16                                                                                                                      |
      | unknown      | UnknownEvent@17                                                                                                                  |
      | everything   | Resync@12, PlanStatusEvent@13, StepStatusEvent@14, PlanProgressEvent@15, LogEvent@16, UnknownEvent@17, PlanStatusEvent@18     |
      | report       |                                                                                                                                  |
      | removed      |                                                                                                                                  |
    And the callback client counted 0 callback errors

  Scenario Outline: A target that is no event model is refused at registration, saying what to pass
    Given a callback client that is not connected
    Then registering a handler for <target> raises InvalidCallbackError, a TypeError, mentioning "<text>"
    And registering a handler for <target> with the decorator form raises the same error before any function is given
    And the callback client has no handler registered

    Examples:
      | target                   | text                                                                                            |
      | the kind "step.status"   | pass the event model StepStatusEvent, not the kind 'step.status' (callback targets are event models) |
      | the kind "log"           | pass the event model LogEvent, not the kind 'log'                                               |
      | the kind "step_status"   | 'step_status' is no event kind of this client; did you mean StepStatusEvent?                    |
      | the kind "PlanStatusEvnt" | did you mean PlanStatusEvent?                                                                  |
      | the kind "banana"        | 'banana' is no event kind of this client (callback targets are event models)                    |
      | None                     | for every item use client.on_any(handler)                                                       |
      | the class int            | a callback target is an event model or Resync (PlanStatusEvent, PlanProgressEvent, StepStatusEvent, LogEvent, UnknownEvent, Resync), not the class int |
      | the number 123           | not 123 of type int                                                                             |
      | the union StepStatusEvent \| LogEvent | a callback target is one model: register the handler for each of StepStatusEvent, LogEvent, or use client.on_any(handler) for every item |
      | the alias Event          | for each of PlanStatusEvent, PlanProgressEvent, StepStatusEvent, LogEvent, UnknownEvent, or use client.on_any(handler) |

  Scenario Outline: A handler or hook that is not callable is refused at registration
    Given a callback client that is not connected
    Then registering the string "oops" with <method> raises InvalidCallbackError, a TypeError, mentioning "<text>"
    And the callback client has no handler registered

    Examples:
      | method                    | text                                                   |
      | on(LogEvent, handler)     | the handler must be callable, not 'oops' of type str   |
      | on(LogEvent)(handler)     | the handler must be callable, not 'oops' of type str   |
      | on_any(handler)           | the handler must be callable, not 'oops' of type str   |
      | on_error(hook)            | the on_error hook must be callable, not 'oops' of type str |
      | PlanStreamClient(on_error=) | the on_error hook must be callable, not 'oops' of type str |

  Scenario: A raising handler is logged at ERROR with its traceback and reaches every on_error hook; the stream goes on
    Given a callback reference server
    And the callback server published 3 log events and a "succeeded" status to plan "p"
    When a callback client with a plain on_error hook given to the constructor and a coroutine hook added with on_error runs plan "p" with a handler raising on every LogEvent
    Then the callback run of plan "p" completed without an error
    And the callback client counted 3 callback errors
    And the callback handler "everything" received seq 1, 2, 3, 4
    And the callback log holds 3 ERROR records of planstream.client, each with the RuntimeError's traceback, naming the handler "refuse_logs" and the seq 1, 2, 3
    And the callback hooks "plain" and "coroutine" each received the logged exceptions with the LogEvents of seq 1, 2, 3, in order

  Scenario: An on_error hook that raises is logged too, and the other hooks and the stream go on
    Given a callback reference server
    And the callback server published 2 log events and a "succeeded" status to plan "p"
    When a callback client with an on_error hook raising and a plain one after it runs plan "p" with a handler raising on every LogEvent
    Then the callback run of plan "p" completed without an error
    And the callback client counted 2 callback errors
    And the callback log holds 2 ERROR records naming the on_error hook "explode" and the handler "refuse_logs", each with the hook's ValueError traceback
    And the callback hook "plain" received the LogEvents of seq 1, 2

  Scenario: An application that silenced the planstream.client logger gets no record, but its hook still does
    Given a callback reference server
    And the callback server published 2 log events and a "succeeded" status to plan "p"
    And the application set the planstream.client logger to CRITICAL
    When a callback client with a plain on_error hook given to the constructor and a coroutine hook added with on_error runs plan "p" with a handler raising on every LogEvent
    Then the callback run of plan "p" completed without an error
    And the callback client counted 2 callback errors
    And the callback log holds no ERROR record of planstream.client
    And the callback hooks "plain" and "coroutine" each received the logged exceptions with the LogEvents of seq 1, 2, in order

  Scenario Outline: In a program of its own, a callback's failure is visible by default: <setup>
    Given a callback reference server
    And the callback server published 2 log events and a "succeeded" status to plan "p"
    When a program with <setup> runs plan "p" with a handler raising on every LogEvent
    Then the program exited 0 after its every-item handler received 3 items
    And the program's stderr holds <stderr tracebacks> tracebacks of the handler's RuntimeError
    And the program's stdout holds <stdout tracebacks> tracebacks of the handler's RuntimeError and <hook lines> lines of its on_error hook

    Examples:
      | setup                                     | stderr tracebacks | stdout tracebacks | hook lines |
      | no logging configured and no on_error hook | 2                 | 0                 | 0          |
      | logging configured to print on stdout     | 0                 | 2                 | 0          |
      | logging configured but the planstream logger not propagating | 2 | 0              | 0          |
      | an on_error hook and no logging configured | 0                 | 0                 | 2          |
      | logging.lastResort set to None            | 0                 | 0                 | 0          |
