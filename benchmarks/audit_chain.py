"""The audit chain's single sequence under concurrent writers: appends/s as writer processes are added.

Every audit record takes the next `seq` after the chain's head; on MongoDB two writers that read the
same head race for one seq (a unique index decides, the loser re-links and retries). This is what
limits several stateless `samplectl serve` processes over one MongoDB: their writes serialise on it.

Each writer process appends single records (as single sample changes do) to one store for a fixed
time. Not part of the test suite. Usage:

    nice .venv/bin/python benchmarks/audit_chain.py --writers 1 2 4 8 --seconds 10
    .venv/bin/python benchmarks/audit_chain.py --uri mongodb://host:27017/?replicaSet=rs0   # a real replica set
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from import_export import start_wire  # noqa: E402


def writer(uri: str, db: str, seconds: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from samplectl.stores.audit import AuditLog
    from samplectl.stores.engines import open_mongodb
    from samplectl.stores.samples import SampleStore

    database = open_mongodb(uri, db, 5000)
    audit = AuditLog(SampleStore(database.db, database.dialect))
    audit.ready()
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        audit.append({"user": "bench", "action": "update", "sample_id": f"S-{uuid.uuid4().hex[:8]}",
                      "changes": {"status": {"before": "collected", "after": "processing"}}})
        done += 1
    database.close()
    results.put(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--uri", help="a MongoDB to use instead of a local nx-27017 wire server")
    opts = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="samplectl-chain-"))
    wire = None
    uri = opts.uri
    if uri is None:
        wire, uri = start_wire(base)
    try:
        print(f"{'writers':>7} {'appends':>8} {'appends/s':>10} {'per writer/s':>13}")
        for count in opts.writers:
            db = "chain" + uuid.uuid4().hex[:8]
            results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
            procs = [multiprocessing.Process(target=writer, args=(uri, db, opts.seconds, results)) for _ in range(count)]
            for proc in procs:
                proc.start()
            total = sum(results.get() for _ in procs)
            for proc in procs:
                proc.join()
            from samplectl.stores.engines import open_mongodb

            check = open_mongodb(uri, db, 5000)
            from samplectl.domain.audit import check_chain
            from samplectl.stores.audit import AuditLog
            from samplectl.stores.samples import SampleStore

            report = check_chain(AuditLog(SampleStore(check.db, check.dialect)).walk())
            check.client.drop_database(db)
            check.close()
            intact = "" if report.ok and report.checked == total else f"  (chain: {report.checked} checked, ok={report.ok})"
            print(f"{count:>7} {total:>8} {total / opts.seconds:>10,.0f} {total / opts.seconds / count:>13,.0f}{intact}",
                  flush=True)
    finally:
        if wire is not None:
            wire.terminate()
            wire.wait()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
