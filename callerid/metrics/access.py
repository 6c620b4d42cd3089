"""Who may read /metrics: an address on the allow-list, or a token of kind ``metrics``.

Never a token or a session that can read customers: a monitoring server is often run by someone
else, and its configuration ends up in more places than a manager's password.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import networks

Network = networks.Network
BadAllowList = networks.BadNetworks


def parse_allow_list(text: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` as networks (a bare address is a network of one). Raises
    ``BadAllowList`` naming the entry it cannot read."""
    return networks.parse(text, "CALLERID_METRICS_ALLOW")


def is_allowed(address: str | None, allowed: Sequence[Network]) -> bool:
    """Whether the client ``address`` (as the app sees it, after ProxyFix) is on the list."""
    if not address or not allowed:
        return False
    try:
        return networks.contains(allowed, address)
    except ValueError:
        return False
