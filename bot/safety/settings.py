"""The `safety:` section of config.yaml: what each gate checks, its threshold, and what happens.

Both gates are on by default. Switching one off takes an explicit `enabled: false`, and the
filter logs a warning when it is built that way. Every model rejects unknown keys, so a typo
such as `treshold` fails at start naming the key.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.safety.policy import Category, CategoryOverrides, CategorySwitches, refused_categories

PlatformName = Literal["web", "discord", "x"]


class PromptGateSettings(BaseModel):
    """The prompt gate, run before a request is queued (no GPU time is spent on a refused prompt)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    threshold: float = Field(
        0.7,
        gt=0.0,
        le=1.0,
        description="classifier score at or above which a prompt is refused (0.7: the lowest whose "
        "cross-validated false-positive rate on the training prompts is at most 2%, train.py --cv)",
    )
    semantic: bool = Field(
        True,
        description="also read each prompt's meaning with the multilingual sentence classifier "
        "(bot/safety/semantic.py; about 1.3 ms a prompt): false judges prompts by their terms only",
    )
    semantic_threshold: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="score at or above which the sentence classifier refuses a prompt: the head's "
        "probability of the refused categories together, mixed with its nearest training prompts' "
        "share of them (the vote's weight is packaged with the head); null keeps the packaged one "
        "(chosen with the vote's weight for the best recall whose false positives on the training "
        "prompts, one writer's file left out at a time, are at most 2%, train_semantic.py --cv). Lower "
        "refuses more unsafe prompts and more innocent ones; `dallebot eval safety --config` shows the "
        "trade",
    )
    semantic_vote_weight: float | None = Field(
        None,
        ge=0.0,
        lt=1.0,
        description="weight of the nearest training prompts' vote in the sentence classifier's score "
        "(the head's probability has the rest): 0 judges by the head alone and never reads the "
        "neighbours; null keeps the weight packaged with the head (chosen with its threshold). Move "
        "it together with semantic_threshold and compare with `dallebot eval safety --config`",
    )
    semantic_clear_below: float | None = Field(
        None,
        ge=0.0,
        lt=1.0,
        description="a prompt refused by the terms and rules is allowed when the sentence classifier's "
        "score (as for semantic_threshold) is below this: most innocent prompts refused on blind sets "
        "were refused by a word that also names a dish, a breed or a painting. Never for sexual_minors, "
        "a word that refuses alone, the deny lists or the English classifier; each clause and six-word "
        "window the terms refuse must be cleared too. null keeps the packaged value (chosen on the "
        "training prompts, one writer's file left out at a time, train_semantic.py); 0 never overrules",
    )
    semantic_ngram_clear_below: float | None = Field(
        None,
        ge=0.0,
        lt=1.0,
        description="the same for a prompt refused by the n-gram classifier alone (no term or rule "
        "refused it): letters that resemble a listed word are weaker evidence than the word, so the "
        "bar may sit higher than semantic_clear_below (never lower). null keeps the packaged value "
        "(chosen like semantic_clear_below); 0 judges those refusals at semantic_clear_below",
    )
    deny: list[str] = Field(
        default_factory=list,
        description="operator's extra words or phrases to refuse; whole words after normalisation, "
        "a trailing * matches any ending (e.g. 'grope*')",
    )
    allow: list[str] = Field(
        default_factory=list,
        description="operator's words or phrases that never count against a prompt (e.g. a place name); "
        "whole words after normalisation",
    )

    categories: CategorySwitches = Field(
        default_factory=CategorySwitches,
        description="which categories are refused (true refuses); sexual_minors is always refused",
    )
    platforms: dict[PlatformName, CategoryOverrides] = Field(
        default_factory=dict,
        description="per-platform changes to `categories`, e.g. web: {violence_gore: false}",
    )
    nsfw_channels: CategoryOverrides = Field(
        default_factory=CategoryOverrides,
        description="changes in channels the platform marks NSFW and whose admin allowed flagged images "
        "(Discord), e.g. {sexual: false}; sexual_minors cannot be named",
    )

    def refused(self, platform: str | None, nsfw_channel: bool) -> frozenset[Category]:
        """The categories refused on `platform` (None: the base switches), in an NSFW channel or not."""
        overrides = self.platforms.get(platform) if platform is not None else None  # type: ignore[call-overload]
        return refused_categories(self.categories, overrides, self.nsfw_channels if nsfw_channel else None)

    @field_validator("deny", "allow")
    @classmethod
    def _no_blank_entries(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if not entry.strip().rstrip("*").strip():
                raise ValueError(f"blank entry {entry!r}: list words or phrases, one per item")
        return entries


class ImageGateSettings(BaseModel):
    """The image gate, run on every generated image before anything is posted."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    threshold: float = Field(
        0.8, gt=0.0, le=1.0, description="Open-NSFW probability at or above which an image is flagged"
    )
    spoiler_in_nsfw_channels: list[PlatformName] = Field(
        default_factory=list,
        description="platforms where a flagged image may be posted behind a spoiler in a channel the "
        "platform marks NSFW (only Discord has such channels); everywhere else it is blocked",
    )


class SafetySettings(BaseModel):
    """Policy for the prompt and image gates; nested by the core as `safety:` in config.yaml."""

    model_config = ConfigDict(extra="forbid")

    prompt: PromptGateSettings = Field(default_factory=PromptGateSettings)
    image: ImageGateSettings = Field(default_factory=ImageGateSettings)
