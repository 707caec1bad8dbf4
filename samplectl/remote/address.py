"""Which server remote mode talks to, and how: the one place that decides remote mode's transport rules.

Checked before any connection: a password or token sent over plain http:// to another machine
could be read by anyone on the network, so http:// is used only for a loopback address; https://
is always verified (``tls_context``). The one client of the server (``remote.client``, for the
commands and a TAB's ``remote.values`` alike) follows both.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from samplectl.domain.errors import ValidationFailed

if TYPE_CHECKING:
    import ssl

SETTING = "SAMPLECTL_SERVER"


@dataclass(frozen=True)
class ServerAddress:
    url: str  # canonical: scheme://host[:port][/path], no trailing slash (also the token's keyring entry)
    https: bool

    def __str__(self) -> str:
        return self.url


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_address(text: str, setting: str = SETTING) -> ServerAddress:
    """The server URL from the setting, or exit 6 saying why it cannot be used (``setting`` names it:
    the variable, or `config set server`)."""
    shown = text.strip()[:100]
    try:
        parts = urlsplit(text.strip())
        host = parts.hostname or ""
        port = parts.port  # a port out of range raises here
    except ValueError:
        raise _invalid(f"{setting} {shown!r} is not a URL", "e.g. https://samples.lab.example") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise _invalid(f"{setting} {shown!r} is not an http(s) URL", "e.g. https://samples.lab.example")
    if parts.username or parts.password:
        raise _invalid(f"{setting} must not carry a user name or password",
                       "give only the server's address; log in with `samplectl login`")
    if parts.query or parts.fragment:
        raise _invalid(f"{setting} {shown!r} has a query or fragment", "give only the server's address")
    if scheme == "http" and not is_loopback(host):
        raise _invalid(
            f"{setting} {shown!r} uses plain http:// to another machine: passwords and tokens would cross "
            "the network unencrypted",
            "use the server's https:// address (plain http:// is only for 127.0.0.1, ::1 or localhost)",
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return ServerAddress(f"{scheme}://{netloc.lower()}{parts.path.rstrip('/')}", https=scheme == "https")


def _invalid(message: str, hint: str) -> ValidationFailed:
    return ValidationFailed(message, hint=hint)


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Certificates verified and host names checked, against the lab's own CA when SAMPLECTL_CA_BUNDLE
    names one, else SSL_CERT_FILE or SSL_CERT_DIR when set, else certifi's public CAs (what httpx, the
    client before, trusted by default: a lab's setup that worked keeps working)."""
    import ssl

    named = [(name, value) for name, value in (("SAMPLECTL_CA_BUNDLE", ca_bundle),
                                                ("SSL_CERT_FILE", os.environ.get("SSL_CERT_FILE")),
                                                ("SSL_CERT_DIR", os.environ.get("SSL_CERT_DIR"))) if value]
    try:
        if not named:
            import certifi

            return ssl.create_default_context(cafile=certifi.where())
        source, where = named[0]
        if source == "SSL_CERT_DIR":
            return ssl.create_default_context(capath=where)
        return ssl.create_default_context(cafile=where)
    except (OSError, ssl.SSLError) as exc:
        source, where = named[0] if named else ("certifi", "")
        raise ValidationFailed(f"{source} {where!r} cannot be used: {getattr(exc, 'strerror', None) or exc}",
                               hint="point SAMPLECTL_CA_BUNDLE at the lab CA's certificate in PEM format") from None
