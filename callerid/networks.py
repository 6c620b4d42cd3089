"""Networks named in settings (CALLERID_METRICS_ALLOW, CALLERID_WEBHOOK_ALLOW_NETS): read once,
and an address judged against them as the IPv4 address it may carry."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BadNetworks(ValueError):
    """A setting holds something that is not an address or a network; the message names it."""


def parse(text: str, setting: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` as networks (a bare address is a network of one). Raises
    ``BadNetworks`` naming ``setting`` and the entry it cannot read."""
    found = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise BadNetworks(f"{setting}: {entry!r} is not an address or network") from error
    return tuple(found)


def plain(address: str) -> Address:
    """The address, with an IPv4-mapped IPv6 one (``::ffff:10.0.0.1``, as a dual-stack socket
    reports IPv4 peers) turned into the IPv4 address it carries. Raises ``ValueError``."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def contains(networks: Sequence[Network], address: str | Address) -> bool:
    ip = plain(address) if isinstance(address, str) else address
    return any(ip in network for network in networks)
