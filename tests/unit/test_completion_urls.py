"""Callback URLs: the form checked when a job is created, the addresses checked at each delivery, and the
POST connecting to the address that was checked."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from frontdoors import LoopbackServer
from hypothesis import given
from hypothesis import strategies as st

from pipelinejobs import PipelineJob, completion_urls
from pipelinejobs.errors import InvalidEvent
from pipelinejobs.notify import completion

CHANGE = {"uuid": "1b1a7d6e-5c43-5f0e-8a7b-3f2d9c4e6a10", "from": "RUNNING", "to": "FINISHED"}


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://example.org/x", "must be an absolute http:// or https:// URL"),
    ("file:///etc/passwd", "must be an absolute http:// or https:// URL"),
    ("/relative/path", "must be an absolute http:// or https:// URL"),
    ("https://", "must be an absolute http:// or https:// URL"),
    ("https://user:pw@example.org/", "must not hold a user name or password (put a secret in the query or path "
                                     "instead)"),
    ("https://example.org:99999/", "has a port that is not a number from 0 to 65535"),
    ("https://example.org/" + "a" * 2048, "is 2068 characters; the limit is 2048"),
    ("http://[::1/cb", "is not a well-formed URL (a host in [brackets] must be a complete IPv6 address)"),
    ("http://[example.org]/cb", "is not a well-formed URL (a host in [brackets] must be a complete IPv6 address)"),
])
def test_a_job_cannot_be_created_with_a_bad_callback_url(url, problem):
    with pytest.raises(InvalidEvent) as refused:  # refused before the table is touched: no AWS here at all
        PipelineJob("6a1f2b3c-4d5e-5f60-8a9b-0c1d2e3f4a5b", {}, callback_url=url).setup()
    assert refused.value.errors == [{"field": "callback_url", "problem": problem}]


def test_a_good_callback_url_passes_the_form_check():
    assert completion_urls.check("https://hooks.example.org:8443/done?key=abc").hostname == "hooks.example.org"


def _resolving_to(monkeypatch, *addresses: str) -> None:
    def getaddrinfo(host, port, *_, **__):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    monkeypatch.setattr(completion_urls.socket, "getaddrinfo", getaddrinfo)


#: IPv6 addresses that reach an IPv4 address through a translator or a tunnel, each embedding 10.0.0.1,
#: 127.0.0.1 or 169.254.169.254 (the instance metadata): NAT64's well-known prefix, its local-use prefix read
#: at /96 and at /48, 6to4, Teredo (client 10.0.0.1, obfuscated), IPv4-compatible.
EMBEDDING_PRIVATE = ["64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1",
                     "64:ff9b:1:a00:1::", "2002:a00:1::1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:f5ff:fffe",
                     "::a00:1"]


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1",
                                     "224.0.0.1", *EMBEDDING_PRIVATE])
def test_a_host_resolving_to_a_non_public_address_is_refused(monkeypatch, address):
    _resolving_to(monkeypatch, "93.184.215.14", address)  # one bad answer among good ones is enough to refuse
    with pytest.raises(completion_urls.ForbiddenAddress, match="not a public address"):
        completion_urls.public_addresses("hooks.example.org", 443)


def test_public_addresses_pass_and_the_deployment_may_allow_private_ones(monkeypatch):
    _resolving_to(monkeypatch, "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert completion_urls.public_addresses("hooks.example.org", 443) == [
        "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    _resolving_to(monkeypatch, "10.0.0.5")
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")
    assert completion_urls.public_addresses("internal.example", 80) == ["10.0.0.5"]


def test_an_address_embedding_a_public_ipv4_address_is_public(monkeypatch):
    _resolving_to(monkeypatch, "64:ff9b::5db8:d70e", "2002:5db8:d70e::1", "::ffff:93.184.215.14")
    assert len(completion_urls.public_addresses("hooks.example.org", 443)) == 3


def _embeddings(v4: ipaddress.IPv4Address) -> list[ipaddress.IPv6Address]:
    """``v4`` embedded as each translator or tunnel that completion_urls unwraps would carry it."""
    n = int(v4)
    return [ipaddress.IPv6Address(f"::ffff:{v4}"), ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | n),
            ipaddress.IPv6Address(int(ipaddress.IPv6Address("2002::")) | n << 80)]


@given(st.ip_addresses(v=4))
def test_an_embedded_ipv4_address_is_judged_as_itself(v4):
    public = v4.is_global and not v4.is_multicast
    for address in _embeddings(v4):
        assert completion_urls._public(address) == public, address


@given(st.ip_addresses(v=4).filter(lambda v4: not v4.is_global), st.sampled_from([48, 56, 64, 96]),
       st.integers(0, 2**16 - 1))
def test_a_local_use_nat64_address_is_refused_if_any_prefix_length_reads_a_private_ipv4_address(v4, length, noise):
    """The operator's prefix length inside 64:ff9b:1::/48 is unknown: every reading must be public."""
    n, base = int(v4), int(ipaddress.IPv6Address("64:ff9b:1::"))
    split = {48: 16, 56: 8, 64: 0, 96: 32}[length]  # bits of the IPv4 address before the u octet (bits 64-71)
    if length == 96:
        bits = base | (noise << 32) | n
    else:
        high, low = n >> (32 - split), n & ((1 << (32 - split)) - 1)
        bits = base | (high << 64) | (low << (56 - (32 - split)))
        bits |= noise & ((1 << (56 - (32 - split))) - 1)  # suffix bits: anything
    assert not completion_urls._public(ipaddress.IPv6Address(bits))


def test_the_post_connects_to_the_address_that_was_checked(monkeypatch):
    """A host name whose DNS answer changes after the check (rebinding) cannot move the connection: the POST
    goes to the checked address, with the URL's host in the Host header."""
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")
    with LoopbackServer(lambda *_: (204, b"")) as receiver:
        port = int(receiver.url.rsplit(":", 1)[1])
        _resolving_to(monkeypatch, "127.0.0.1")
        connections: list[str] = []
        monkeypatch.setattr(socket, "create_connection", _recording(socket.create_connection, connections))
        completion.post(f"http://hooks.example.org:{port}/done?key=k", CHANGE)
    [(path, headers, _)] = receiver.requests
    assert path == "/done?key=k" and headers["Host"] == f"hooks.example.org:{port}"
    assert connections == [f"127.0.0.1:{port}"]


def _recording(create_connection, calls: list[str]):
    def recorded(address, *args, **kwargs):
        calls.append(f"{address[0]}:{address[1]}")
        return create_connection(address, *args, **kwargs)

    return recorded


def test_a_redirect_is_not_followed(monkeypatch):
    monkeypatch.setenv(completion_urls.ALLOW_PRIVATE_ENV, "1")
    with LoopbackServer(lambda *_: (307, b"")) as receiver:
        completion.post(f"{receiver.url}/done", CHANGE)  # neither raised (no retry) nor followed
    assert len(receiver.requests) == 1
