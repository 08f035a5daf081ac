"""The web playground over HTTP, with the whole bot behind it (stand-in pipeline, real gates)."""

from __future__ import annotations

import asyncio
from io import BytesIO
from typing import Any

import aiohttp
from PIL import Image

from bot.adapters.web import WebAdapter
from bot.app import BotApp
from bot.domain import NewRequest, Platform, Rejected, RejectionReason, Status
from tests.bot.fakes import StandInPipeline


def session_(source: str | None = None) -> aiohttp.ClientSession:
    """A client that keeps cookies from 127.0.0.1, as a browser does (aiohttp's default refuses);
    `source`: the loopback address its connections come from (127.0.0.2, …), another visitor."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0)) if source else None
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=connector)


def web_url(app: BotApp) -> str:
    adapter = app.adapters[Platform.WEB]
    assert isinstance(adapter, WebAdapter) and adapter.url
    return adapter.url.rstrip("/")


async def wait_for_image(session: aiohttp.ClientSession, base: str, request_id: str) -> dict[str, Any]:
    """Poll the status endpoint like the page does, until the image is shown (or 10 s pass)."""
    async with asyncio.timeout(10):
        while True:
            async with session.get(f"{base}/api/requests/{request_id}") as response:
                status = await response.json()
            if status["image_url"] or status["status"] in ("failed", "rejected"):
                return status
            await asyncio.sleep(0.02)


async def test_prompt_to_image_through_queue_generation_gates_and_delivery(
    running_app: BotApp, pipeline: StandInPipeline
) -> None:
    base = web_url(running_app)
    async with session_() as session:
        async with session.post(
            f"{base}/api/requests", json={"prompt": "a lighthouse", "seed": 3}
        ) as response:
            assert response.status == 202
            accepted = await response.json()
        assert accepted["status"] == "queued" and accepted["position"] >= 0
        status = await wait_for_image(session, base, accepted["request_id"])
        assert status["status"] == "done" and status["prompt"] == "a lighthouse"
        async with session.get(base + status["image_url"]) as response:
            assert response.content_type == "image/png"
            image = Image.open(BytesIO(await response.read())).convert("RGB")
        assert image.getpixel((0, 0)) == StandInPipeline.colour("a lighthouse", 3)
        async with session.get(f"{base}/api/gallery") as response:
            gallery = await response.json()
        assert [item["request_id"] for item in gallery] == [accepted["request_id"]]
        async with session.get(f"{base}/api/quota") as response:
            quota = await response.json()
        assert (quota["used"], quota["remaining"], quota["images_per_window"]) == (1, 2, 3)
    assert pipeline.calls[0].prompts == ["a lighthouse"]
    assert len(accepted["request_id"]) == 32  # a token, not the row id
    stored = running_app.store.find_request(Platform.WEB, accepted["request_id"])  # type: ignore[union-attr]
    assert stored.posted_message_id == f"web:{stored.id}"  # type: ignore[union-attr]
    decisions = running_app.store.safety_decisions(stored.id)  # type: ignore[union-attr]
    assert [(d["gate"], d["action"]) for d in decisions] == [("prompt", "allow"), ("image", "post")]


async def test_rejections_carry_their_reason(running_app: BotApp, pipeline: StandInPipeline) -> None:
    base = web_url(running_app)
    async with session_() as session:
        async with session.post(f"{base}/api/requests", json={"prompt": "\u200b \u200b"}) as response:
            assert response.status == 422
            body = await response.json()
        assert body["reason"] == "empty_prompt" and body["message"]
        async with session.post(f"{base}/api/requests", json={"prompt": "a nude portrait"}) as response:
            body = await response.json()
        assert body["reason"] == "unsafe_prompt"  # the real prompt gate
        for n in range(3):
            async with session.post(f"{base}/api/requests", json={"prompt": f"fox {n}"}) as response:
                assert response.status == 202
        async with session.post(f"{base}/api/requests", json={"prompt": "one too many"}) as response:
            assert response.status == 429
            body = await response.json()
        # whichever limit bites first (the three may still be in flight), the user is told
        assert body["reason"] in ("quota_exceeded", "too_many_in_flight") and body["message"]
        if body["reason"] == "quota_exceeded":
            assert body["retry_after"]
        async with session.post(f"{base}/api/requests", data="prompt=x") as response:
            assert response.status == 415  # a cross-site form post cannot submit
        async with session.post(f"{base}/api/requests", json={"prompt": "x", "evil": 1}) as response:
            assert response.status == 400
    assert all("nude" not in p for call in pipeline.calls for p in call.prompts)


async def test_quota_follows_the_address_a_new_cookie_does_not_reset_it(running_app: BotApp) -> None:
    """The quota (3 images) is the address's: fresh cookies from 127.0.0.2 get nothing more, while
    127.0.0.3 still has its own three. (This replaces 'each browser is its own user': issue 19.)"""
    base = web_url(running_app)
    statuses = []
    for n in range(5):  # a fresh cookie jar each time: a visitor dropping its cookie
        async with (
            session_("127.0.0.2") as session,
            session.post(f"{base}/api/requests", json={"prompt": f"cat {n}"}) as response,
        ):
            statuses.append(response.status)
    assert statuses == [202, 202, 202, 429, 429]
    async with session_("127.0.0.3") as session:
        async with session.get(f"{base}/api/quota") as response:
            assert (await response.json())["remaining"] == 3
        async with session.post(f"{base}/api/requests", json={"prompt": "dog"}) as response:
            assert response.status == 202


async def test_same_client_id_twice_is_one_request(running_app: BotApp) -> None:
    base = web_url(running_app)
    async with session_() as session:
        bodies = []
        for _ in range(2):
            async with session.post(
                f"{base}/api/requests", json={"prompt": "owl", "id": "abc-1"}
            ) as response:
                bodies.append(await response.json())
    assert bodies[0]["request_id"] == bodies[1]["request_id"] and bodies[1]["duplicate"]
    async with session_() as other:  # another browser's "abc-1" is its own request, its prompt kept
        async with other.post(f"{base}/api/requests", json={"prompt": "wren", "id": "abc-1"}) as response:
            assert response.status == 202
            theirs = await response.json()
        assert theirs["request_id"] != bodies[0]["request_id"] and not theirs["duplicate"]
        status = await wait_for_image(other, base, theirs["request_id"])
    assert status["prompt"] == "wren"


async def test_health_and_metrics(running_app: BotApp) -> None:
    base = web_url(running_app)
    async with session_() as session:
        async with session.post(f"{base}/api/requests", json={"prompt": ""}) as response:
            assert response.status == 422
        async with session.post(f"{base}/api/requests", json={"prompt": "heron", "seed": 1}) as response:
            request_id = (await response.json())["request_id"]
        await wait_for_image(session, base, request_id)
        async with session.get(f"{base}/healthz") as response:
            assert response.status == 200 and (await response.json())["status"] == "ok"
        async with session.get(f"{base}/metrics") as response:
            text = await response.text()
    assert "dallebot_queue_depth 0.0" in text
    assert 'dallebot_rejections_total{reason="empty_prompt"} 1.0' in text
    assert "dallebot_generation_seconds_count 1.0" in text


async def test_gallery_shows_web_and_daily_images_but_not_other_platforms_users(running_app: BotApp) -> None:
    service, store = running_app.service, running_app.store
    assert service is not None and store is not None
    submitted = [
        await service.submit(NewRequest(Platform.DISCORD, "i1", "someone", "a discord lighthouse picture")),
        await service.submit(
            NewRequest(Platform.DISCORD, "daily:2026-01-01", "daily", "the daily prompt"), trusted=True
        ),
        await service.submit(
            NewRequest(Platform.WEB, "daily:2026-01-01", "daily", "the daily prompt"), trusted=True
        ),
    ]
    ids = [outcome.request_id for outcome in submitted]  # type: ignore[union-attr]
    async with asyncio.timeout(10):
        while any(store.get_request(i).status is not Status.DONE for i in ids):  # type: ignore[union-attr]
            await asyncio.sleep(0.02)
    base = web_url(running_app)
    async with session_() as session:
        async with session.get(f"{base}/api/gallery") as response:
            gallery = await response.json()
        async with session.get(f"{base}/images/{ids[0]}.png") as response:  # row ids name nothing
            assert response.status == 404
        async with session.get(f"{base}/images/daily-2026-01-01.png") as response:
            assert response.status == 200
    assert [(item["prompt"], item["daily"], item["image_url"]) for item in gallery] == [
        ("the daily prompt", True, "/images/daily-2026-01-01.png")
    ]


async def test_gallery_never_shows_a_refused_or_hidden_request(running_app: BotApp) -> None:
    service, store = running_app.service, running_app.store
    assert service is not None and store is not None
    kept_token, hidden_token, refused_token = "a" * 32, "b" * 32, "c" * 32
    kept = await service.submit(NewRequest(Platform.WEB, kept_token, "u1", "a lighthouse at dusk"))
    hidden = await service.submit(NewRequest(Platform.WEB, hidden_token, "u1", "a red barn"))
    refused = await service.submit(NewRequest(Platform.WEB, refused_token, "u1", "a naked woman on a bed"))
    assert isinstance(refused, Rejected) and refused.reason is RejectionReason.UNSAFE_PROMPT
    ids = [kept.request_id, hidden.request_id]  # type: ignore[union-attr]
    async with asyncio.timeout(10):
        while any(store.get_request(i).status is not Status.DONE for i in ids):  # type: ignore[union-attr]
            await asyncio.sleep(0.02)
    store.hide(ids[1])
    base = web_url(running_app)
    async with session_() as session:
        async with session.get(f"{base}/api/gallery") as response:
            gallery = await response.json()
        for token, status in ((hidden_token, 404), (refused_token, 404), (kept_token, 200)):
            async with session.get(f"{base}/images/{token}.png") as response:
                assert response.status == status, token
    assert [item["prompt"] for item in gallery] == ["a lighthouse at dusk"]


async def test_words_the_model_does_not_know_are_refused_or_named(running_app: BotApp) -> None:
    """Issue 14: no "Done" for a picture that ignored the prompt; a partial one names what it left out."""
    from generation.understanding import PromptReader

    assert running_app.service is not None
    running_app.service.reader = PromptReader.for_model("shapes")  # the shapes model's vocabulary
    base = web_url(running_app)
    async with session_() as session:
        body = {"prompt": "sunset over the mountains"}
        async with session.post(f"{base}/api/requests", json=body) as response:
            assert response.status == 422
            refused = await response.json()
        assert refused["reason"] == "not_understood"
        assert '"sunset", "mountains"' in refused["message"] and "a red circle" in refused["message"]
        async with session.get(f"{base}/api/quota") as response:
            assert (await response.json())["used"] == 0  # not charged
        async with session.post(f"{base}/api/requests", json={"prompt": "a red fox"}) as response:
            assert response.status == 202
            accepted = await response.json()
        status = await wait_for_image(session, base, accepted["request_id"])
    assert status["status"] == "done" and status["ignored_words"] == ["fox"]
    assert status["note"] == 'Left out (not in this model\'s vocabulary): "fox".'


async def test_a_grid_is_one_png_and_each_tile_its_own_and_a_blank_seed_is_drawn_and_shown(
    running_app: BotApp, pipeline: StandInPipeline
) -> None:
    from generation.images import GUTTER

    base = web_url(running_app)
    async with session_() as session:
        async with session.post(
            f"{base}/api/requests", json={"prompt": "two wrens", "images": 2}
        ) as response:
            assert response.status == 202 and (await response.json())["status"] == "queued"
        async with session.post(f"{base}/api/requests", json={"prompt": "a wren", "seed": 5}) as response:
            single = await response.json()
        assert single["options"] == {"seed": 5, "images": 1}
        async with asyncio.timeout(10):
            while len(pipeline.calls) < 2:
                await asyncio.sleep(0.02)
        grid_call = next(call for call in pipeline.calls if call.images_per_prompt == 2)
        async with session.get(f"{base}/api/gallery") as response:
            gallery = await response.json()
        while len(gallery) < 2:
            await asyncio.sleep(0.05)
            async with session.get(f"{base}/api/gallery") as response:
                gallery = await response.json()
        grid_item = next(item for item in gallery if item["prompt"] == "two wrens")
        grid_token = grid_item["request_id"]
        assert grid_item["tiles"] == [f"/images/{grid_token}/{i}.png" for i in range(1, 3)]
        status = await wait_for_image(session, base, grid_token)
        seed = status["options"]["seed"]  # drawn by the bot, told to the page
        assert isinstance(seed, int) and grid_call.seeds == [seed] and status["tiles"] == grid_item["tiles"]
        async with session.get(base + status["image_url"]) as response:
            assert Image.open(BytesIO(await response.read())).size == (512 + GUTTER, 256)  # side by side
        for i, url in enumerate(status["tiles"]):
            async with session.get(base + url) as response:
                assert response.status == 200 and response.content_type == "image/png"
                tile = Image.open(BytesIO(await response.read())).convert("RGB")
            assert tile.size == (256, 256) and tile.getpixel((255, 0)) == StandInPipeline.colour(
                "two wrens", seed, i
            )
        for path in (
            f"/images/{grid_token}/0.png",
            f"/images/{grid_token}/3.png",
            f"/images/{single['request_id']}/1.png",
        ):
            async with session.get(base + path) as response:
                assert response.status == 404, path
                assert "tile" in (await response.json())["message"]


async def test_the_page_is_told_its_choices_and_bounds_and_what_the_model_draws(running_app: BotApp) -> None:
    from generation.understanding import THINGS_EXAMPLES, THINGS_NAME

    base = web_url(running_app)
    async with session_() as session, session.get(f"{base}/api/about") as response:
        about = await response.json()
    options, model = about["options"], about["model"]
    # the configured model (none: the default embedded one, things): named, sized, its world and
    # examples, the way to a real one
    assert model["name"] == THINGS_NAME and " MB of weights" in model["summary"]
    assert "everyday things" in model["draws"] and "left of" in model["draws"]
    assert model["examples"] == list(THINGS_EXAMPLES)
    assert "dallebot models download mini" in model["real_model"]
    assert options["images"] == [1, 4, 9]
    assert options["temperature"] == {"min": 0.05, "max": 3.0, "default": None}
    assert options["top_k"]["max"] == 16384 and options["seed"] == {"min": 0, "max": 2**32 - 1}


async def test_a_body_past_the_limit_is_a_413_in_words(running_app: BotApp) -> None:
    base = web_url(running_app)
    async with session_() as session:
        async with session.post(f"{base}/api/requests", json={"prompt": "x" * 70_000}) as response:
            assert response.status == 413
            assert "too large" in (await response.json())["message"]
        async with session.post(f"{base}/api/requests", json={"prompt": "a wren", "top_k": 0}) as response:
            assert response.status == 422
            body = await response.json()
        assert (
            body["reason"] == "bad_option" and "top_k" in body["message"] and "1 to 16384" in body["message"]
        )
