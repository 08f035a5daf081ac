"""The first checks at the door: normalise a prompt and its options, or say what is wrong.

Pure functions over domain types, so every platform gets the same answer and tests need nothing.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import replace

from bot.config import GenerationLimits
from bot.domain import NewRequest, Options, Rejected, RejectionReason

# Invisible characters removed before anything else looks at the prompt: they carry no meaning for
# the model, and left in they would let "n\u200bude" slip past a word filter.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f"), None)
_WHITESPACE_RUN = re.compile(r"\s+")
# Unicode categories refused outright: controls, format marks (bidi overrides, tags), surrogates,
# private-use and unassigned code points. Tabs and newlines are whitespace, folded to spaces below.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_SEED_LIMIT = 2**32


def normalise_prompt(raw: str, limits: GenerationLimits) -> str | Rejected:
    """NFKC, invisible characters dropped, whitespace folded; or why the prompt cannot be used."""
    if not isinstance(raw, str):
        return Rejected(RejectionReason.EMPTY_PROMPT, "The prompt must be text.")
    # A hostile multi-megabyte prompt is refused before any per-character work.
    if len(raw) > 4 * limits.max_prompt_chars:
        return _too_long(len(raw), limits)
    text = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE)
    text = _WHITESPACE_RUN.sub(" ", text).strip()
    if not text:
        return Rejected(RejectionReason.EMPTY_PROMPT, "The prompt is empty: describe the picture you want.")
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return Rejected(
                RejectionReason.INVALID_CHARACTERS,
                f"The prompt contains an unsupported character (U+{ord(char):04X}): "
                "remove control or formatting characters and try again.",
            )
    if len(text) > limits.max_prompt_chars:
        return _too_long(len(text), limits)
    return text


def printable(text: str) -> str:
    """`text` with every refused character replaced by U+FFFD (for logs and rejection records)."""
    return "".join("\ufffd" if unicodedata.category(char) in _REFUSED_CATEGORIES else char for char in text)


def _too_long(length: int, limits: GenerationLimits) -> Rejected:
    return Rejected(
        RejectionReason.PROMPT_TOO_LONG,
        f"The prompt is {length} characters long; the limit is {limits.max_prompt_chars}. Shorten it.",
    )


def _bad_option(name: str, value: object, allowed: str) -> Rejected:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem = "is not a number"
    elif "whole number" in allowed and math.isfinite(value) and not float(value).is_integer():
        problem = "is not a whole number"
    else:
        problem = "is out of range"
    return Rejected(RejectionReason.BAD_OPTION, f"Option {name}={value!r} {problem}: use {allowed}.")


def _number_in(value: object, low: float, high: float, *, integer: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if integer and not (isinstance(value, int) or float(value).is_integer()):
        return False
    return math.isfinite(value) and low <= value <= high


def check_options(options: Options, limits: GenerationLimits) -> Options | Rejected:
    """Every set option within the configured limits (NaN and booleans never are)."""
    if options.seed is not None and not _number_in(options.seed, 0, _SEED_LIMIT - 1, integer=True):
        return _bad_option("seed", options.seed, f"a whole number from 0 to {_SEED_LIMIT - 1}")
    if not _number_in(options.images, 1, limits.max_images, integer=True):
        return _bad_option("images", options.images, f"a whole number from 1 to {limits.max_images}")
    if options.top_k is not None and not _number_in(
        options.top_k, limits.min_top_k, limits.max_top_k, integer=True
    ):
        return _bad_option(
            "top_k", options.top_k, f"a whole number from {limits.min_top_k} to {limits.max_top_k}"
        )
    if options.temperature is not None and not _number_in(
        options.temperature, limits.min_temperature, limits.max_temperature, integer=False
    ):
        return _bad_option(
            "temperature", options.temperature, f"{limits.min_temperature} to {limits.max_temperature}"
        )
    if options.cond_scale is not None and not _number_in(
        options.cond_scale, limits.min_cond_scale, limits.max_cond_scale, integer=False
    ):
        return _bad_option(
            "cond_scale", options.cond_scale, f"{limits.min_cond_scale} to {limits.max_cond_scale}"
        )
    return Options(
        seed=None if options.seed is None else int(options.seed),
        images=int(options.images),
        top_k=None if options.top_k is None else int(options.top_k),
        temperature=None if options.temperature is None else float(options.temperature),
        cond_scale=None if options.cond_scale is None else float(options.cond_scale),
    )


def validate(new: NewRequest, limits: GenerationLimits) -> NewRequest | Rejected:
    """`new` with its prompt normalised and options checked, or the first reason it is refused."""
    prompt = normalise_prompt(new.prompt, limits)
    if isinstance(prompt, Rejected):
        return prompt
    options = check_options(new.options, limits)
    if isinstance(options, Rejected):
        return options
    return replace(new, prompt=prompt, options=options)
