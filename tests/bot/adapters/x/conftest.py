"""Fixtures for the X adapter: a fake X behind `responses`, a real SQLite store and the real service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses

from bot.adapters.x.adapter import XAdapter
from bot.adapters.x.api import XApi
from bot.config import Settings
from bot.config_x import XCredentials, XSettings
from bot.service import BotService
from storage import Store, open_store
from tests.bot.adapters.x.fake_x import KEYS, FakeX
from tests.bot.adapters.x.openapi import SPEC_PATH, XOpenApi

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class Clock:
    """A settable clock shared by the store, the service and the adapter."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="session")
def x_openapi() -> XOpenApi:
    if not SPEC_PATH.exists():
        pytest.skip(f"X's OpenAPI description is not at {SPEC_PATH} (CI has it in ../shared/reference)")
    return XOpenApi.load()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake_x(x_openapi: XOpenApi, clock: Clock) -> Iterator[FakeX]:
    fake = FakeX(api=x_openapi, now=clock.now)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake.install(mock)
        yield fake
    assert fake.violations == [], "requests or canned answers that X's API description rejects"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dallebot.db"


def make_store(db_path: Path, clock: Clock) -> Store:
    return open_store(f"sqlite:///{db_path}", clock=clock)


def make_service(store: Store) -> BotService:
    settings = Settings.model_validate(
        {"quotas": {"images_per_window": 1000, "max_in_flight": 1000}, "queue": {"cap": 10_000}}
    )
    return BotService(store, settings, safety=None)


@pytest.fixture
def store(db_path: Path, clock: Clock) -> Iterator[Store]:
    store = make_store(db_path, clock)
    yield store
    store.close()


@pytest.fixture
def service(store: Store) -> Iterator[BotService]:
    service = make_service(store)
    yield service
    service.close()


def make_adapter(clock: Clock, **settings: object) -> XAdapter:
    credentials = XCredentials.from_env(KEYS)
    assert credentials is not None
    x_settings = XSettings(enabled=True, **settings)
    return XAdapter(XApi(credentials, timeout=5), x_settings, clock=clock)


@pytest.fixture
def adapter(clock: Clock) -> XAdapter:
    return make_adapter(clock)
