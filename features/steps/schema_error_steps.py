"""Steps of schema.feature about decoding errors: which error, what it says, and
how much of the frame it quotes."""

from __future__ import annotations

import json
from typing import Any

from behave import then
from pydantic import ValidationError
from support.schema_frames import raw_text

import planstream
from planstream import (
    FrameTooLargeError,
    InvalidFrameError,
    ProtocolError,
)

_EXCERPT_LIMIT = 200


# --- Then: errors ---------------------------------------------------------------


def _invalid_frame_error(context: Any) -> InvalidFrameError:
    error = context.wire_error
    assert error is not None, f"decoding succeeded: {context.wire_model!r}"
    assert isinstance(error, InvalidFrameError), repr(error)
    assert isinstance(error, ProtocolError)
    assert isinstance(error, planstream.PlanStreamError)
    assert not isinstance(error, ValidationError | json.JSONDecodeError | UnicodeError)
    assert error.__cause__ is None, "the pydantic error must not be chained"
    assert error.__suppress_context__, "the pydantic error must not leak as context"
    return error


@then('wire decoding failed with InvalidFrameError whose reason mentions "{fragment}"')
def then_invalid_frame(context: Any, fragment: str) -> None:
    error = _invalid_frame_error(context)
    assert fragment in error.reason, f"{fragment!r} not in {error.reason!r}"
    assert error.reason in str(error)


@then('the InvalidFrameError reason mentions "{fragment}"')
def then_reason_mentions(context: Any, fragment: str) -> None:
    error = _invalid_frame_error(context)
    assert fragment in error.reason, f"{fragment!r} not in {error.reason!r}"


@then('the InvalidFrameError reason does not mention "{fragment}"')
def then_reason_lacks(context: Any, fragment: str) -> None:
    error = _invalid_frame_error(context)
    assert fragment not in error.reason, f"{fragment!r} in {error.reason!r}"


@then("the InvalidFrameError excerpt is the start of the frame, at most 200 characters")
def then_excerpt(context: Any) -> None:
    error = _invalid_frame_error(context)
    text = raw_text(context.wire_raw)
    assert len(error.excerpt) <= _EXCERPT_LIMIT, len(error.excerpt)
    if len(text) <= _EXCERPT_LIMIT:
        assert error.excerpt == text, (error.excerpt, text)
    else:
        assert error.excerpt.endswith("…"), error.excerpt
        assert text.startswith(error.excerpt[:-1]), error.excerpt
        assert len(error.excerpt) == _EXCERPT_LIMIT


@then("the InvalidFrameError message is shorter than {limit:d} characters")
def then_message_short(context: Any, limit: int) -> None:
    error = _invalid_frame_error(context)
    assert len(str(error)) < limit, len(str(error))


@then("wire decoding failed with FrameTooLargeError for the frame's UTF-8 size and limit {limit:d}")
def then_too_large(context: Any, limit: int) -> None:
    error = context.wire_error
    raw = context.wire_raw
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    assert size > limit, "the frame was meant to be too large"
    assert isinstance(error, FrameTooLargeError), f"not refused as too large: {error!r}"
    assert isinstance(error, ProtocolError)
    assert not isinstance(error, InvalidFrameError)
    assert error.size == size, (error.size, size)
    assert error.limit == limit
    assert str(size) in str(error)
    assert str(limit) in str(error)
    assert len(error.excerpt) <= _EXCERPT_LIMIT
