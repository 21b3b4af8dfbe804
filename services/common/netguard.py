"""Outbound address guard (SSRF protection) for customer-supplied URLs: sources now, webhook targets later.

`check_url` vets a URL before use; `guarded_session` checks every address aiohttp is about to connect to
(each redirect hop, each fresh DNS answer), so a public-looking host cannot lead vidkiln into its own network.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from aiohttp.tracing import Trace
from yarl import URL

from services.common.errors import DomainError, InvalidArgument, R

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# What `ipaddress` does not name itself: the shared (CGNAT) range it only folds into is_global, and the
# NAT64 well-known prefix whose last 32 bits are the IPv4 host actually reached.
_SHARED = IPv4Network("100.64.0.0/10")
_BROADCAST = IPv4Address("255.255.255.255")
_NAT64 = IPv6Network("64:ff9b::/96")
# Names that lead to the machine itself or to a cloud metadata service whatever DNS says.
_BLOCKED_HOSTS = frozenset({"localhost", "localhost.localdomain", "metadata", "metadata.google.internal"})
# Legacy numeric IPv4 forms (2130706433, 0x7f.1, 0177.0.0.1, 127.1) that inet_aton and the resolver accept.
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+")


class GuardError(InvalidArgument, OSError):
    """A refused URL or address; an OSError too, so aiohttp's connector treats it as a failed connection."""


def _hostname(host: str) -> str:
    return host.rstrip(".").lower()


def _embedded_ipv4(ip: IPAddress) -> IPv4Address | None:
    """The IPv4 host an IPv6 address really reaches: mapped, compatible, 6to4 or NAT64."""
    if isinstance(ip, IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):  # NAT64, or IPv4-compatible ::a.b.c.d
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refused_class(ip: IPAddress) -> str | None:
    """The class of a non-public address as a person would call it; None for public unicast."""
    if ip.is_unspecified:
        return "an unspecified"
    if ip.is_loopback:
        return "a loopback"
    if ip.is_link_local:
        return "a link-local (cloud metadata)" if ip == IPv4Address("169.254.169.254") else "a link-local"
    if ip.is_multicast:
        return "a multicast"
    if isinstance(ip, IPv4Address) and ip in _SHARED:
        return "a shared (carrier-grade NAT)"
    if ip == _BROADCAST:
        return "the broadcast"
    if isinstance(ip, IPv6Address) and ip.is_site_local:
        return "a site-local"
    if ip.is_reserved:
        return "a reserved"
    if ip.is_private:
        return "a private"
    if not ip.is_global:
        return "a non-public"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which non-public destinations the operator admits; everything else must be public unicast."""

    allow: tuple[IPNetwork, ...] = ()
    allow_hosts: frozenset[str] = field(default_factory=frozenset)
    allow_any: bool = False  # TRUSTED only: endpoints the operator configured, never customer-supplied ones

    @classmethod
    def from_setting(cls, value: str) -> AddressPolicy:
        """Parses VIDKILN_URL_ALLOW: comma-separated IPs, CIDR networks and host names."""
        nets: list[IPNetwork] = []
        hosts: set[str] = set()
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                nets.append(ip_network(item, strict=False))
            except ValueError:
                if "/" in item or ":" in item:
                    raise ValueError(f"{item!r} is neither an IP network nor a host name.") from None
                hosts.add(_hostname(item))
        return cls(tuple(nets), frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        return self.allow_any or _hostname(host) in self.allow_hosts

    def _listed(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allow)

    def check_ip(self, ip: IPAddress | str) -> None:
        """Refuses (PRIVATE_IP_BLOCKED) an address that is neither public unicast nor allow-listed."""
        if self.allow_any:
            return
        addr = ip_address(ip) if isinstance(ip, str) else ip
        judged = _embedded_ipv4(addr) or addr  # ::ffff:127.0.0.1 is 127.0.0.1
        if self._listed(addr) or self._listed(judged):
            return
        refused = _refused_class(judged)
        if refused is not None:
            raise GuardError(
                f"The URL leads to {refused} address, which vidkiln does not connect to.",
                reason=R.PRIVATE_IP_BLOCKED,
            )


# For the platform's own infrastructure (its blob store bucket): the operator chose the endpoint, which may well
# be private (a MinIO on the internal network, 127.0.0.1 in tests). Never for an address a request carries.
TRUSTED = AddressPolicy(allow_any=True)


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, including the numeric forms the resolver accepts."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def parse_http_url(raw: str, *, name: str = "The URL") -> URL:
    """The URL if it is an absolute http(s) URL with a host; GuardError (URL_INVALID) naming it `name`."""
    try:
        url = URL(raw)
    except (ValueError, TypeError) as exc:
        raise GuardError(f"{name} is not a valid URL.", reason=R.URL_INVALID) from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise GuardError(f"{name} must be an absolute http:// or https:// URL.", reason=R.URL_INVALID)
    return url


def check_url(raw: str, policy: AddressPolicy) -> URL:
    """The URL if it is http(s) without credentials and its host is not a blocked name or address."""
    url = parse_http_url(raw)
    if url.user is not None or url.password is not None:
        raise GuardError("The URL must not contain a user name or password.", reason=R.URL_INVALID)
    host = _hostname(url.host or "")  # never empty: parse_http_url refuses a URL without a host
    if policy.allows_host(host):
        return url
    literal = _ip_literal(host)
    if literal is not None:
        policy.check_ip(literal)
    elif host in _BLOCKED_HOSTS or host.endswith(".localhost"):
        raise GuardError(f"The host {host!r} is not allowed.", reason=R.URL_HOST_BLOCKED)
    return url


class GuardedResolver(AbstractResolver):
    """Resolves with aiohttp's default resolver and refuses a host if any of its addresses is refused."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            results = await self._inner.resolve(host, port, family)
        except TimeoutError:
            raise
        except OSError as exc:
            raise GuardError(f"The host {host!r} could not be resolved.", reason=R.HOST_NOT_RESOLVABLE) from exc
        if not results:
            raise GuardError(f"The host {host!r} could not be resolved.", reason=R.HOST_NOT_RESOLVABLE)
        if not self._policy.allows_host(host):
            for result in results:
                self._policy.check_ip(result["host"])
        return results

    async def close(self) -> None:
        await self._inner.close()


class _GuardedConnector(aiohttp.TCPConnector):
    """A connector that never reuses DNS answers and also checks IP-literal hosts.

    aiohttp hands IP-literal hosts (e.g. a redirect to http://127.0.0.1/) past the resolver, so they are
    checked in `_resolve_host`, the one step every direct connection goes through.
    """

    def __init__(self, policy: AddressPolicy, resolver: AbstractResolver | None = None, **kwargs: Any) -> None:
        super().__init__(resolver=GuardedResolver(policy, resolver), use_dns_cache=False, **kwargs)
        self._policy = policy

    async def _resolve_host(self, host: str, port: int, traces: Sequence[Trace] | None = None) -> list[ResolveResult]:
        try:
            literal: IPAddress | None = ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            self._policy.check_ip(literal)
        return await super()._resolve_host(host, port, traces=traces)


def guarded_connector(policy: AddressPolicy, **kwargs: Any) -> aiohttp.TCPConnector:
    """A TCPConnector (kwargs as aiohttp's; `resolver` is wrapped) connecting only where policy admits."""
    return _GuardedConnector(policy, **kwargs)


def guarded_session(policy: AddressPolicy, **kwargs: Any) -> aiohttp.ClientSession:
    """A ClientSession over a guarded connector; proxies are refused, as they would resolve hosts themselves."""
    if "connector" in kwargs:
        raise TypeError("guarded_session makes its own connector.")
    if kwargs.get("trust_env") or kwargs.get("proxy"):
        raise ValueError("A guarded session cannot use a proxy: the proxy would resolve hosts past the guard.")
    return aiohttp.ClientSession(connector=guarded_connector(policy), **kwargs)


def blocked_reason(exc: BaseException) -> DomainError | None:
    """The guard's refusal behind an aiohttp error (os_error, __cause__, __context__), if there is one."""
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, GuardError):
            return current
        pending += [getattr(current, "os_error", None), current.__cause__, current.__context__]
    return None
