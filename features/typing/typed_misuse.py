"""Uses of the callback API that must FAIL ``mypy --strict``.

A comment ``# error: [code] text`` names the error the line after it must
raise: features/callback_typing.feature runs mypy over this file and checks
that every such line fails with that error code and a message containing that
text, and that no other line fails.
"""

from __future__ import annotations

from planstream import LogEvent, PlanStreamClient, Resync, StepStatusEvent


def misuse(client: PlanStreamClient) -> None:
    def logged(event: LogEvent) -> None: ...

    async def resynced(marker: Resync) -> None: ...

    def returns_a_value(event: LogEvent) -> int:
        return 1

    # A handler typed for another model, registered directly or decorated:
    # error: [arg-type] incompatible type "Callable[[LogEvent], None]"; expected "Callable[[StepStatusEvent], None]"
    client.on(StepStatusEvent, logged)
    # error: [arg-type] incompatible type "Callable[[LogEvent], None]"; expected "Callable[[StepStatusEvent], None]"
    client.on(StepStatusEvent)(logged)
    # error: [arg-type] incompatible type "Callable[[Resync], Coroutine[Any, Any, None]]"; expected "Callable[[LogEvent], Coroutine[Any, Any, None]]"
    client.on(LogEvent, resynced)

    # Targets that are no model: a kind string, None, another class.
    # error: [call-overload] No overload variant of "on" of "PlanStreamClient" matches argument types "str"
    client.on("step.status", logged)
    # error: [call-overload] No overload variant of "on" of "PlanStreamClient" matches argument types "None"
    client.on(None, logged)
    # error: [type-var] Value of type variable "DeliveryT" of "on" of "PlanStreamClient" cannot be "int"
    client.on(int, print)

    # A handler returns None or an awaitable.
    # error: [type-var] Value of type variable "HandlerResultT" of "on" of "PlanStreamClient" cannot be "int"
    client.on(LogEvent, returns_a_value)

    # on_any and on_error handlers take every item.
    # error: [type-var] Value of type variable "AnyHandlerT" of "on_any" of "PlanStreamClient" cannot be "Callable[[LogEvent], None]"
    client.on_any(logged)
    # error: [type-var] Value of type variable "ErrorHookT" of "on_error" of "PlanStreamClient" cannot be "Callable[[LogEvent], None]"
    client.on_error(logged)

    # Decorated functions stay typed.
    @client.on(StepStatusEvent)
    def step_changed(event: StepStatusEvent) -> None: ...

    # error: [arg-type] Argument 1 to "step_changed" has incompatible type "str"; expected "StepStatusEvent"
    step_changed("not an event")

    @client.on_any
    def everything(item: object) -> None: ...

    # error: [call-arg] Missing positional argument "item" in call to "everything"
    everything()
