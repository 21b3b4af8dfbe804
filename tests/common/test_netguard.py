"""The outbound address guard: address and URL tables, then guarded sessions against local aiohttp servers."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from ipaddress import ip_network

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from yarl import URL

from services.common.errors import DomainError
from services.common.netguard import (
    AddressPolicy,
    GuardedResolver,
    GuardError,
    blocked_reason,
    check_url,
    guarded_session,
    parse_http_url,
)
from tests.harness import free_port

_OPEN = AddressPolicy()
_TIMEOUT = aiohttp.ClientTimeout(total=10)

_PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",  # mapped: judged as 8.8.8.8
    "2002:808:808::1",  # 6to4 around a public IPv4
    "64:ff9b::808:808",  # NAT64 around a public IPv4
]
_REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fd12:3456::1", "private"),
    ("169.254.169.254", "link-local"),
    ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("192.0.2.10", "private"),  # TEST-NET-1 (documentation)
    ("198.51.100.7", "private"),  # TEST-NET-2
    ("203.0.113.9", "private"),  # TEST-NET-3
    ("198.18.0.1", "private"),  # benchmarking
    ("2001:db8::1", "private"),  # documentation
    ("0.1.2.3", "private"),  # "this network"
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "link-local"),
    ("::127.0.0.1", "loopback"),  # IPv4-compatible
    ("2002:a00:1::", "private"),  # 6to4 around 10.0.0.1
    ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
    ("64:ff9b:1::a00:1", "reserved"),  # local-use NAT64
    ("2001::1", "private"),  # Teredo
    ("fec0::1", "site-local"),
]


@pytest.mark.parametrize("address", _PUBLIC)
def test_public_unicast_addresses_pass(address: str) -> None:
    _OPEN.check_ip(address)


@pytest.mark.parametrize(("address", "kind"), _REFUSED)
def test_non_public_addresses_are_refused_naming_their_class(address: str, kind: str) -> None:
    with pytest.raises(GuardError) as caught:
        _OPEN.check_ip(address)

    assert caught.value.reason_name == "PRIVATE_IP_BLOCKED"
    assert kind in caught.value.message
    assert address.split("%")[0] not in caught.value.message  # the address itself is not echoed back


def test_the_allow_list_admits_exactly_what_it_lists() -> None:
    policy = AddressPolicy.from_setting(" 127.0.0.1 , 10.0.0.0/8,,minio.internal ")

    assert policy.allow == (ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"))
    assert policy.allow_hosts == frozenset({"minio.internal"})
    for admitted in ("127.0.0.1", "::ffff:127.0.0.1", "10.200.0.1"):
        policy.check_ip(admitted)
    for refused in ("127.0.0.2", "::1", "192.168.0.1", "169.254.169.254"):
        with pytest.raises(GuardError):
            policy.check_ip(refused)


@pytest.mark.parametrize("item", ["10.0.0.0/33", "fe80::/200", "a:b"])
def test_a_malformed_network_in_the_setting_is_an_error(item: str) -> None:
    with pytest.raises(ValueError, match="neither an IP network nor a host name"):
        AddressPolicy.from_setting(f"127.0.0.1,{item}")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("https://cdn.example.com/v/a.mp4?sig=1", None),
        ("http://93.184.216.34:8080/a.mp4", None),
        ("http://[2606:4700:4700::1111]/a.mp4", None),
        ("ftp://example.com/a.mp4", "URL_INVALID"),
        ("file:///etc/passwd", "URL_INVALID"),
        ("gopher://example.com:70/", "URL_INVALID"),
        ("/relative/a.mp4", "URL_INVALID"),
        ("http:///a.mp4", "URL_INVALID"),
        ("http://user:secret@example.com/a.mp4", "URL_INVALID"),
        ("http://user@example.com/a.mp4", "URL_INVALID"),
        ("http://localhost/a.mp4", "URL_HOST_BLOCKED"),
        ("http://LOCALHOST./a.mp4", "URL_HOST_BLOCKED"),
        ("http://api.localhost:9000/", "URL_HOST_BLOCKED"),
        ("http://metadata.google.internal/computeMetadata/v1/", "URL_HOST_BLOCKED"),
        ("http://metadata/", "URL_HOST_BLOCKED"),
        ("http://127.0.0.1/", "PRIVATE_IP_BLOCKED"),
        ("http://169.254.169.254/latest/meta-data/", "PRIVATE_IP_BLOCKED"),
        ("http://2130706433/", "PRIVATE_IP_BLOCKED"),  # decimal 127.0.0.1
        ("http://0x7f.1/", "PRIVATE_IP_BLOCKED"),  # hex + short form
        ("http://0177.0.0.1/", "PRIVATE_IP_BLOCKED"),  # octal
        ("http://127.1/", "PRIVATE_IP_BLOCKED"),
        ("http://0xa9fea9fe/", "PRIVATE_IP_BLOCKED"),  # 169.254.169.254
        ("http://[::ffff:7f00:1]/", "PRIVATE_IP_BLOCKED"),
        ("http://[::1]:8080/", "PRIVATE_IP_BLOCKED"),
        ("http://[fe80::1%25eth0]/", "PRIVATE_IP_BLOCKED"),
        ("http://0.0.0.0:8080/", "PRIVATE_IP_BLOCKED"),
    ],
)
def test_check_url(raw: str, reason: str | None) -> None:
    if reason is None:
        assert str(check_url(raw, _OPEN)) == raw
        return
    with pytest.raises(GuardError) as caught:
        check_url(raw, _OPEN)
    assert caught.value.reason_name == reason


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("http://[::1/a.mp4", "The URL is not a valid URL."),
        ("ftp://example.com/a.mp4", "The URL must be an absolute http:// or https:// URL."),
        ("//example.com/a.mp4", "The URL must be an absolute http:// or https:// URL."),
        ("https:///a.mp4", "The URL must be an absolute http:// or https:// URL."),
        ("", "The URL must be an absolute http:// or https:// URL."),
    ],
)
def test_parse_http_url_refuses_what_is_not_an_absolute_http_url(raw: str, message: str) -> None:
    with pytest.raises(GuardError) as caught:
        parse_http_url(raw)

    assert caught.value.reason_name == "URL_INVALID"
    assert caught.value.message == message


def test_parse_http_url_names_the_field_it_parses() -> None:
    with pytest.raises(GuardError) as caught:
        parse_http_url("mailto:a@example.com", name="webhookUrl")

    assert caught.value.message == "webhookUrl must be an absolute http:// or https:// URL."


@pytest.mark.parametrize("raw", ["http://example.com/a.mp4", "HTTPS://user:pw@10.0.0.1:8443/a?b=1"])
def test_parse_http_url_only_parses(raw: str) -> None:
    """Credentials and addresses are check_url's concern, not the parser's."""
    assert parse_http_url(raw) == URL(raw)


def test_check_url_admits_allow_listed_hosts_and_addresses() -> None:
    policy = AddressPolicy.from_setting("127.0.0.1,localhost")

    for raw in ("http://localhost:9000/a.mp4", "http://127.0.0.1:9000/a.mp4", "http://2130706433/"):
        check_url(raw, policy)
    with pytest.raises(GuardError) as caught:
        check_url("http://127.0.0.2/", policy)
    assert caught.value.reason_name == "PRIVATE_IP_BLOCKED"


Serve = Callable[[str, str | None], Awaitable[tuple[str, list[str]]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Starts a server on a loopback address that answers "ok" (or redirects to `redirect`); its URL and hits."""
    servers: list[TestServer] = []

    async def start(host: str, redirect: str | None) -> tuple[str, list[str]]:
        hits: list[str] = []

        async def handle(request: web.Request) -> web.StreamResponse:
            hits.append(request.path)
            if redirect is not None:
                raise web.HTTPFound(redirect)
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        server = TestServer(app, host=host, port=free_port())
        await server.start_server()
        servers.append(server)
        return f"http://{host}:{server.port}", hits

    yield start
    for server in servers:
        await server.close()


async def _refusal(policy: AddressPolicy, url: str) -> DomainError:
    async with guarded_session(policy, timeout=_TIMEOUT) as session:
        with pytest.raises(aiohttp.ClientError) as caught:
            async with session.get(url):
                pass
    reason = blocked_reason(caught.value)
    assert reason is not None, f"not refused by the guard: {caught.value!r}"
    return reason


async def _text(policy: AddressPolicy, url: str) -> str:
    async with guarded_session(policy, timeout=_TIMEOUT) as session, session.get(url) as resp:
        return await resp.text()


async def test_a_loopback_server_is_refused_unless_allow_listed(serve: Serve) -> None:
    url, hits = await serve("127.0.0.1", None)

    reason = await _refusal(_OPEN, f"{url}/clip.mp4")

    assert reason.reason_name == "PRIVATE_IP_BLOCKED"
    assert hits == []
    assert await _text(AddressPolicy.from_setting("127.0.0.1"), f"{url}/clip.mp4") == "ok"
    assert hits == ["/clip.mp4"]


async def test_a_redirect_from_an_allowed_server_to_a_private_address_is_refused(serve: Serve) -> None:
    target, target_hits = await serve("127.0.0.1", None)
    origin, origin_hits = await serve("127.0.0.2", f"{target}/internal")

    reason = await _refusal(AddressPolicy.from_setting("127.0.0.2"), f"{origin}/clip.mp4")

    assert reason.reason_name == "PRIVATE_IP_BLOCKED"
    assert origin_hits == ["/clip.mp4"]
    assert target_hits == []  # the private server never saw a request
    assert await _text(AddressPolicy.from_setting("127.0.0.2,127.0.0.1"), f"{origin}/clip.mp4") == "ok"


async def test_a_redirect_to_a_name_resolving_to_loopback_is_refused(serve: Serve) -> None:
    target, target_hits = await serve("127.0.0.1", None)
    port = target.rsplit(":", 1)[1]
    origin, _ = await serve("127.0.0.2", f"http://localhost:{port}/internal")

    reason = await _refusal(AddressPolicy.from_setting("127.0.0.2"), f"{origin}/clip.mp4")

    assert reason.reason_name == "PRIVATE_IP_BLOCKED"
    assert target_hits == []


async def test_a_host_name_is_judged_by_the_addresses_it_resolves_to(serve: Serve) -> None:
    url, hits = await serve("127.0.0.1", None)
    by_name = url.replace("127.0.0.1", "localhost")

    assert (await _refusal(_OPEN, by_name)).reason_name == "PRIVATE_IP_BLOCKED"
    assert hits == []
    assert await _text(AddressPolicy.from_setting("127.0.0.1,::1"), by_name) == "ok"
    assert await _text(AddressPolicy.from_setting("localhost"), by_name) == "ok"


async def test_an_unresolvable_host_is_reported_as_such() -> None:
    reason = await _refusal(_OPEN, "http://nonexistent.invalid/clip.mp4")

    assert reason.reason_name == "HOST_NOT_RESOLVABLE"


async def test_a_redirect_to_a_non_http_scheme_fails(serve: Serve) -> None:
    origin, _ = await serve("127.0.0.2", "file:///etc/passwd")

    with pytest.raises(aiohttp.NonHttpUrlRedirectClientError):
        await _text(AddressPolicy.from_setting("127.0.0.2"), origin)


async def test_an_ordinary_connection_error_is_not_a_refusal() -> None:
    async with guarded_session(AddressPolicy.from_setting("127.0.0.1"), timeout=_TIMEOUT) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as caught:
            await session.get(f"http://127.0.0.1:{free_port()}/")

    assert blocked_reason(caught.value) is None


def test_a_guarded_session_refuses_proxies() -> None:
    with pytest.raises(ValueError, match="proxy"):
        guarded_session(_OPEN, trust_env=True)


class _Answers(AbstractResolver):
    """Fixed DNS answers: this machine has no DNS server that returns public and private addresses at once."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=int(family), proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    mixed = GuardedResolver(_OPEN, _Answers("93.184.216.34", "10.0.0.7"))
    public = GuardedResolver(_OPEN, _Answers("93.184.216.34", "2606:4700:4700::1111"))
    empty = GuardedResolver(_OPEN, _Answers())

    with pytest.raises(GuardError) as caught:
        await mixed.resolve("rebind.example", 443)
    assert caught.value.reason_name == "PRIVATE_IP_BLOCKED"
    assert [r["host"] for r in await public.resolve("cdn.example", 443)] == ["93.184.216.34", "2606:4700:4700::1111"]
    with pytest.raises(GuardError) as caught:
        await empty.resolve("empty.example", 443)
    assert caught.value.reason_name == "HOST_NOT_RESOLVABLE"
