"""Who a visitor is: addresses behind proxies, IPv6 prefixes, tokens, and the submit rate limit."""

from __future__ import annotations

import pytest

from bot.adapters.web import identity
from bot.adapters.web.guard import RateLimiter, allowed_hosts, host_name

PROXIES = identity.parse_networks(["10.0.0.0/8", "192.0.2.1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.7", [], "198.51.100.7"),
        ("198.51.100.7", ["1.2.3.4"], "198.51.100.7"),  # not a proxy: its header is its own words
        ("10.1.1.1", ["1.2.3.4, 198.51.100.7"], "198.51.100.7"),
        ("10.1.1.1", ["198.51.100.7, 10.2.2.2"], "198.51.100.7"),  # two proxies deep
        ("10.1.1.1", ["1.2.3.4", "198.51.100.7"], "198.51.100.7"),  # the header given twice
        ("10.1.1.1", ["garbage, 10.2.2.2"], "10.2.2.2"),  # believable only up to the garbage
        ("10.1.1.1", ["[2001:db8::1]:443"], "2001:db8::/64"),
        ("::ffff:198.51.100.7", [], "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", [], "2001:db8:1:2::/64"),  # one subscriber: the whole /64
        (None, [], "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: list[str], expected: str) -> None:
    assert identity.address_key(identity.client_address(peer, forwarded, PROXIES)) == expected


def test_tokens_are_scoped_to_the_cookie_and_name_their_owner() -> None:
    mine, theirs = "a" * 32, "b" * 32
    token = identity.request_token(mine, "id-1")
    assert identity.TOKEN.fullmatch(token)
    assert token == identity.request_token(mine, "id-1") != identity.request_token(theirs, "id-1")
    assert identity.owns(mine, token) and not identity.owns(theirs, token)
    assert not identity.owns(mine, "1") and not identity.owns(mine, token.upper())
    assert identity.user_id("198.51.100.7") != identity.user_id("198.51.100.8")
    assert "198.51" not in identity.user_id("198.51.100.7")


def test_rate_limiter_refills_at_its_rate_and_forgets_idle_keys() -> None:
    now = [0.0]
    limiter = RateLimiter(6, clock=lambda: now[0], max_keys=2)  # one token every 10 s
    assert [limiter.take("a") for _ in range(6)] == [None] * 6
    assert limiter.take("a") == pytest.approx(10.0)
    now[0] = 5.0
    assert limiter.take("a") == pytest.approx(5.0)
    now[0] = 15.0
    assert limiter.take("a") is None and limiter.take("a") is not None
    assert limiter.take("b") is None
    now[0] = 100.0  # "b" has refilled; "a" too: a third key fits without growing past two
    assert limiter.take("c") is None
    assert len(limiter._buckets) <= 2


def test_host_names() -> None:
    assert host_name("Example.org:8080") == "example.org"
    assert host_name("[::1]:8080") == "::1"
    assert allowed_hosts([], "0.0.0.0") == {"localhost", "127.0.0.1", "::1"}
    assert allowed_hosts([], "192.168.1.5") == {"localhost", "127.0.0.1", "::1", "192.168.1.5"}
    assert allowed_hosts(["Bot.Example.org "], "0.0.0.0") == {"bot.example.org"}
