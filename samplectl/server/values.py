"""Stored values for shell completion: what a TAB offers in remote mode (``samplectl.remote.values``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from samplectl.domain.errors import NotFound
from samplectl.domain.text import shown
from samplectl.server.deps import Client, CurrentIdentity, State
from samplectl.server.schemas import ERRORS, StoredValues
from samplectl.stores.values import FIELDS, LIMIT

router = APIRouter(tags=["samples"])

FieldName = Annotated[str, Path(description=f"one of {', '.join(FIELDS)}")]


@router.get("/values/{field}", response_model=StoredValues, responses=ERRORS,
            summary="Stored values of a field starting with a prefix (shell completion)")
def stored_values(
    field: FieldName,
    server: State,
    who: CurrentIdentity,
    client: Client,
    prefix: Annotated[str, Query(max_length=500)] = "",
    limit: Annotated[int, Query(ge=1, le=LIMIT)] = LIMIT,
) -> StoredValues:
    """What a TAB offers: the distinct stored values of `sample_id`, `subject_id` or `storage_location`
    that start with `prefix` (exactly, case-sensitive: the prefix is data, never a pattern), sorted,
    at most `limit`. Locations come one level at a time: `prefix=FRZ-1/` gives `FRZ-1/R1/`, `FRZ-1/R2/`."""
    if field not in FIELDS:
        raise NotFound(f"no completable field {shown(field)}", hint=f"complete one of {', '.join(FIELDS)}")
    who.require("viewer", "reading samples")
    return StoredValues(values=server.sample_service(who, client).values(field, prefix, limit))
