"""Where a webhook may go: public addresses, or networks CALLERID_WEBHOOK_ALLOW_NETS opens."""

from __future__ import annotations

import pytest

from callerid.webhooks import addresses, sender

PRIVATE = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.5.4",
    "192.168.1.20",
    "169.254.169.254",
    "100.64.0.7",
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fd12:3456::1",
    "::ffff:10.0.0.1",
    "::ffff:127.0.0.1",
    "224.0.0.1",
]


@pytest.mark.parametrize("address", PRIVATE)
def test_private_loopback_link_local_and_cgnat_addresses_are_refused(address):
    with pytest.raises(addresses.AddressRefused, match="CALLERID_WEBHOOK_ALLOW_NETS"):
        addresses.check_address(address, "https", ())


def test_a_public_address_takes_https_but_not_plain_http():
    addresses.check_address("93.184.216.34", "https", ())
    with pytest.raises(addresses.AddressRefused, match="plain http"):
        addresses.check_address("93.184.216.34", "http", ())


def test_an_allowed_network_opens_private_addresses_and_plain_http():
    allowed = addresses.parse_allow_nets("192.168.1.0/24, 10.8.0.5")
    addresses.check_address("192.168.1.20", "http", allowed)
    addresses.check_address("::ffff:192.168.1.20", "http", allowed)
    addresses.check_address("10.8.0.5", "https", allowed)
    with pytest.raises(addresses.AddressRefused):
        addresses.check_address("192.168.2.20", "http", allowed)


def test_an_allow_list_entry_that_is_no_network_is_named():
    with pytest.raises(addresses.BadAllowNets, match="'shop-pos'"):
        addresses.parse_allow_nets("192.168.1.0/24, shop-pos")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/hook", "https://"),
        ("https:///hook", "no host"),
        ("https://user:secret@example.com/hook", "user name or password"),
        ("https://example.com:99999/", "not a URL"),
    ],
)
def test_an_endpoint_url_must_be_http_with_a_host_and_no_credentials(url, reason):
    with pytest.raises(addresses.AddressRefused, match=reason):
        addresses.check_url(url)


def test_a_delivery_is_refused_on_the_address_it_would_connect_to():
    """``localhost`` passes no URL check by its name; its address does not pass either."""
    answer = sender.post("http://localhost:9/hook", b"{}", {}, ())
    assert answer.status is None and answer.excerpt.startswith("refused:")
    assert "127.0.0.1" in answer.excerpt or "::1" in answer.excerpt
