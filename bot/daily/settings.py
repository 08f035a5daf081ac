"""Settings of the daily prompt: the `daily:` section of config.yaml."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.domain import Platform

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class DailySettings(BaseModel):
    """The `daily:` section: when to post, where, and which prompts to rotate through."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    time: str = "09:00"  # local wall-clock time "HH:MM" in `timezone`
    timezone: str = "UTC"  # an IANA name, e.g. "Europe/Berlin"
    prompts: list[str] = Field(default_factory=list)
    # One prompt per line (blank and "#" lines skipped); used with `prompts` or instead of it.
    prompts_file: Path | None = None
    # A bot that was down at the scheduled minute still posts that day's prompt if it is back within this.
    grace_minutes: int = Field(default=360, ge=1, le=24 * 60)
    # Submitted once per date to each of these that is enabled; the others are skipped.
    platforms: list[Platform] = Field(default_factory=lambda: [Platform.X, Platform.DISCORD, Platform.WEB])

    @field_validator("time")
    @classmethod
    def _check_time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"daily.time must be HH:MM (24-hour), got {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"daily.timezone {value!r} is not an IANA time zone (e.g. Europe/Berlin)"
            raise ValueError(msg) from exc
        return value

    @model_validator(mode="after")
    def _needs_prompts(self) -> DailySettings:
        if self.enabled and not self.prompts and self.prompts_file is None:
            raise ValueError("daily.enabled needs daily.prompts (a list) or daily.prompts_file")
        return self

    @property
    def hour(self) -> int:
        return int(self.time[:2])

    @property
    def minute(self) -> int:
        return int(self.time[3:])

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def load_prompts(self) -> list[str]:
        """The configured list followed by the file's lines, stripped, without duplicates or blanks."""
        lines = list(self.prompts)
        if self.prompts_file is not None:
            try:
                text = self.prompts_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"daily.prompts_file {self.prompts_file}: cannot read it ({exc})") from exc
            lines += [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        seen: dict[str, None] = {}
        for line in lines:
            prompt = line.strip()
            if prompt:
                seen.setdefault(prompt, None)
        return list(seen)
