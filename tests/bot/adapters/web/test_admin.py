"""The operator hides a gallery image from the page: admin-only, same-origin JSON, as `mod hide`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.web import build_adapter
from bot.adapters.web.admin import ADMIN_COOKIE, ADMIN_TOKEN_ENV, admin_token
from bot.app import BotApp
from bot.config import ConfigError, parse_settings
from bot.domain import NewRequest, Platform, Status
from bot.safety.filter import SafetyFilter
from storage import open_store
from tests.bot.adapters.web.test_web import session_, web_url
from tests.bot.fakes import StandInPipeline

SECRET = "operator-secret-0123456789"


async def finished_image(app: BotApp, token: str, prompt: str) -> int:
    """A web request that went through the gates and was delivered: it is in the gallery."""
    assert app.service is not None and app.store is not None
    accepted = await app.service.submit(NewRequest(Platform.WEB, token, "u1", prompt))
    request_id = accepted.request_id  # type: ignore[union-attr]
    async with asyncio.timeout(10):
        while app.store.get_request(request_id).status is not Status.DONE:  # type: ignore[union-attr]
            await asyncio.sleep(0.02)
    return request_id


@pytest.fixture
async def operator_app(
    tmp_path: Path, pipeline: StandInPipeline, real_safety: SafetyFilter
) -> AsyncIterator[BotApp]:
    """`dallebot run` in-process with the operator's secret in its environment."""
    settings = parse_settings({"web": {"port": 0}, "worker": {"poll_seconds": 0.05}})
    store = open_store(f"sqlite:///{tmp_path / 'app.db'}")
    env = {ADMIN_TOKEN_ENV: SECRET}
    app = BotApp(settings, env, workers=1, store=store, load_pipeline=lambda: pipeline, safety=real_safety)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        store.close()


async def gallery_names(session, base: str) -> list[str]:  # type: ignore[no-untyped-def]
    async with session.get(f"{base}/api/gallery") as response:
        return [item["request_id"] for item in await response.json()]


async def test_without_an_operator_secret_nobody_can_hide(running_app: BotApp) -> None:
    token = "d" * 32
    await finished_image(running_app, token, "a lighthouse at dusk")
    base = web_url(running_app)
    async with session_() as session:
        async with session.get(f"{base}/api/admin") as response:
            assert await response.json() == {"available": False, "admin": False}
        async with session.post(f"{base}/api/admin/hide", json={"image": token}) as response:
            assert response.status == 404
        async with session.post(f"{base}/api/admin/session", json={"token": SECRET}) as response:
            assert response.status == 404
        assert await gallery_names(session, base) == [token]


async def test_the_operator_hides_an_image_from_the_page(operator_app: BotApp) -> None:
    kept, hidden = "e" * 32, "f" * 32
    await finished_image(operator_app, kept, "a lighthouse at dusk")
    hidden_id = await finished_image(operator_app, hidden, "a red barn")
    base = web_url(operator_app)
    async with session_() as session:
        # a visitor: not the operator, whatever it sends
        async with session.post(f"{base}/api/admin/hide", json={"image": hidden}) as response:
            assert response.status == 403
        async with session.post(f"{base}/api/admin/session", json={"token": SECRET[:-1] + "x"}) as response:
            assert response.status == 403
        assert ADMIN_COOKIE not in {c.key for c in session.cookie_jar}
        # the secret, once: an HttpOnly, SameSite=Strict cookie
        async with session.post(f"{base}/api/admin/session", json={"token": SECRET}) as response:
            assert response.status == 200
            cookie = response.cookies[ADMIN_COOKIE]
            assert cookie["httponly"] and cookie["samesite"] == "Strict" and SECRET not in cookie.value
        async with session.get(f"{base}/api/admin") as response:
            assert await response.json() == {"available": True, "admin": True}
        # another site cannot make the operator's browser hide anything
        hide_url, cross_site = f"{base}/api/admin/hide", {"Origin": "http://evil.example"}
        async with session.post(hide_url, json={"image": hidden}, headers=cross_site) as response:
            assert response.status == 403
        async with session.post(f"{base}/api/admin/hide", data={"image": hidden}) as response:
            assert response.status == 415  # a form post, as a cross-site <form> would send
        async with session.post(f"{base}/api/admin/hide", json={"image": "no-such-image"}) as response:
            assert response.status == 404
        assert await gallery_names(session, base) == [hidden, kept]
        async with session.post(f"{base}/api/admin/hide", json={"image": hidden}) as response:
            assert response.status == 200
            assert await response.json() == {"status": "hidden", "image": hidden, "requests": 1}
        assert await gallery_names(session, base) == [kept]
        async with session.get(f"{base}/images/{hidden}.png") as response:
            assert response.status == 404
    assert operator_app.store is not None
    decisions = operator_app.store.safety_decisions(hidden_id)
    assert any(d["gate"] == "operator" and d["action"] == "hide" and d["flagged"] for d in decisions)


async def test_a_script_may_send_the_secret_as_a_bearer_token(operator_app: BotApp) -> None:
    token = "0" * 32
    await finished_image(operator_app, token, "a blue boat")
    base = web_url(operator_app)
    async with session_() as session:
        wrong = {"Authorization": "Bearer not-the-secret-at-all"}
        async with session.post(f"{base}/api/admin/hide", json={"image": token}, headers=wrong) as response:
            assert response.status == 403
        right = {"Authorization": f"Bearer {SECRET}"}
        async with session.post(f"{base}/api/admin/hide", json={"image": token}, headers=right) as response:
            assert response.status == 200
        assert await gallery_names(session, base) == []


def test_the_secret_comes_from_the_environment_and_must_be_long() -> None:
    assert admin_token({}) is None and admin_token({ADMIN_TOKEN_ENV: "  "}) is None
    assert admin_token({ADMIN_TOKEN_ENV: SECRET}) == SECRET
    with pytest.raises(ValueError, match=f"{ADMIN_TOKEN_ENV} is 5 characters"):
        admin_token({ADMIN_TOKEN_ENV: "short"})
    settings = parse_settings({"web": {"port": 0}})
    with pytest.raises(ConfigError, match=ADMIN_TOKEN_ENV):
        build_adapter(settings, {ADMIN_TOKEN_ENV: "short"})
    adapter = build_adapter(settings, {ADMIN_TOKEN_ENV: SECRET})
    assert adapter is not None and adapter.admin.enabled
