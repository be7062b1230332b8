"""Callback URLs: which a job may name, and which addresses a completion callback may reach.

The stream function POSTs a job's completion to its ``callback_url`` from inside the
account's network, so the URL must not be a way to reach what only that network can:
the instance metadata address, a VPC's private hosts, localhost. Two checks:

* its form, when the job is created (:func:`check`): an absolute http(s) URL with a host,
  no credentials, at most ``MAX_LENGTH`` characters. A bad one is a 400 then, naming
  ``callback_url``, rather than a callback silently skipped when the job ends;
* its addresses, at each delivery (:func:`public_addresses`): every address the host
  resolves to must be a public one, and the POST connects to one of those very addresses
  (:mod:`.notify.callback`), so a DNS answer that changes between the check and the
  connection cannot redirect it. Redirects are not followed.

A deployment whose receivers are private on purpose (a VPC-internal service, the local
stack's tests) sets ``PIPELINEJOBS_CALLBACKS_TO_PRIVATE_ADDRESSES=1``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import SplitResult, urlsplit

from .errors import InvalidEvent

MAX_LENGTH = 2048
ALLOW_PRIVATE_ENV = "PIPELINEJOBS_CALLBACKS_TO_PRIVATE_ADDRESSES"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ForbiddenAddress(Exception):
    """The callback's host is not one a completion callback may reach."""


def check(url: str) -> SplitResult:
    """The URL's parts, if it may be a job's callback URL; else InvalidEvent naming ``callback_url``."""
    problem = None
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None:
        problem = "must be a string"
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


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, if every one may be called; else ForbiddenAddress."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from None  # a network failure: retried
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if os.environ.get(ALLOW_PRIVATE_ENV) != "1":
        private = [a for a in addresses if not _public(ipaddress.ip_address(a.split("%")[0]))]
        if private:
            raise ForbiddenAddress(f"{host} resolves to {', '.join(private)}, not a public address "
                                   f"(set {ALLOW_PRIVATE_ENV}=1 to allow)")
    return addresses
