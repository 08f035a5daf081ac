"""A Discord world for the adapter's tests: simcord's fake Discord, a real SQLite store, the real service.

Only the boundary is faked: Discord (simcord runs discord.py's real client against it) and the GPU
(`finish` stores a tiny PNG as if a worker had generated it). Submit, quotas, the outbox and the
core's delivery loop are the real ones.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from typing import Any

import discord
import pytest
import simcord
from PIL import Image

from bot.adapters.discord.adapter import DiscordAdapter
from bot.config import Settings
from bot.delivery import DeliveryLoop
from bot.domain import Platform, Request
from bot.safety.filter import SafetyFilter
from bot.safety.settings import SafetySettings
from bot.service import BotService
from storage import Store, open_store


def png(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()


@dataclass
class World:
    env: simcord.Env
    store: Store
    service: BotService
    adapter: DiscordAdapter
    loop: DeliveryLoop
    guild: Any
    channel: Any
    alice: Any
    mod: Any

    @property
    def client(self) -> discord.Client:
        return self.env.bot

    def requests(self) -> list[Request]:
        found = []
        for request_id in range(1, 200):
            request = self.store.get_request(request_id)
            if request is None:
                break
            found.append(request)
        return found

    def finish(self, *, message_png: bytes | None = None) -> list[int]:
        """Act as the GPU worker: complete every queued request with a tiny image."""
        done = []
        for claim in self.store.claim("test-worker", limit=50):
            self.store.complete(claim, image_png=message_png or png(), seconds=1.5)
            done.append(claim.request_id)
        return done

    def fail_all(self, error: str) -> list[int]:
        failed = []
        for claim in self.store.claim("test-worker", limit=50):
            self.store.fail(claim, error, retryable=False)
            failed.append(claim.request_id)
        return failed

    async def deliver(self) -> int:
        """One pass of the core's real delivery loop, then let the bot settle."""
        handled = await self.loop.run_once()
        await self.env.settle()
        return handled

    async def restart(self) -> None:
        """A new process: a fresh client (empty memory) against the same Discord and database.
        At start it takes back the waiting messages of unfinished requests (stale.adopt_waiting)."""
        await self.env.restart_bot(self.adapter.build_client(self.service))
        await self.env.settle()

    async def restart_unable_to_read_back(self) -> None:
        """A new process that could not read its earlier waiting messages back at start (Discord
        refused the channel's history then), so nothing was adopted and delivery must post anew."""
        self.env.inject_error("GET", f"/channels/{self.channel.id}/messages*", status=403, code=50001)
        await self.restart()


def make_settings(**discord: Any) -> Settings:
    return Settings.model_validate(
        {
            "discord": {"enabled": True, **discord},
            "quotas": {"images_per_window": 3, "window_seconds": 3600, "max_in_flight": 2},
            "generation": {"limits": {"max_images": 4, "max_prompt_chars": 100}},
        }
    )


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def clock() -> dict[str, Any]:
    return {}


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory):
    """One migrated SQLite file per session; each test gets a copy (migrating costs ~0.3 s)."""
    path = tmp_path_factory.mktemp("template") / "bot.db"
    open_store(f"sqlite:///{path}").close()
    return path


@pytest.fixture
async def store(tmp_path, clock, migrated_db):
    shutil.copy(migrated_db, tmp_path / "bot.db")
    store = open_store(f"sqlite:///{tmp_path / 'bot.db'}", clock=lambda: clock["env"].now(), upgrade=False)
    yield store
    store.close()


@pytest.fixture(scope="session")
def safety() -> SafetyFilter:
    """The real prompt gate with one operator deny word; the image gate belongs to the worker."""
    settings = SafetySettings.model_validate({"prompt": {"deny": ["forbidden"]}, "image": {"enabled": False}})
    return SafetyFilter.from_settings(settings)


@pytest.fixture
async def service(store, settings, safety):
    service = BotService(store, settings, safety)
    yield service
    service.close()


@pytest.fixture
def adapter(settings) -> DiscordAdapter:
    return DiscordAdapter(settings.discord, settings.generation.limits, "unused-token")


@pytest.fixture
def simcord_bot(adapter, service) -> discord.Client:
    """Our client, wired to the real service; simcord's plugin runs it as `simcord_env`."""
    return adapter.build_client(service)


@pytest.fixture
def env(simcord_env, clock) -> simcord.Env:
    """simcord's fake Discord (errors the bot swallowed fail the test unless a test inspected them)."""
    clock["env"] = simcord_env
    return simcord_env


@pytest.fixture
def world(env, store, service, adapter, clock) -> World:
    guild = env.create_guild()
    channel = guild.create_text_channel("art")
    alice = guild.add_member(env.create_user("alice"))
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_messages=True))
    mod = guild.add_member(env.create_user("mod"), roles=[mods])
    loop = DeliveryLoop(service, {Platform.DISCORD: adapter}, clock=lambda: clock["env"].now())
    return World(env, store, service, adapter, loop, guild, channel, alice, mod)
