"""POST /imports (streamed body), DELETE /imports/{batch_id}, GET /exports (streamed)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from tests.server.conftest import Server

HEADER = "sample_id,sample_type,subject_id,collection_date,status,storage_location\n"


def rows(prefix: str, n: int, subject: str = "SUBJ-IMP") -> str:
    return HEADER + "".join(f"{prefix}-{i},blood,{subject},2025-02-01T10:00:00Z,collected,FRZ-3/R{i % 5}\n"
                            for i in range(n))


def test_an_import_streams_in_and_answers_the_summary(server: Server) -> None:
    body = rows("IMP", 500)

    def chunks() -> Iterator[bytes]:  # sent chunked, with no Content-Length, as a pipe would be
        data = body.encode()
        for start in range(0, len(data), 4096):
            yield data[start:start + 4096]

    with server.client("tina") as tina:
        answer = tina.post("/imports", content=chunks(), headers={"Content-Type": "text/csv"})
        assert answer.status_code == 200, answer.text
        summary = answer.json()
        assert {k: summary[k] for k in ("read", "created", "updated", "skipped", "rejected", "dry_run")} == {
            "read": 500, "created": 500, "updated": 0, "skipped": 0, "rejected": 0, "dry_run": False}
        assert summary["batch_id"] and summary["problems"] == []
        assert tina.get("/samples/count", params={"subject_id": "SUBJ-IMP"}).json() == {"count": 500}
        again = tina.post("/imports", content=body)
        assert again.status_code == 409  # the same file again
        skipped = tina.post("/imports", params={"on_conflict": "skip", "allow_repeat": "true"}, content=body)
        assert skipped.status_code == 200 and skipped.json()["skipped"] == 500


def test_rejected_rows_answer_422_with_problems_and_the_summary(server: Server) -> None:
    body = HEADER + "REJ-1,blood,S,2025-02-01,collected,F\nREJ-2,plasma,S,2025-02-01,collected,F\n"
    with server.client("tina") as tina:
        answer = tina.post("/imports", content=body)
        assert answer.status_code == 422
        payload = answer.json()
        assert payload["error"]["code"] == "invalid"
        assert payload["error"]["details"] == [{"line": 3, "column": "sample_type", "value": "plasma",
                                                "message": payload["error"]["details"][0]["message"]}]
        assert payload["summary"]["rejected"] == 1 and payload["summary"]["created"] == 0
        assert tina.get("/samples/REJ-1").status_code == 404  # all or nothing
        dry = tina.post("/imports", params={"dry_run": "true"}, content=body)
        assert dry.status_code == 422 and dry.json()["summary"]["dry_run"] is True
        partial = tina.post("/imports", params={"partial": "true"}, content=body)
        assert partial.status_code == 422 and partial.json()["summary"]["created"] == 1
        assert tina.get("/samples/REJ-1").status_code == 200
        assert tina.post("/imports", params={"on_conflict": "sometimes"}, content=body).status_code == 422
        assert tina.post("/imports", content=b"").status_code == 422  # no header at all


def test_only_technicians_import_and_only_admins_undo(server: Server) -> None:
    with server.client("vera") as vera, server.client("tina") as tina, server.client("admin") as admin:
        assert vera.post("/imports", content=rows("VIMP", 2)).status_code == 403
        batch = tina.post("/imports", content=rows("UNDO", 3)).json()["batch_id"]
        tina.patch("/samples/UNDO-1", json={"storage_location": "moved"})
        assert tina.delete(f"/imports/{batch}").status_code == 403
        undone = admin.delete(f"/imports/{batch}", params={"reason": "wrong freezer file"})
        assert undone.status_code == 200
        assert undone.json()["removed"] == 2 and undone.json()["kept"] == ["UNDO-1"]
        assert admin.get("/samples/UNDO-0").status_code == 404
        assert admin.get("/samples/UNDO-1").status_code == 200
        assert admin.delete("/imports/no-such-batch").status_code == 404


def test_exports_stream_csv_jsonl_and_json(server: Server) -> None:
    with server.client("tina") as tina:
        tina.post("/imports", content=rows("EXP", 30, subject="SUBJ-EXP"))
    with server.client("vera") as vera:
        with vera.stream("GET", "/exports", params={"subject_id": "SUBJ-EXP"}) as answer:
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
            text = "".join(answer.iter_text())
        table = list(csv.DictReader(io.StringIO(text)))
        # Export writes every column import reads: the file's, and position (storage geometry).
        assert len(table) == 30 and list(table[0]) == [*HEADER.strip().split(","), "position"]
        lines = vera.get("/exports", params={"subject_id": "SUBJ-EXP", "format": "jsonl"}).text.splitlines()
        records = [json.loads(line) for line in lines]
        assert len(records) == 30 and records[0]["created_by"] == "tina"
        array = vera.get("/exports", params={"subject_id": "SUBJ-EXP", "format": "json", "sort": "sample_id"}).json()
        assert [r["sample_id"] for r in array] == sorted(r["sample_id"] for r in records)
        bad = vera.get("/exports", params={"format": "xlsx"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
        # What an export gives imports back (round trip through the API).
    with server.client("admin") as admin:
        admin.post("/samples/update-where", json={"subject_id": ["SUBJ-EXP"], "set_location": "FRZ-EXP"})
        # The export is byte for byte the file imported before: allow_repeat says this is deliberate.
        again = admin.post("/imports", params={"on_conflict": "update", "allow_repeat": "true"}, content=text)
        assert again.status_code == 200 and again.json()["updated"] == 30
        assert admin.get("/samples/EXP-0").json()["storage_location"] == "FRZ-3/R0"


def test_the_content_type_or_format_names_json_lines_and_json(server: Server) -> None:
    import dataclasses

    from samplectl.services.importing import ImportOptions

    lines = "".join(json.dumps({"sample_id": f"JL-{i}", "sample_type": "saliva", "subject_id": "SUBJ-JL",
                                "collection_date": "2025-02-01T10:00:00Z", "storage_location": "FRZ-J"}) + "\n"
                    for i in range(3))
    with server.client("tina") as tina:
        answer = tina.post("/imports", content=lines, headers={"Content-Type": "application/x-ndjson"})
        if "format" not in {f.name for f in dataclasses.fields(ImportOptions)}:
            # The import service reads CSV only: the server says so instead of misreading the file.
            assert answer.status_code == 422 and "not supported" in answer.json()["error"]["message"]
            return
        assert answer.status_code == 200 and answer.json()["created"] == 3
        array = json.dumps([json.loads(line) | {"sample_id": "J" + json.loads(line)["sample_id"]}
                            for line in lines.splitlines()])
        assert tina.post("/imports", params={"format": "json"}, content=array).json()["created"] == 3
