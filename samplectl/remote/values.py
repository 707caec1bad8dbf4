"""Stored values from the server for a TAB: one ``GET /values/{field}``, made with the standard library.

A TAB must answer within 100 ms of CPU and importing httpx alone costs about half of that
(docs/benchmarks.md#start-up), so this one request is made with ``http.client`` instead, under the
rules of every other request of remote mode, decided in ``remote.address``: the server's address
checked (plain http:// only to loopback), TLS verified by ``tls_context`` (SAMPLECTL_CA_BUNDLE for a
lab's own CA), the token from the same cache as the commands' (SAMPLECTL_TOKEN, the token file, the
keyring). It raises whatever goes wrong; the completion offers nothing then.
"""

from __future__ import annotations

import http.client
import json
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from samplectl import __version__
from samplectl.remote.address import server_address, tls_context
from samplectl.stores.tokens import TokenCache

if TYPE_CHECKING:
    from samplectl.config import Settings


def server_values(settings: Settings, field: str, prefix: str, limit: int, timeout_s: float) -> list[str]:
    """What the server offers for ``field`` after ``prefix``; nothing without a login (no request then)."""
    address = server_address(settings.server or "")
    cached = TokenCache(address.url, settings.home, env_token=settings.token).load()
    if cached is None or not cached.token:
        return []
    parts = urlsplit(address.url)
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if address.https:
        connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout_s,
                                                 context=tls_context(settings.ca_bundle))
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout_s)
    query = urlencode({"prefix": prefix, "limit": limit})
    try:
        connection.request("GET", f"{parts.path}/values/{quote(field, safe='')}?{query}", headers={
            "Authorization": f"Bearer {cached.token}",
            "Accept": "application/json",
            "User-Agent": f"samplectl/{__version__} (completion)",
        })
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        return []
    values = json.loads(body).get("values")
    return [value for value in values if isinstance(value, str)] if isinstance(values, list) else []
