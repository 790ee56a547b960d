"""One table of address spellings and what the guard must decide for each.

Every consumer of `common.netguard` (the fetch server, the browser's proxy, the gateway's image
fetches) is tested against this table, so the guards cannot drift apart again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AddressForm:
    host: str  # as it appears in a URL's authority
    refused: bool
    reason: str  # the words the refusal must contain ("" for public addresses)
    form: str  # what the row exercises, for the test id


ADDRESS_FORMS = [
    # IPv4
    AddressForm("127.0.0.1", True, "loopback", "IPv4 loopback"),
    AddressForm("127.255.255.254", True, "loopback", "IPv4 loopback, end of /8"),
    AddressForm("10.0.0.1", True, "private", "RFC 1918 10/8"),
    AddressForm("172.16.0.1", True, "private", "RFC 1918 172.16/12"),
    AddressForm("192.168.1.1", True, "private", "RFC 1918 192.168/16"),
    AddressForm("169.254.169.254", True, "link-local", "IPv4 link-local (cloud metadata)"),
    AddressForm("100.64.0.1", True, "not globally routable", "CGNAT 100.64/10"),
    AddressForm("100.127.255.254", True, "not globally routable", "CGNAT, end of range"),
    AddressForm("224.0.0.1", True, "multicast", "IPv4 multicast"),
    AddressForm("239.255.255.250", True, "multicast", "IPv4 multicast (SSDP)"),
    AddressForm("255.255.255.255", True, "broadcast", "IPv4 broadcast"),
    AddressForm("240.0.0.1", True, "private", "IPv4 class E"),
    AddressForm("0.0.0.0", True, "unspecified", "IPv4 unspecified"),
    AddressForm("198.18.0.1", True, "private", "benchmarking 198.18/15"),
    AddressForm("192.0.2.1", True, "private", "TEST-NET-1"),
    AddressForm("8.8.8.8", False, "", "IPv4 public"),
    AddressForm("93.184.216.34", False, "", "IPv4 public"),
    # legacy IPv4 literals that resolvers and browsers accept
    AddressForm("2130706433", True, "127.0.0.1", "decimal IPv4"),
    AddressForm("0177.0.0.1", True, "127.0.0.1", "octal IPv4"),
    AddressForm("0x7f.1", True, "127.0.0.1", "hex IPv4, short form"),
    AddressForm("0x7f000001", True, "127.0.0.1", "hex IPv4, one number"),
    AddressForm("0x0a000001", True, "private", "hex IPv4 of 10.0.0.1"),
    AddressForm("012.0.0.1", True, "private", "octal first octet, 10.0.0.1"),
    AddressForm("127.1", True, "loopback", "short IPv4"),
    AddressForm("0", True, "unspecified", "single zero"),
    AddressForm("134744072", False, "", "decimal IPv4 of 8.8.8.8"),
    AddressForm("0x08.0x08.0x08.0x08", False, "", "hex IPv4 of 8.8.8.8"),
    # IPv6
    AddressForm("[::1]", True, "loopback", "IPv6 loopback"),
    AddressForm("[::]", True, "unspecified", "IPv6 unspecified"),
    AddressForm("[fe80::1]", True, "link-local", "IPv6 link-local"),
    AddressForm("[fe80::1%25eth0]", True, "link-local", "IPv6 link-local with zone"),
    AddressForm("[fec0::1]", True, "site-local", "IPv6 site-local (deprecated)"),
    AddressForm("[fc00::1]", True, "private", "IPv6 unique local"),
    AddressForm("[fd12:3456::1]", True, "private", "IPv6 unique local fd00/8"),
    AddressForm("[ff02::1]", True, "multicast", "IPv6 multicast"),
    AddressForm("[2001:db8::1]", True, "private", "IPv6 documentation"),
    AddressForm("[2606:4700:4700::1111]", False, "", "IPv6 public"),
    # IPv4 inside IPv6
    AddressForm("[::ffff:127.0.0.1]", True, "127.0.0.1", "IPv4-mapped, dotted"),
    AddressForm("[::ffff:7f00:1]", True, "127.0.0.1", "IPv4-mapped, hex"),
    AddressForm("[0:0:0:0:0:ffff:127.0.0.1]", True, "127.0.0.1", "IPv4-mapped, long"),
    AddressForm("[::ffff:169.254.169.254]", True, "link-local", "IPv4-mapped metadata"),
    AddressForm("[::127.0.0.1]", True, "reserved", "IPv4-compatible (deprecated)"),
    AddressForm("[64:ff9b::7f00:1]", True, "127.0.0.1", "NAT64 well-known 64:ff9b::/96"),
    AddressForm("[64:ff9b::a9fe:a9fe]", True, "169.254.169.254", "NAT64 well-known, metadata"),
    AddressForm("[64:ff9b:1::7f00:1]", True, "127.0.0.1", "NAT64 local-use 64:ff9b:1::/48"),
    AddressForm("[64:ff9b:1::a00:1]", True, "10.0.0.1", "NAT64 local-use, private"),
    AddressForm("[2002:7f00:1::]", True, "127.0.0.1", "6to4 of loopback"),
    AddressForm("[2002:a9fe:a9fe::]", True, "169.254.169.254", "6to4 of metadata"),
    AddressForm("[2001:0:4136:e378:8000:63bf:80ff:fffe]", True, "127.0.0.1", "Teredo of loopback"),
    AddressForm("[2001:0:4136:e378:8000:63bf:f5ff:fffe]", True, "10.0.0.1", "Teredo of 10.0.0.1"),
]

REFUSED_HOSTS = [row for row in ADDRESS_FORMS if row.refused]


def form_id(row: AddressForm) -> str:
    return f"{row.form}: {row.host}"
