"""Stored values that start with a prefix, from MongoDB: for shell completion and ``GET /values/{field}``.

What is offered (distinct, sorted, locations one level at a time) is decided in ``stores.values``;
this module only seeks the field's index: an anchored regex of the escaped prefix (typed text is
data: ``.``, ``*`` or ``(`` in an id match themselves) with ``$gte`` the point to start from, sorted
by the field, projected to it alone, in batches. Every completable field leads an index
(``sample_id_unique``, ``by_subject``, ``by_location``), so each batch is an index range scan.
"""

from __future__ import annotations

import re
from typing import Any

from samplectl.stores.values import LIMIT, distinct


def distinct_values(samples: Any, field: str, prefix: str, limit: int = LIMIT, *,
                    levels: bool | None = None) -> list[str]:
    """Distinct values of ``field`` in the ``samples`` collection starting with ``prefix``, sorted, at most ``limit``.

    ``levels``: as ``stores.values.distinct`` (False: whole locations, for the completion cache).
    """
    anchored = "^" + re.escape(prefix)

    def seek(start: str) -> list[str]:
        # As many as could be offered: one round trip for unique ids, a few for subjects and levels.
        cursor = samples.find({field: {"$regex": anchored, "$gte": start}}, {field: 1, "_id": 0})
        return [doc[field] for doc in cursor.sort(field, 1).limit(limit) if isinstance(doc.get(field), str)]

    return distinct(seek, field, prefix, limit, levels=levels)


def completion_values(uri: str, db_name: str, field: str, prefix: str, timeout_ms: int, limit: int = LIMIT) -> list[str]:
    """The same from a fresh connection, as a TAB asks for them; errors are the caller's to swallow.

    ``timeout_ms`` bounds the whole look-up (finding the server, connecting, every read), not only
    the connection as the commands' settings do.
    """
    import pymongo

    from samplectl.stores.mongo.engine import connect

    client, db, _ = connect(uri, db_name, timeout_ms)
    try:
        with pymongo.timeout(timeout_ms / 1000):
            return distinct_values(db["samples"], field, prefix, limit)
    finally:
        client.close()
