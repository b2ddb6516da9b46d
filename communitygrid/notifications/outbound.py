"""Webhook requests reach only the public network: the defence against server-side request forgery.

A subscriber chooses the URL the server posts to. Unchecked, a URL naming 127.0.0.1, an office
network or the cloud metadata service (169.254.169.254) would make the server send requests
into its own network. So a host name is resolved and **every** address it resolves to must be
globally routable; a name that does not resolve is refused too. The rule runs when an endpoint
is saved (``webhooks.webhook_url_check``: a clear error naming the field) and again on every
delivery, at the moment of connecting, to the very addresses it has just checked: a name's DNS
answer may change after it was saved (DNS rebinding), even between two look-ups.

Through an HTTP proxy (``http_proxy``/``https_proxy`` in the environment) the proxy connects,
not us: the destination is checked as far as it resolves here, and a name that resolves only
on the proxy's side is left to the proxy's own policy.

``settings.WEBHOOK_ALLOW_PRIVATE_URLS`` (``CG_WEBHOOK_ALLOW_PRIVATE_URLS``, off by default) lifts
the rule: for a closed network whose receivers are all private, and for tests with a receiver
on 127.0.0.1.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.parse
import urllib.request

from django.conf import settings

# NAT64 (RFC 6052): a gateway turns 64:ff9b::a.b.c.d into a connection to a.b.c.d.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """The server will not connect to this host."""

    def __init__(self, host: str):
        super().__init__(host)
        self.host = host


class Unresolvable(Refused):
    def __str__(self):
        return f"{self.host} does not resolve to an address"


class NotPublic(Refused):
    def __init__(self, host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address):
        super().__init__(host)
        self.address = address

    @property
    def literal(self) -> bool:
        """The URL names the address itself, not a host name."""
        try:
            return ipaddress.ip_address(self.host.strip("[]")) == self.address
        except ValueError:
            return False

    def __str__(self):
        return f"{self.host} resolves to {self.address}, which is not a public address"


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False))


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally routable unicast: not loopback, private, link-local, multicast, reserved or unspecified."""
    if address.version == 6:
        # IPv6 forms that carry an IPv4 address the packets finally go to.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
    # is_global alone lets multicast (224.0.0.0/4, ff00::/8) and parts of ::/8 through.
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or getattr(address, "is_site_local", False)
    )


def public_addresses(host: str, port: int | None) -> list[tuple]:
    """``socket.getaddrinfo`` answers (TCP) for ``host``, provided every address is public.

    Raises :class:`Unresolvable` or :class:`NotPublic` (naming the first address that is not)."""
    name = host.strip("[]")
    try:
        answers = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        # gaierror: no such name; UnicodeError: not a valid IDNA name; ValueError: a NUL in it.
        raise Unresolvable(host) from error
    if not answers:
        raise Unresolvable(host)
    for *_, sockaddr in answers:
        # An IPv6 link-local answer may carry its zone ("fe80::1%eth0").
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not is_public(address):
            raise NotPublic(host, address)
    return answers


def connect_public(address: tuple[str, int], timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None,
                   **kwargs) -> socket.socket:
    """``socket.create_connection``, but only to addresses of the host just checked to be public."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in public_addresses(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"no address to connect to for {host}")


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = connect_public


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    # Connects to a checked address; TLS still names and verifies the host (self.host is unchanged).
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = connect_public


def _through_proxy(request: urllib.request.Request) -> bool:
    return request.has_proxy() or bool(getattr(request, "_tunnel_host", None))


class _PublicOnly:
    """Mixed into urllib's HTTP(S) handlers: every connection they open passes the rule."""

    def do_open(self, http_class, req, **kwargs):
        if not private_allowed():
            if _through_proxy(req):
                parts = urllib.parse.urlsplit(req.full_url)
                try:
                    public_addresses(parts.hostname or "", parts.port)
                except Unresolvable:
                    pass  # resolved by the proxy, under the proxy's policy
            elif issubclass(http_class, http.client.HTTPSConnection):
                http_class = _PublicHTTPSConnection
            else:
                http_class = _PublicHTTPConnection
        return super().do_open(http_class, req, **kwargs)


class PublicHTTPHandler(_PublicOnly, urllib.request.HTTPHandler):
    pass


class PublicHTTPSHandler(_PublicOnly, urllib.request.HTTPSHandler):
    pass
