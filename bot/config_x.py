"""The `x:` section of config.yaml (read by bot.config, used by the X adapter) and the X_* env keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The four OAuth 1.0a user-context keys; the bearer token is optional (app-only reads are not needed).
CREDENTIAL_ENV = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
BEARER_ENV = "X_BEARER_TOKEN"


class XSettings(BaseModel):
    """The `x:` section. Disabled by default; enabling it also needs the four X_* keys in the environment."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    # Seconds between mention polls; each empty poll doubles the wait up to the maximum (idle back-off).
    poll_interval_seconds: float = Field(default=60.0, ge=5.0)
    max_poll_interval_seconds: float = Field(default=600.0, ge=5.0)
    # On the very first start (no stored since_id), ignore the mentions that are already there.
    skip_backlog_on_first_start: bool = True
    # Mentions older than this are ignored (a bot that was down for a day does not answer stale asks).
    max_mention_age_minutes: float = Field(default=360.0, gt=0)
    # One short text reply per rejected request (quota, safety, bad prompt); off saves the per-post cost.
    reply_to_rejections: bool = True
    # Posted with each daily image; "{prompt}" is replaced by the day's prompt.
    daily_text: str = Field(default="Today's prompt: {prompt}", max_length=240)
    # Seconds before an X HTTP call is given up (a post that times out is reconciled, never blindly re-sent).
    request_timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _back_off_upwards(self) -> XSettings:
        if self.max_poll_interval_seconds < self.poll_interval_seconds:
            raise ValueError("x.max_poll_interval_seconds must not be below x.poll_interval_seconds")
        return self


@dataclass(frozen=True, repr=False)
class XCredentials:
    """OAuth 1.0a user-context keys; repr hides them so they never reach a log."""

    api_key: str
    api_secret: str
    access_token: str
    access_token_secret: str
    bearer_token: str | None = None

    def __repr__(self) -> str:
        return "XCredentials(<hidden>)"

    @staticmethod
    def missing(env: Mapping[str, str]) -> list[str]:
        """Names of the required environment variables that are unset or empty."""
        return [name for name in CREDENTIAL_ENV if not env.get(name)]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> XCredentials | None:
        """The keys from `env`, or None when any required one is missing."""
        if cls.missing(env):
            return None
        return cls(
            api_key=env["X_API_KEY"],
            api_secret=env["X_API_SECRET"],
            access_token=env["X_ACCESS_TOKEN"],
            access_token_secret=env["X_ACCESS_TOKEN_SECRET"],
            bearer_token=env.get(BEARER_ENV) or None,
        )
