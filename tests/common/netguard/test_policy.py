"""Address rules: every spelling of a refused address is refused; allow_hosts opens it.

The table of address forms is shared with the fetch, browser-proxy and gateway image tests."""

from __future__ import annotations

import ipaddress

import pytest

from common.netguard import (
    AddressPolicy,
    BlockedAddressError,
    Guard,
    UnsupportedURLError,
    blocked_reason,
    parse_ip_literal,
)
from tests.common.netguard.address_forms import ADDRESS_FORMS, AddressForm, form_id

# Host names, not address spellings: the address table is in address_forms.py.
REFUSED_NAMES = [
    "http://127.0.0.1:8080/admin",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST/",
    "http://api.localhost/",
    "https://user:pass@127.0.0.1/",
]


@pytest.mark.anyio
@pytest.mark.parametrize("row", ADDRESS_FORMS, ids=form_id)
async def test_address_forms(row: AddressForm) -> None:
    guard = Guard(AddressPolicy())
    url = f"http://{row.host}/"
    if row.refused:
        with pytest.raises(BlockedAddressError, match="refused") as caught:
            await guard.check_url(url)
        assert row.reason in str(caught.value)
    else:
        target = await guard.check_url(url)
        assert blocked_reason(target.ip) is None
        assert target.ip == parse_ip_literal(url.split("/")[2])


@pytest.mark.anyio
@pytest.mark.parametrize("url", REFUSED_NAMES)
async def test_local_names_refused_by_default(url: str) -> None:
    with pytest.raises(BlockedAddressError, match="refused"):
        await Guard(AddressPolicy()).check_url(url)


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
