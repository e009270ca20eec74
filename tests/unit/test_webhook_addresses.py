"""Which addresses flow webhooks may reach: the classification, the allow-list, and the signature."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest

from gateway.errors import GatewayError
from gateway.flows.webhooks import DestinationNotAllowed, WebhookPolicy, non_public, signature


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("169.254.0.1", "link-local"),
        ("100.64.0.1", "shared address space (CGNAT)"),
        ("100.127.255.254", "shared address space (CGNAT)"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "reserved"),
        ("198.18.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("fec0::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved"),
        ("100::1", "reserved"),
        ("::ffff:127.0.0.1", "loopback (IPv4-mapped 127.0.0.1)"),
        ("::ffff:169.254.169.254", "link-local (IPv4-mapped 169.254.169.254)"),
        ("::ffff:10.1.2.3", "private (IPv4-mapped 10.1.2.3)"),
        ("::127.0.0.1", "loopback (IPv4-compatible 127.0.0.1)"),
        ("::10.0.0.1", "private (IPv4-compatible 10.0.0.1)"),
        ("64:ff9b::7f00:1", "loopback (NAT64 127.0.0.1)"),
        ("2002:a9fe:a9fe::1", "link-local (6to4 169.254.169.254)"),
    ],
)
def test_non_public_addresses(address: str, why: str) -> None:
    assert non_public(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "172.32.0.1",
        "100.128.0.1",
        "169.255.0.1",
        "11.0.0.1",
        "2606:4700:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ],
)
def test_public_addresses(address: str) -> None:
    assert non_public(ipaddress.ip_address(address)) is None


def test_default_policy_refuses_with_a_reason() -> None:
    policy = WebhookPolicy.from_allow(())
    assert policy.refusal("127.0.0.1") == "127.0.0.1 is loopback"
    assert policy.refusal("::ffff:127.0.0.1") == "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)"
    assert policy.refusal("fe80::1%eth0") == "fe80::1%eth0 is link-local"
    assert policy.refusal("8.8.8.8") is None
    assert policy.refusal("localhost") == "localhost is not an IP address"
    with pytest.raises(DestinationNotAllowed) as info:
        policy.check("169.254.169.254")
    assert isinstance(info.value, GatewayError) and isinstance(info.value, OSError)
    assert (info.value.code, info.value.message) == (
        "destination_not_allowed",
        "destination not allowed: 169.254.169.254 is link-local",
    )


def test_allow_list_of_networks_and_names() -> None:
    policy = WebhookPolicy.from_allow(("127.0.0.1", "10.1.0.0/16", "CRM.Internal", "[::1]", "fd00::/8"))
    assert policy.hosts == frozenset({"crm.internal"})
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("::ffff:127.0.0.1") is None  # the same address in its IPv6 form
    assert policy.refusal("127.0.0.2") == "127.0.0.2 is loopback"
    assert policy.refusal("10.1.200.3") is None
    assert policy.refusal("10.2.0.1") == "10.2.0.1 is private"
    assert policy.refusal("::1") is None
    assert policy.refusal("fd00::5") is None
    assert policy.refusal("fe80::1") == "fe80::1 is link-local"
    # a listed host name may resolve to anything; another name to a private address may not
    assert policy.refusal("10.9.9.9", "crm.internal") is None
    assert policy.refusal("10.9.9.9", "crm.internal.") is None
    assert policy.refusal("10.9.9.9", "other.internal") == "10.9.9.9 is private"
    # an IPv4 network never matches an IPv6 address by its low bits, nor the reverse
    v6_only = WebhookPolicy.from_allow(("::/96",))
    assert v6_only.refusal("0.0.0.1") == "0.0.0.1 is unspecified"


def test_signature_is_the_documented_hmac() -> None:
    secret, body = "s3cret-s3cret-s3cret", b'{"a":1}'
    expected = hmac.new(
        secret.encode(), b'1700000000.POST.https://crm.example.com/x?a=1.{"a":1}', hashlib.sha256
    ).hexdigest()
    assert signature(secret, 1700000000, "post", "https://crm.example.com/x?a=1", body) == f"t=1700000000,v1={expected}"
