"""What the prompt gate refuses: categories, the reason each shows the user, and which are on where.

Every category but one has a switch in config (`safety.prompt.categories`), a per-platform
override (`safety.prompt.platforms`) and an override for channels the platform marks NSFW
(`safety.prompt.nsfw_channels`, only Discord has such channels). `sexual_minors` has no switch
anywhere: a config that names it is rejected at start with a message saying why.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

log = logging.getLogger(__name__)


class Category(StrEnum):
    """A kind of content the prompt gate refuses; the value is what config and the audit use."""

    SEXUAL = "sexual"
    SEXUAL_MINORS = "sexual_minors"
    VIOLENCE_GORE = "violence_gore"
    HATE = "hate"
    SELF_HARM = "self_harm"


# When a prompt falls in several categories, the verdict names the first of these.
PRECEDENCE = (
    Category.SEXUAL_MINORS,
    Category.HATE,
    Category.SELF_HARM,
    Category.VIOLENCE_GORE,
    Category.SEXUAL,
)

REASONS: dict[Category, str] = {
    Category.SEXUAL: "This prompt asks for sexual or nude content, which this bot does not make here. "
    "Please rephrase it.",
    Category.SEXUAL_MINORS: "This prompt sexualises a minor. This bot never makes such images, anywhere; "
    "the refusal is logged for the operator.",
    Category.VIOLENCE_GORE: "This prompt asks for graphic violence or gore, which this bot does not make. "
    "Please rephrase it.",
    Category.HATE: "This prompt asks for hateful content (slurs, hate symbols or attacks on a group), "
    "which this bot does not make.",
    Category.SELF_HARM: "This prompt depicts suicide or self-harm, which this bot does not make. If you are "
    "struggling, please reach out to someone you trust or a local crisis line.",
}

NEVER_SWITCHABLE = Category.SEXUAL_MINORS.value


def _reject_minors_switch(data: Any, where: str) -> Any:
    if isinstance(data, dict) and NEVER_SWITCHABLE in data:
        log.error("%s.%s in config: this category cannot be configured", where, NEVER_SWITCHABLE)
        raise ValueError(
            f"{where}.{NEVER_SWITCHABLE} cannot be set: prompts that sexualise minors are always "
            "refused, on every platform and channel; remove the key"
        )
    return data


class CategorySwitches(BaseModel):
    """Which categories are refused: true refuses. `sexual_minors` is not a field: it is always on."""

    model_config = ConfigDict(extra="forbid")

    sexual: bool = True
    violence_gore: bool = True
    hate: bool = True
    self_harm: bool = True

    @model_validator(mode="before")
    @classmethod
    def _no_minors_switch(cls, data: Any) -> Any:
        return _reject_minors_switch(data, "categories")


class CategoryOverrides(BaseModel):
    """Per-platform or NSFW-channel changes to CategorySwitches; an unset key keeps the setting."""

    model_config = ConfigDict(extra="forbid")

    sexual: bool | None = None
    violence_gore: bool | None = None
    hate: bool | None = None
    self_harm: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_minors_switch(cls, data: Any) -> Any:
        return _reject_minors_switch(data, "overrides")


def refused_categories(
    base: CategorySwitches,
    platform: CategoryOverrides | None = None,
    nsfw_channel: CategoryOverrides | None = None,
) -> frozenset[Category]:
    """The categories refused in one place: base, then the platform's overrides, then the NSFW channel's."""
    on = base.model_dump()
    for overrides in (platform, nsfw_channel):
        if overrides is not None:
            on.update({k: v for k, v in overrides.model_dump().items() if v is not None})
    refused = {Category(name) for name, value in on.items() if value}
    refused.add(Category.SEXUAL_MINORS)  # no switch, no override
    return frozenset(refused)
