"""The two tests every pass's probe file holds: its REFUSED prompts are refused in their category,
its PASSED prompts pass (one shape, written once; each file keeps its own prompts)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from bot.safety.filter import SafetyFilter
from bot.safety.policy import Category


def refused_and_passed(
    refused: Sequence[tuple[str, Category]], passed: Sequence[str]
) -> tuple[Callable[..., None], Callable[..., None]]:
    """Two parametrised tests for a module to bind to names starting with `test_`."""

    @pytest.mark.parametrize(("prompt", "category"), refused)
    def refuses(safety: SafetyFilter, prompt: str, category: Category) -> None:
        verdict = safety.check_prompt(prompt)
        assert not verdict.allowed and verdict.category is category, verdict

    @pytest.mark.parametrize("prompt", passed)
    def lets_through(safety: SafetyFilter, prompt: str) -> None:
        verdict = safety.check_prompt(prompt)
        assert verdict.allowed, verdict

    return refuses, lets_through
