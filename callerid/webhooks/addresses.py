"""Where a webhook may go: public addresses only, unless CALLERID_WEBHOOK_ALLOW_NETS opens a
network (a POS on the shop's own network). Checked on the address each delivery connects to,
not on the name in the URL: DNS can answer differently between a check and a connection.

Refused: loopback, link-local (169.254.0.0/16, fe80::/10), unique-local (fc00::/7), CGNAT
(100.64.0.0/10), private networks, and anything else that is not globally routable, with
IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) judged as the IPv4 address they carry."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from .. import networks
from ..networks import Network

BadAllowNets = networks.BadNetworks


class AddressRefused(ValueError):
    """A URL or an address a webhook may not go to; the message says why."""


def parse_allow_nets(text: str) -> tuple[Network, ...]:
    """``"192.168.1.0/24, 10.8.0.5"`` as networks. Raises ``BadAllowNets`` naming the entry."""
    return networks.parse(text, "CALLERID_WEBHOOK_ALLOW_NETS")


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an endpoint URL, or ``AddressRefused``: http(s) only, with a host, no
    user name or password in it (they would be sent to whoever answers)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AddressRefused(f"{url!r} is not a URL") from error
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("the URL must start with https:// (or http:// on an allowed network)")
    if not parts.hostname:
        raise AddressRefused("the URL has no host")
    if parts.username or parts.password:
        raise AddressRefused("the URL may not carry a user name or password")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_address(address: str, scheme: str, allowed: Sequence[Network]) -> None:
    """Raise ``AddressRefused`` unless a delivery may connect to ``address`` over ``scheme``."""
    ip = networks.plain(address)
    if networks.contains(allowed, ip):
        return
    if not ip.is_global or ip.is_multicast:
        raise AddressRefused(
            f"{ip} is a private, loopback, link-local or reserved address; "
            "open its network with CALLERID_WEBHOOK_ALLOW_NETS"
        )
    if scheme != "https":
        raise AddressRefused("plain http:// goes only to networks in CALLERID_WEBHOOK_ALLOW_NETS")


def reachable(scheme: str, host: str, port: int, allowed: Sequence[Network]) -> list[str]:
    """The addresses ``host`` has now, each one checked: ``AddressRefused`` when it cannot be
    resolved or any address may not be reached (a name that also points inside is refused
    whole)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise AddressRefused(f"{host} cannot be resolved: {error.strerror or error}") from error
    except UnicodeError as error:
        # Raised before any query by the IDNA codec: an empty or over-long label ("a..b"), a
        # character no host name holds. Not an OSError, so it was a 500.
        raise AddressRefused(f"{host!r} is not a host name") from error
    found = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in found:
        check_address(address, scheme, allowed)
    return found


def check_endpoint(url: str, allowed: Sequence[Network]) -> None:
    """What a manager is told when registering ``url``: ``AddressRefused`` for a URL that is not
    http(s), or whose host has no address a delivery could go to now."""
    reachable(*check_url(url), allowed)
