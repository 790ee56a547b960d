"""Address rules: every spelling of a refused address is refused; allow_hosts opens it."""

from __future__ import annotations

import ipaddress

import pytest

from mcp_servers._netguard import (
    AddressPolicy,
    BlockedAddressError,
    Guard,
    UnsupportedURLError,
    blocked_reason,
    parse_ip_literal,
)

REFUSED_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/admin",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[::]/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://0/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://198.18.0.1/",
    "https://user:pass@127.0.0.1/",
]


@pytest.mark.anyio
@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_refused_by_default(url: str) -> None:
    guard = Guard(AddressPolicy())
    with pytest.raises(BlockedAddressError, match="refused"):
        await guard.check_url(url)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/",
        "gopher://127.0.0.1/",
        "http:///x",
        "javascript:alert(1)",
    ],
)
async def test_non_http_urls_refused(url: str) -> None:
    with pytest.raises(UnsupportedURLError):
        await Guard(AddressPolicy()).check_url(url)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/", "https://[2606:4700::1]/", "http://1.1.1.1:8080/x"]
)
async def test_public_addresses_pass(url: str) -> None:
    target = await Guard(AddressPolicy()).check_url(url)
    assert blocked_reason(target.ip) is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("allow", "url"),
    [
        (["127.0.0.1"], "http://127.0.0.1:9000/"),
        (["127.0.0.0/8"], "http://0x7f.1/"),
        (["localhost"], "http://localhost/"),
        (["*.internal"], "http://minio.internal/"),
        (["::1"], "http://[::1]/"),
    ],
)
async def test_allow_hosts_opens_exactly_what_it_names(allow: list[str], url: str) -> None:
    class FixedResolver:
        async def resolve(self, host: str, port: int) -> list[ipaddress.IPv4Address]:
            return (
                [ipaddress.IPv4Address("10.1.2.3")]
                if host.endswith(".internal")
                else [ipaddress.IPv4Address("127.0.0.1")]
            )

    guard = Guard(AddressPolicy.from_allow_hosts(allow), FixedResolver())
    await guard.check_url(url)
    with pytest.raises(BlockedAddressError):
        await guard.check_url("http://192.168.0.1/")


@pytest.mark.anyio
async def test_name_with_any_refused_answer_is_refused() -> None:
    class MixedResolver:
        """A rebinding-style answer: one public address and one loopback."""

        async def resolve(self, host: str, port: int) -> list[ipaddress.IPv4Address]:
            return [ipaddress.IPv4Address("93.184.216.34"), ipaddress.IPv4Address("127.0.0.1")]

    with pytest.raises(BlockedAddressError, match=r"rebind\.test resolves to 127\.0\.0\.1"):
        await Guard(AddressPolicy(), MixedResolver()).check_url("http://rebind.test/")


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("[::1]", "::1"),
    ],
)
def test_ip_spellings_parse(spelling: str, address: str) -> None:
    assert parse_ip_literal(spelling) == ipaddress.ip_address(address)


@pytest.mark.parametrize("name", ["example.com", "deadbeef", "1.2.3.4 foo", "0x7f.1.evil.com"])
def test_names_are_not_ip_literals(name: str) -> None:
    assert parse_ip_literal(name) is None


def test_bad_cidr_in_allow_hosts_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"allow_hosts: '10\.0\.0\.0/99'"):
        AddressPolicy.from_allow_hosts(["10.0.0.0/99"])
