"""The lab's time zone: the configured one, else the machine's."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from pathlib import Path

from samplectl.domain.errors import ValidationFailed


def _machine_zone_name() -> str | None:
    """The IANA name of the machine's zone (so that daylight saving is applied per date)."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        return tz
    try:
        target = os.readlink("/etc/localtime")
    except OSError:
        return None
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def resolve_timezone(name: str | None) -> tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed(
                f"timezone {name!r} is not a known IANA time zone", hint="use a name like Europe/Berlin or UTC"
            ) from None
    machine = _machine_zone_name()
    if machine and not Path(machine).is_absolute():
        try:
            return ZoneInfo(machine)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local
