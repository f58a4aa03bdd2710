"""Where AnkiConnect listens: an ``http://HOST:PORT`` address, checked before anything is
sent, and whether it is this machine. Kept apart from the protocol so that the command line
can name the default without loading an HTTP client."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from exporter.errors import AnkiError

DEFAULT_URL = "http://127.0.0.1:8765"  # where AnkiConnect listens unless configured otherwise


class Address(NamedTuple):
    """Where AnkiConnect listens: ``http://HOST:PORT/PATH``."""

    scheme: str
    host: str
    port: int
    path: str = "/"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{'' if self.path == '/' else self.path}"

    @property
    def loopback(self) -> bool:
        """True when the host is this machine: ``localhost`` (with or without its trailing
        dot), or an address that connects here, read as the resolver reads it (``127.1``,
        ``2130706433``, ``0.0.0.0``, ``::1``, ``::``, ``::ffff:127.0.0.1``)."""
        host = self.host.lower()
        if host.removesuffix(".") == "localhost":
            return True
        import ipaddress  # here: the command line names DEFAULT_URL at every start

        try:
            ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
        except ValueError:
            packed = _inet_aton(host)
            if packed is None:
                return False  # a name: only localhost is known to be here without asking
            ip = ipaddress.IPv4Address(packed)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_loopback or ip.is_unspecified


def _inet_aton(host: str) -> bytes | None:
    """The IPv4 address of a numeric host in the forms the resolver also takes (``127.1``,
    ``0x7f.1``, ``017700000001``), else ``None`` (a name)."""
    import socket

    if not host or host.strip("0123456789abcdefx.") or host.endswith("."):
        return None
    try:
        return socket.inet_aton(host)
    except OSError:
        return None


def parse_address(text: str) -> Address:
    """``text`` as an address; ``AnkiError`` unless it is an ``http://`` (or ``https://``)
    URL with a host, an optional port (default 8765) and path, and nothing else. The
    message quotes the address ``redacted``: whatever it held, no key is repeated."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:  # its words may quote the text: said in ours
        why = "the port must be a number up to 65535" if "Port" in str(exc) else "not a URL"
        raise _bad_url(text, why) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad_url(text, "expected http://HOST:PORT, e.g. " + DEFAULT_URL)
    if parts.username is not None or parts.password is not None:
        raise _bad_url(text, "a user or password in the address is never sent; use --anki-key")
    if parts.query or parts.fragment:
        raise _bad_url(text, "an address with '?' or '#' is not AnkiConnect's")
    return Address(parts.scheme, parts.hostname, 8765 if port is None else port, parts.path or "/")


def _bad_url(text: str, why: str) -> AnkiError:
    return AnkiError(
        f"the Anki address {redacted(text)!r} is not usable: {why}", code="anki-url-invalid"
    )


def redacted(text: str) -> str:
    """``text`` as a message may show it: a user and password (all before the last ``@``
    of the part before any ``?`` or ``#``), a port that is not a number (the password of a
    ``user:password`` with no host after it), and a query or fragment, each shown as ``***``.
    Cut by plain string search, so a text no URL parser reads is redacted too."""
    text = text.strip()
    cut = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=-1)
    if cut >= 0:
        text = text[: cut + 1] + "***"
    head = text if cut < 0 else text[:cut]
    at = head.rfind("@")
    if at >= 0:
        start = head.find("://") + 3 if "://" in head[:at] else 0
        text, head = text[:start] + "***" + text[at:], head[:start] + "***" + head[at:]
    start = head.find("://") + 3 if "://" in head else 0
    end = head.find("/", start) % (len(head) + 1)  # the authority ends at '/' (or the end)
    colon = head.rfind(":", head.rfind("]", start, end) + 1, end)
    port = head[colon + 1 : end]
    if colon > start and port and not port.isdecimal():
        text = text[: colon + 1] + "***" + text[end:]
    return text
