"""Who is asking: the client's address (behind trusted proxies), its cookie, and request tokens.

Quotas, the in-flight share of the queue and the submit rate limit are keyed on the client's
address, which a client cannot reset the way it can drop a cookie (an IPv6 client owns a whole
/64, so the key is that network). The cookie only refines: it owns requests (their details are
shown to it alone) and scopes the client's idempotency ids.

A request's id over HTTP is a token, not the row id: 16 hex digits naming the cookie's owner and
16 derived from the cookie's secret and the client's id, so it can neither be guessed nor made to
collide with another browser's request, and a retry with the same client id finds the same row.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

TOKEN = re.compile(r"[0-9a-f]{32}")
_MAX_FORWARDED_HOPS = 16  # a longer X-Forwarded-For is a client's invention past this point


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """`web.trusted_proxies` as networks (validated by the settings already)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(text: str | None) -> Address | None:
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(peer: str | None, trusted: Sequence[Network]) -> bool:
    """The direct peer is one of `web.trusted_proxies` (so its forwarded headers may be believed)."""
    address = _address(peer)
    return address is not None and any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> Address | None:
    """The client's address: the peer, or, while the hop is a trusted proxy, the address it forwarded.

    X-Forwarded-For is read from the right (each proxy appends its peer); the first address not
    belonging to a trusted proxy is the client. Entries left of it are the client's own words.
    """
    address = _address(peer)
    hops = [hop for header in forwarded_for for hop in header.split(",")][-_MAX_FORWARDED_HOPS:]
    for hop in reversed(hops):
        if address is None or not any(address in network for network in trusted):
            break
        forwarded = _address(hop)
        if forwarded is None:
            break  # garbage from the client: the last proxy's peer is as far as we can believe
        address = forwarded
    return address


def address_key(address: Address | None) -> str:
    """What quotas count per: the IPv4 address, or the IPv6 /64 (one subscriber's prefix)."""
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def user_id(key: str) -> str:
    """The stored user id for an address key (a hash: the database holds no address)."""
    return "web-" + hashlib.sha256(f"address\0{key}".encode()).hexdigest()[:16]


def owner_tag(cookie: str) -> str:
    return hashlib.sha256(f"owner\0{cookie}".encode()).hexdigest()[:16]


def request_token(cookie: str, client_id: str) -> str:
    """The request's external id and HTTP id: the cookie's owner tag, then a secret-derived part."""
    secret_part = hashlib.sha256(f"request\0{cookie}\0{client_id}".encode()).hexdigest()[:16]
    return owner_tag(cookie) + secret_part


def owns(cookie: str, token: str) -> bool:
    """Whether the browser holding `cookie` sent the request named `token`."""
    return TOKEN.fullmatch(token) is not None and hmac.compare_digest(token[:16], owner_tag(cookie))
