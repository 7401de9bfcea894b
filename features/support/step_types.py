"""The custom types of step texts, registered once before any step module loads.

behave compiles a step's pattern when its module is loaded, so a type must be
registered before the first step module that uses it (they load in name
order): environment.py calls :func:`register_step_types` first.
"""

from __future__ import annotations

import re

import parse
from behave import register_type

__all__ = ["register_step_types"]


# --- "1, 3, 2..5" lists of seqs ---------------------------------------------------

_SEQ_ITEM = r"\d+(?:\.\.\d+)?"


@parse.with_pattern(rf"{_SEQ_ITEM}(?:\s*,\s*{_SEQ_ITEM})*")
def _parse_sequencer_seqs(text: str) -> list[int]:
    seqs: list[int] = []
    for item in re.split(r"\s*,\s*", text.strip()):
        low, _, high = item.partition("..")
        seqs.extend(range(int(low), int(high or low) + 1))
    return seqs


# --- quoted text (StreamAnyText in server_stream*, ApiText in client_api*) ----------

# Quoted values never hold a quote: "{plan_id}" alone would also match a longer
# step text that goes on after the first quoted value.


@parse.with_pattern(r'[^"]*')
def _parse_quoted_text(text: str) -> str:
    return text


# --- api clients (client_api.feature, client_auth_polling.feature) -------------------


@parse.with_pattern(r"to the reference server|to the scripted server|through the proxy")
def _parse_api_target(text: str) -> str:
    return text


def register_step_types() -> None:
    """Make ``SequencerSeqs``, ``StreamAnyText``, ``ApiTarget`` and ``ApiText`` known to behave."""
    register_type(
        SequencerSeqs=_parse_sequencer_seqs,
        StreamAnyText=_parse_quoted_text,
        ApiTarget=_parse_api_target,
        ApiText=_parse_quoted_text,
    )
