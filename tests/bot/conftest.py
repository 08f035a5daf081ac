"""Shared fixtures: a real SQLite store on a fake clock, settings, the service over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PIL import Image

from bot.app import BotApp
from bot.config import Settings, parse_settings
from bot.safety.filter import SafetyFilter
from bot.safety.settings import SafetySettings
from bot.service import BotService
from storage import Store, open_store
from tests.bot.fakes import FakeClock, StandInPipeline, StandInSafety


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return parse_settings(
        {
            "quotas": {"images_per_window": 100, "max_in_flight": 100},
            "worker": {"batch_size": 4, "max_attempts": 3, "lease_seconds": 30, "heartbeat_seconds": 5},
        }
    )


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def store(db_url: str, clock: FakeClock, settings: Settings) -> Iterator[Store]:
    store = open_store(db_url, clock=clock, max_attempts=settings.worker.max_attempts)
    yield store
    store.close()


@pytest.fixture
def safety() -> StandInSafety:
    return StandInSafety()


@pytest.fixture
def pipeline() -> StandInPipeline:
    return StandInPipeline()


@pytest.fixture
def service(store: Store, settings: Settings, safety: StandInSafety) -> Iterator[BotService]:
    service = BotService(store, settings, safety)  # type: ignore[arg-type]
    yield service
    service.close()


class RedImageClassifier:
    """Stand-in for Open-NSFW at the image gate: a pure red top-left pixel scores as explicit."""

    name = "stand-in"

    def score(self, image: Image.Image) -> float:
        return 0.99 if image.convert("RGB").getpixel((0, 0)) == (255, 0, 0) else 0.01


@pytest.fixture
def real_safety() -> SafetyFilter:
    """The real filter: packaged word lists and prompt model; only the image classifier stands in."""
    return SafetyFilter.from_settings(SafetySettings(), image_classifier=RedImageClassifier())


@pytest.fixture
async def running_app(
    tmp_path: Path, pipeline: StandInPipeline, real_safety: SafetyFilter
) -> AsyncIterator[BotApp]:
    """`dallebot run` in-process with no secrets: the web playground on a free port, one worker."""
    settings = parse_settings(
        {
            "web": {"port": 0},
            "quotas": {"images_per_window": 3, "max_in_flight": 3},
            "worker": {"poll_seconds": 0.05, "batch_size": 4},
        }
    )
    store = open_store(f"sqlite:///{tmp_path / 'app.db'}")
    app = BotApp(settings, {}, workers=1, store=store, load_pipeline=lambda: pipeline, safety=real_safety)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        store.close()
