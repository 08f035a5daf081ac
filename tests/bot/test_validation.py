"""Bad input at the door (reliability.md row 15): each case rejected with its reason."""

from __future__ import annotations

import math

import pytest

from bot.config import GenerationLimits
from bot.domain import NewRequest, Options, Platform, Rejected, RejectionReason
from bot.validation import check_options, normalise_prompt, validate

LIMITS = GenerationLimits(max_prompt_chars=20, max_images=4)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  a   red\tfox\n", "a red fox"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),  # NFKC
        ("n\u200bu\u200dde", "nude"),  # invisible characters cannot split a word past the filter
        ("caf\u00ade", "cafe"),  # soft hyphen
        ("🦊 fox", "🦊 fox"),
    ],
)
def test_prompt_is_normalised(raw: str, expected: str) -> None:
    assert normalise_prompt(raw, LIMITS) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", RejectionReason.EMPTY_PROMPT),
        ("   \t\n ", RejectionReason.EMPTY_PROMPT),
        ("\u200b\u200c\u200d\ufeff", RejectionReason.EMPTY_PROMPT),  # zero-width only
        ("a fox\x00", RejectionReason.INVALID_CHARACTERS),
        ("a \x1b[31mfox", RejectionReason.INVALID_CHARACTERS),
        ("a fox \u202egnirts", RejectionReason.INVALID_CHARACTERS),  # bidi override
        ("a fox \ud800", RejectionReason.INVALID_CHARACTERS),  # lone surrogate
        ("x" * 21, RejectionReason.PROMPT_TOO_LONG),
        ("x" * 10_000_000, RejectionReason.PROMPT_TOO_LONG),
    ],
)
def test_bad_prompt_is_rejected_with_reason(raw: str, reason: RejectionReason) -> None:
    result = normalise_prompt(raw, LIMITS)
    assert isinstance(result, Rejected)
    assert result.reason is reason
    assert result.message


def test_length_is_counted_after_normalising() -> None:
    assert normalise_prompt("x" * 20 + "     ", LIMITS) == "x" * 20
    rejected = normalise_prompt("x" * 21, LIMITS)
    assert isinstance(rejected, Rejected)
    assert "21 characters" in rejected.message and "limit is 20" in rejected.message


@pytest.mark.parametrize(
    "options",
    [
        Options(images=0),
        Options(images=5),
        Options(images=True),
        Options(seed=-1),
        Options(seed=2**32),
        Options(seed=1.5),
        Options(top_k=0),
        Options(temperature=math.nan),
        Options(temperature=math.inf),
        Options(temperature=0),
        Options(cond_scale=-1.0),
        Options(cond_scale="10"),  # type: ignore[arg-type]
    ],
)
def test_out_of_range_options_are_rejected(options: Options) -> None:
    result = check_options(options, LIMITS)
    assert isinstance(result, Rejected)
    assert result.reason is RejectionReason.BAD_OPTION


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (Options(seed="abc"), "Option seed='abc' is not a number: use a whole number from 0"),  # type: ignore[arg-type]
        (Options(images=True), "Option images=True is not a number: use a whole number from 1 to 4"),
        (Options(images=2.5), "Option images=2.5 is not a whole number: use a whole number from 1 to 4"),
        (Options(seed=-1), "Option seed=-1 is out of range: use a whole number from 0"),
        (Options(temperature=math.nan), "Option temperature=nan is out of range"),
    ],
)  # fmt: skip
def test_a_bad_option_says_what_is_wrong_with_it(options: Options, says: str) -> None:
    result = check_options(options, LIMITS)
    assert isinstance(result, Rejected) and result.message.startswith(says), result.message


def test_valid_options_are_kept_and_typed() -> None:
    assert check_options(
        Options(seed=7.0, images=4, top_k=3, temperature=1, cond_scale=0), LIMITS
    ) == Options(seed=7, images=4, top_k=3, temperature=1.0, cond_scale=0.0)


def test_validate_returns_the_normalised_request() -> None:
    new = NewRequest(Platform.WEB, "e1", "u1", "  two   cats ", options=Options(images=2))
    checked = validate(new, LIMITS)
    assert isinstance(checked, NewRequest)
    assert checked.prompt == "two cats"
    assert checked.options.images == 2
    assert checked.external_id == "e1"
