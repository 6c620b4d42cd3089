"""Who may read /metrics: an address on the allow-list, or a token of kind ``metrics``.

Never a token or a session that can read customers: a monitoring server is often run by someone
else, and its configuration ends up in more places than a manager's password.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BadAllowList(ValueError):
    """``CALLERID_METRICS_ALLOW`` holds something that is not an address or a network."""


def parse_allow_list(text: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` as networks (a bare address is a network of one). Raises
    ``BadAllowList`` naming the entry it cannot read."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise BadAllowList(
                f"CALLERID_METRICS_ALLOW: {entry!r} is not an address or network"
            ) from error
    return tuple(networks)


def is_allowed(address: str | None, networks: Sequence[Network]) -> bool:
    """Whether the client ``address`` (as the app sees it, after ProxyFix) is on the list."""
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; the list names them as IPv4.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)
