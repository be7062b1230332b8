"""Callback URLs: which a job may name, and which addresses a completion callback may reach.

The stream function POSTs a job's completion to its ``callback_url`` from inside the
account's network, so the URL must not be a way to reach what only that network can:
the instance metadata address, a VPC's private hosts, localhost. Two checks:

* its form, when the job is created (:func:`check`): a well-formed, absolute http(s) URL with
  a host, no credentials, at most ``MAX_LENGTH`` characters. A bad one is a 400 then, naming
  ``callback_url``, rather than a callback silently skipped when the job ends;
* its addresses, at each delivery (:func:`public_addresses`): every address the host
  resolves to must be a public one, and the POST connects to one of those very addresses
  (:mod:`.notify.completion`), so a DNS answer that changes between the check and the
  connection cannot redirect it. Redirects are not followed. An IPv6 address that carries an
  IPv4 one to a translator or tunnel (IPv4-mapped or -compatible, NAT64, 6to4, Teredo) is
  judged by the IPv4 address it reaches: ``64:ff9b::a9fe:a9fe`` is the metadata address.

A deployment whose receivers are private on purpose (a VPC-internal service, the local
stack's tests) sets ``PIPELINEJOBS_CALLBACKS_TO_PRIVATE_ADDRESSES=1``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from .config import ALLOW_PRIVATE_ENV, Config
from .errors import InvalidEvent

MAX_LENGTH = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ForbiddenAddress(Exception):
    """The callback's host is not one a completion callback may reach."""


def _split(url: str) -> SplitResult | None:
    """``url`` in parts; None when it cannot even be split (an unclosed ``[`` or a bracketed host that is
    not an IP address: ``urlsplit`` raises ValueError for those)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def check(url: str) -> SplitResult:
    """The URL's parts, if it may be a job's callback URL; else InvalidEvent naming ``callback_url``."""
    problem = None
    parts = _split(url) if isinstance(url, str) else None
    if not isinstance(url, str):
        problem = "must be a string"
    elif parts is None:
        problem = "is not a well-formed URL (a host in [brackets] must be a complete IPv6 address)"
    elif len(url) > MAX_LENGTH:
        problem = f"is {len(url)} characters; the limit is {MAX_LENGTH}"
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "must be an absolute http:// or https:// URL"
    elif parts.username is not None or parts.password is not None:
        problem = "must not hold a user name or password (put a secret in the query or path instead)"
    else:
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError:
            problem = "has a port that is not a number from 0 to 65535"
    if problem:
        raise InvalidEvent.single("callback_url", problem)
    return parts


#: NAT64's well-known prefix (RFC 6052): the IPv4 address is the last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: NAT64's local-use prefix (RFC 8215): an operator may use any prefix length within it that RFC 6052
#: allows, and each places the IPv4 address differently, so every such reading is judged.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_NAT64_LOCAL_LENGTHS = (48, 56, 64, 96)
#: IPv4-compatible addresses (deprecated, RFC 4291): ``::a.b.c.d``.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _rfc6052(address: ipaddress.IPv6Address, prefix_length: int) -> ipaddress.IPv4Address:
    """The IPv4 address embedded after a ``prefix_length``-bit NAT64 prefix: RFC 6052 skips bits 64-71."""
    bits = int(address)
    without_u = (bits >> 64) << 56 | (bits & (1 << 56) - 1)  # 120 bits: the u octet taken out
    start = prefix_length if prefix_length <= 64 else prefix_length - 8
    return ipaddress.IPv4Address(without_u >> (120 - start - 32) & 0xFFFFFFFF)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a translator or tunnel would deliver a packet for ``address`` to (none when it
    embeds none): IPv4-mapped and -compatible, NAT64 (both prefixes), 6to4, Teredo (server and client)."""
    if address.ipv4_mapped:
        return [address.ipv4_mapped]
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address in _NAT64_LOCAL:
        return [_rfc6052(address, length) for length in _NAT64_LOCAL_LENGTHS]
    if address.sixtofour:
        return [address.sixtofour]
    return list(address.teredo or ())


def _public(address: IPAddress) -> bool:
    """Whether a callback may reach ``address``: an address that embeds IPv4 addresses is judged by them
    (a NAT64 address of 10.0.0.1 reaches 10.0.0.1), every other by its own kind."""
    embedded = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
    if embedded:
        return all(map(_public, embedded))
    return address.is_global and not address.is_multicast


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, if every one may be called; else ForbiddenAddress."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from None  # a network failure: retried
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not Config.current().allow_private_callbacks:
        private = [a for a in addresses if not _public(ipaddress.ip_address(a.split("%")[0]))]
        if private:
            raise ForbiddenAddress(f"{host} resolves to {', '.join(private)}, not a public address "
                                   f"(set {ALLOW_PRIVATE_ENV}=1 to allow)")
    return addresses
