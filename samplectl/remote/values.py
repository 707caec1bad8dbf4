"""Stored values from the server for a TAB: one ``GET /values/{field}``.

Made by the same client as every command of remote mode (``remote.client``, on the standard
library's ``http.client``, light enough for a TAB's 100 ms of CPU), so under the same rules: the
server's address checked (plain http:// only to loopback), TLS verified (SAMPLECTL_CA_BUNDLE for a
lab's own CA), the token from the same cache as the commands' (SAMPLECTL_TOKEN, the token file, the
keyring). It raises whatever goes wrong; the completion offers nothing then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from samplectl import __version__
from samplectl.remote.address import server_address
from samplectl.remote.client import ApiClient
from samplectl.stores.tokens import TokenCache

if TYPE_CHECKING:
    from samplectl.config import Settings


def server_values(settings: Settings, field: str, prefix: str, limit: int, timeout_s: float) -> list[str]:
    """What the server offers for ``field`` after ``prefix``; nothing without a login (no request then)."""
    address = server_address(settings.server or "")
    cached = TokenCache(address.url, settings.home, env_token=settings.token).load()
    if cached is None or not cached.token:
        return []
    client = ApiClient(address, token=cached.token, timeout_ms=round(timeout_s * 1000), ca_bundle=settings.ca_bundle,
                       user_agent=f"samplectl/{__version__} (completion)")
    try:
        answer = client.json("GET", f"/values/{quote(field, safe='')}", params={"prefix": prefix, "limit": limit})
    finally:
        client.close()
    values = answer.get("values") if isinstance(answer, dict) else None
    return [value for value in values if isinstance(value, str)] if isinstance(values, list) else []
