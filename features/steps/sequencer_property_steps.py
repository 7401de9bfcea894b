"""Steps of sequencer_properties.feature: each runs one hypothesis property of the pure sequencer."""

from __future__ import annotations

from typing import Any

from behave import then
from support.hypothesis_runs import run_property
from support.sequencer_properties import (
    sequencer_invariants_property,
    sequencer_repair_property,
    sequencer_shuffle_property,
)


@then(
    "the sequencer delivers any shuffled seq range with duplicates exactly once in order, "
    "fed one event at a time, with reorder window {rw:d} and dedup window {dw:d}"
)
def sequencer_property_shuffle(context: Any, rw: int, dw: int) -> None:
    run_property(sequencer_shuffle_property(rw, dw, batched=False))


@then(
    "the sequencer delivers any shuffled seq range with duplicates exactly once in order, "
    "fed as batches, with reorder window {rw:d} and dedup window {dw:d}"
)
def sequencer_property_shuffle_batches(context: Any, rw: int, dw: int) -> None:
    run_property(sequencer_shuffle_property(rw, dw, batched=True))


@then(
    "the sequencer keeps its bounds, order and uniqueness for any input to fresh plans "
    "with reorder window {rw:d} and dedup window {dw:d}"
)
def sequencer_property_invariants(context: Any, rw: int, dw: int) -> None:
    run_property(sequencer_invariants_property(rw, dw, resumed=False))


@then(
    "the sequencer keeps its bounds, order and uniqueness for any input to resumed plans "
    "with reorder window {rw:d} and dedup window {dw:d}"
)
def sequencer_property_invariants_resumed(context: Any, rw: int, dw: int) -> None:
    run_property(sequencer_invariants_property(rw, dw, resumed=True))


@then(
    "the sequencer repairs any events dropped from a seq range of up to {rw:d} "
    "by resubscribe and replay, delivering each exactly once"
)
def sequencer_property_repair(context: Any, rw: int) -> None:
    run_property(sequencer_repair_property(rw))
