"""The playground attacked from outside, over HTTP on loopback from several client addresses.

No worker runs here, so accepted requests stay queued: what the attacker holds is what it got.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.adapters.web import WebAdapter
from bot.adapters.web.guard import SECURITY_HEADERS
from bot.config import parse_settings
from bot.domain import Platform, Status
from bot.service import BotService
from storage import Store, open_store
from tests.bot.fakes import StandInSafety

Serve = Callable[..., Awaitable[tuple[str, Store]]]


def visitor(source: str = "127.0.0.1", *, cookies: bool = True) -> aiohttp.ClientSession:
    """A client whose connections come from `source`; without `cookies` it keeps none (curl-like)."""
    jar: aiohttp.abc.AbstractCookieJar = (
        aiohttp.CookieJar(unsafe=True) if cookies else aiohttp.DummyCookieJar()
    )
    return aiohttp.ClientSession(cookie_jar=jar, connector=aiohttp.TCPConnector(local_addr=(source, 0)))


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    """Start the playground over a real SQLite store with the given config sections; no worker."""
    started: list[tuple[WebAdapter, BotService, Store]] = []

    async def start(**sections: Any) -> tuple[str, Store]:
        sections.setdefault("web", {})["port"] = 0
        settings = parse_settings(sections)
        store = open_store(f"sqlite:///{tmp_path / f'web{len(started)}.db'}")
        service = BotService(store, settings, StandInSafety())  # type: ignore[arg-type]
        adapter = WebAdapter(settings.web)
        adapter.limiter.clock = lambda: 1000.0  # time stands still: no bucket refills mid-test
        await adapter.start(service)
        started.append((adapter, service, store))
        assert adapter.url
        return adapter.url.rstrip("/"), store

    yield start
    for adapter, service, store in started:
        await adapter.stop()
        service.close()
        store.close()


async def post(
    session: aiohttp.ClientSession, url: str, body: Any, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with session.post(url, json=body, **kwargs) as response:
        return response.status, await response.json()


async def test_a_storm_from_one_address_cannot_fill_the_queue_and_the_honest_visitor_is_served(
    serve: Serve,
) -> None:
    base, store = await serve(
        quotas={"images_per_window": 10, "max_in_flight": 5},
        queue={"cap": 8, "max_share": 0.25},  # one address may hold 2 of the 8 places
        web={"submits_per_minute": 20},
    )
    statuses: list[int] = []
    for n in range(100):  # half without a cookie, half with a new cookie each time
        async with visitor("127.0.0.2", cookies=n % 2 == 0) as session:
            status, body = await post(session, f"{base}/api/requests", {"prompt": f"spam {n}"})
            statuses.append(status)
            if status == 429 and body["reason"] == "rate_limited":
                assert body["message"].startswith("Too many requests from your address; wait ")
    assert statuses.count(202) == 2
    assert set(statuses) == {202, 429}
    assert store.count_requests(Status.QUEUED) == 2
    # the limiter answered most of the storm before storage: 20 submits reached it, 18 refused
    assert store.count_requests(Status.REJECTED) == 18
    async with visitor("127.0.0.3") as honest:
        status, body = await post(honest, f"{base}/api/requests", {"prompt": "a quiet lake"})
    assert (status, body["status"]) == (202, "queued")


async def test_rate_limited_submit_says_when_to_retry(serve: Serve) -> None:
    base, _ = await serve(web={"submits_per_minute": 1}, quotas={"max_in_flight": 10})
    async with visitor("127.0.0.4") as session:
        assert (await post(session, f"{base}/api/requests", {"prompt": "one"}))[0] == 202
        async with session.post(f"{base}/api/requests", json={"prompt": "two"}) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "60"
            body = await response.json()  # the body says when too, as every other refusal does
            wait = datetime.fromisoformat(body["retry_after"]) - datetime.now(UTC)
            assert body["reason"] == "rate_limited" and 50 < wait.total_seconds() <= 60
    async with visitor("127.0.0.5") as other:  # another address has its own budget
        assert (await post(other, f"{base}/api/requests", {"prompt": "three"}))[0] == 202


async def test_requests_are_private_to_the_browser_that_sent_them(serve: Serve) -> None:
    base, store = await serve()
    async with visitor("127.0.0.2") as owner, visitor("127.0.0.2") as neighbour:
        status, body = await post(owner, f"{base}/api/requests", {"prompt": "my secret garden"})
        token = body["request_id"]
        stored = store.find_request(Platform.WEB, token)
        assert status == 202 and stored is not None and token != str(stored.id)
        async with owner.get(f"{base}/api/requests/{token}") as response:
            assert response.status == 200 and (await response.json())["prompt"] == "my secret garden"
        for guess in (token, str(stored.id), "1", "2"):  # same address, another cookie; row ids
            async with neighbour.get(f"{base}/api/requests/{guess}") as response:
                assert (response.status, await response.json()) == (
                    404,
                    {"status": "error", "message": "no such request"},
                )


@pytest.mark.parametrize(
    "path",
    [
        "/api/requests/99999999999999999999",
        "/api/requests/9223372036854775808",
        "/api/requests/-1",
        "/api/requests/%00",
        "/images/18446744073709551616.png",
        "/images/-5.png",
        "/images/daily-9999-99-99.png",
        "/images/" + "f" * 32 + ".png",
        "/static/../config.yaml",
        "/static/adapter.py",
    ],
)
async def test_odd_ids_are_not_found_never_a_server_error(serve: Serve, path: str) -> None:
    base, _ = await serve()
    async with visitor() as session, session.get(base + path) as response:
        assert response.status == 404, path
        assert "Traceback" not in await response.text()


async def test_odd_bodies_are_refused_with_a_client_error(serve: Serve) -> None:
    base, _ = await serve(web={"submits_per_minute": 100})
    nested = "[" * 30_000 + "]" * 30_000  # under the 64 KiB limit, past the parser's recursion limit
    bodies = [
        nested.encode(),
        ('{"prompt": ' + nested + "}").encode(),
        b"\xff\xfe not utf-8",
        b"",
        b"[]",
        b'"a string"',
        b'{"prompt": "x", "seed": ' + b"9" * 5000 + b"}",
        b'{"prompt": "x", "seed": 1e400}',
        b'{"prompt": "x", "seed": 18446744073709551616}',
        b'{"prompt": "x", "images": 100000000000000000000000}',
        b'{"prompt": "x", "temperature": NaN}',
        b'{"prompt": ["x"]}',
        b'{"prompt": "x", "id": {"a": 1}}',
        b'{"prompt": "x", "id": "' + b"a" * 65 + b'"}',
        b'{"prompt": "x", "evil": 1}',
        b"x" * 70_000,
    ]
    async with visitor() as session:
        for raw in bodies:
            async with session.post(
                f"{base}/api/requests", data=raw, headers={"Content-Type": "application/json"}
            ) as response:
                text = await response.text()
                assert 400 <= response.status < 500, (raw[:40], response.status, text)
                for internal in ("Traceback", "sqlalchemy", "RecursionError", 'File "'):
                    assert internal not in text


async def test_a_prompt_that_is_not_text_is_refused_as_such(serve: Serve) -> None:
    base, _ = await serve(web={"submits_per_minute": 100})
    async with visitor() as session:
        for prompt in (5, ["a red fox"], {"text": "a red fox"}, True):
            status, body = await post(session, f"{base}/api/requests", {"prompt": prompt})
            assert status == 400 and "prompt must be text" in body["message"], (prompt, body)


async def test_foreign_host_names_and_cross_site_posts_are_refused(serve: Serve) -> None:
    base, _ = await serve()
    async with visitor() as session:
        async with session.get(f"{base}/", headers={"Host": "evil.example"}) as response:
            assert response.status == 421
        async with session.get(f"{base}/api/quota", headers={"Host": "evil.example:8080"}) as response:
            assert response.status == 421
        for headers in (
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
        ):
            status, body = await post(session, f"{base}/api/requests", {"prompt": "x"}, headers=headers)
            assert status == 403 and "Cross-site" in body["message"]
        host = base.removeprefix("http://")
        status, _ = await post(session, f"{base}/api/requests", {"prompt": "x"}, headers={"Origin": base})
        assert status == 202
        async with session.get(
            f"{base}/api/quota", headers={"Host": host.replace("127.0.0.1", "localhost")}
        ) as r:
            assert r.status == 200


async def test_configured_host_names_replace_the_loopback_defaults(serve: Serve) -> None:
    base, _ = await serve(web={"allowed_hosts": ["bot.example.org"]})
    async with visitor() as session:
        async with session.get(f"{base}/api/quota", headers={"Host": "bot.example.org"}) as response:
            assert response.status == 200
        async with session.get(f"{base}/api/quota") as response:  # Host: 127.0.0.1:port
            assert response.status == 421


async def test_every_response_carries_the_security_headers_and_the_page_nothing_inline(serve: Serve) -> None:
    base, _ = await serve()
    async with visitor() as session:
        for path, status in (("/", 200), ("/api/quota", 200), ("/nowhere", 404), ("/static/page.js", 200)):
            async with session.get(base + path) as response:
                assert response.status == status
                for name, value in SECURITY_HEADERS.items():
                    assert response.headers[name] == value, (path, name)
                if path == "/":
                    html = await response.text()
                if path == "/static/page.js":
                    assert response.content_type == "application/javascript"
    assert SECURITY_HEADERS["Content-Security-Policy"] == (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handler (onclick=, onload= …)


async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_visitor(serve: Serve) -> None:
    base, _ = await serve(web={"trusted_proxies": ["127.0.0.1/32"]}, quotas={"images_per_window": 1})

    async def remaining(forwarded: str) -> int:
        headers = {"X-Forwarded-For": forwarded}
        async with visitor() as session, session.get(f"{base}/api/quota", headers=headers) as response:
            return int((await response.json())["remaining"])

    async with visitor() as session:
        headers = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}  # the client wrote the first
        assert (await post(session, f"{base}/api/requests", {"prompt": "x"}, headers=headers))[0] == 202
    assert await remaining("198.51.100.7") == 0
    assert await remaining("1.2.3.4, 198.51.100.7") == 0  # a spoofed left part changes nothing
    assert await remaining("198.51.100.8") == 1


async def test_without_trusted_proxies_a_forwarded_header_is_ignored(serve: Serve) -> None:
    base, _ = await serve(quotas={"images_per_window": 1})
    async with visitor("127.0.0.6") as session:
        assert (await post(session, f"{base}/api/requests", {"prompt": "x"}))[0] == 202
        headers = {"X-Forwarded-For": "198.51.100.99"}
        status, body = await post(session, f"{base}/api/requests", {"prompt": "y"}, headers=headers)
    assert (status, body["reason"]) == (429, "quota_exceeded")


async def _cookie_header(base: str, source: str, headers: dict[str, str]) -> str:
    page = f"{base}/"
    async with visitor(source, cookies=False) as session, session.get(page, headers=headers) as response:
        [cookie] = response.headers.getall("Set-Cookie")
        return cookie


async def test_the_cookie_is_secure_when_a_trusted_proxy_says_https(serve: Serve) -> None:
    base, _ = await serve(web={"trusted_proxies": ["127.0.0.1/32"]})
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    assert "Secure" in await _cookie_header(base, "127.0.0.1", https)
    assert "Secure" not in await _cookie_header(base, "127.0.0.1", {})  # plain http: it would never come back
    assert "Secure" not in await _cookie_header(base, "127.0.0.9", https)  # not a proxy: a client's claim
    for flag in ("HttpOnly", "SameSite=Strict"):
        assert flag in await _cookie_header(base, "127.0.0.1", https)


def test_the_page_script_needs_no_unsafe_eval_or_inline_style() -> None:
    """What the policy above forbids: eval, markup from strings, inline style."""
    from importlib import resources

    script = resources.files("bot.adapters.web").joinpath("page.js").read_text(encoding="utf-8")
    for forbidden in ("eval(", "new Function", "innerHTML", 'setAttribute("style', ".style."):
        assert forbidden not in script
