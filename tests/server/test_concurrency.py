"""Several writers at once through a two-worker server, and a server killed (-9) in the middle of an import."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import sample, start_server

# Real processes on a shared 2-core machine: generous time, modest sizes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

WRITERS, WRITES = 4, 20


def test_concurrent_writers_lose_nothing_and_keep_the_chain(tmp_path: Path) -> None:
    running = start_server(tmp_path, args=["--workers", "2"])
    try:
        token = running.token("tina")

        def write(writer: int) -> list[int]:
            statuses = []
            with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                for i in range(WRITES):
                    statuses.append(client.post("/samples", json=sample(f"CW-{writer}-{i}", subject_id="SUBJ-CW")).status_code)
                # Everyone also changes the same sample (made before the writers start, so none of them can
                # reach it before it exists): each change is applied once or refused (409), never lost.
                for k in range(3):
                    statuses.append(client.patch("/samples/CW-warm", json={"storage_location": f"W{writer}-{k}"}).status_code)
            return statuses

        with running.client("tina") as tina:
            assert tina.post("/samples", json=sample("CW-warm")).status_code == 201
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            results = list(pool.map(write, range(WRITERS)))
        creates = [s for r in results for s in r[:WRITES]]
        changes = [s for r in results for s in r[WRITES:]]
        assert creates == [201] * (WRITERS * WRITES)
        assert set(changes) <= {200, 409}
        with running.client("admin") as admin:
            assert admin.get("/samples/count", params={"subject_id": "SUBJ-CW"}).json() == {"count": WRITERS * WRITES}
            verify = admin.get("/audit/verify").json()
            assert verify["ok"] is True
            history = admin.get("/samples/CW-warm/history").json()
            updates = [e for e in history if e["action"] == "update"]
            record = admin.get("/samples/CW-warm").json()
            # Every applied change has its audit record, and the version counts them.
            assert record["version"] == 1 + len(updates) and len(updates) == changes.count(200)
    finally:
        running.stop()


def _write_locked(database: Path) -> bool:
    """Whether a writer holds the embedded store's write lock (the import's write pass is one transaction)."""
    conn = sqlite3.connect(database, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def test_a_server_killed_mid_import_leaves_no_half_batch(tmp_path: Path) -> None:
    running = start_server(tmp_path)
    n = 60_000
    body = ("sample_id,sample_type,subject_id,collection_date,storage_location\n"
            + "".join(f"KILL-{i},blood,SUBJ-KILL,2025-02-01T10:00:00Z,FRZ-K/{i % 97}\n" for i in range(n))).encode()
    token = running.token("tina")
    answered: list[int] = []

    def upload() -> None:
        try:
            answer = httpx.post(running.url + "/imports", content=body, timeout=300,
                                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
            answered.append(answer.status_code)
        except httpx.TransportError:
            answered.append(0)

    sender = threading.Thread(target=upload)
    sender.start()
    database = tmp_path / "data" / "samples.db"
    deadline = time.monotonic() + 240
    while not _write_locked(database):
        assert time.monotonic() < deadline and not answered, "the import's write pass was never seen"
        time.sleep(0.01)
    running.kill9()  # in the middle of the write pass
    sender.join(60)
    assert answered == [0]  # the client never got an answer
    running.start()
    try:
        with running.client("admin") as admin:
            assert admin.get("/samples/count", params={"subject_id": "SUBJ-KILL"}).json() == {"count": 0}
            assert admin.get("/audit/verify").json()["ok"] is True
            assert admin.get("/audit", params={"action": "import"}).json() == []
        with running.client("tina") as tina:
            again = tina.post("/imports", content=body, timeout=300)
            assert again.status_code == 200 and again.json()["created"] == n
    finally:
        running.stop()
