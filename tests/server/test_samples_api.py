"""The samples routes against a real server: shapes, status codes, ETag/If-Match, paging, roles."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.server.conftest import Server, sample


def test_create_answers_201_with_the_record_location_and_etag(server: Server) -> None:
    with server.client("tina") as tina:
        answer = tina.post("/samples", json=sample("CR-1", reason="first draw"))
        assert answer.status_code == 201
        record = answer.json()
        assert record["sample_id"] == "CR-1" and record["version"] == 1 and record["created_by"] == "tina"
        assert record["collection_date"] == "2025-03-14T09:30:00Z" and record["status"] == "collected"
        assert answer.headers["location"] == f"{server.url}/samples/CR-1"
        assert answer.headers["etag"] == '"1"'
        again = tina.get(answer.headers["location"])
        assert again.status_code == 200 and again.json() == record and again.headers["etag"] == '"1"'


def test_an_id_with_a_slash_or_a_question_mark_gets_a_location_that_reaches_it(server: Server) -> None:
    with server.client("tina") as tina:
        for sample_id, escaped in (("2025/03/14-B", "2025%2F03%2F14-B"), ("A?B#1%", "A%3FB%231%25")):
            answer = tina.post("/samples", json=sample(sample_id))
            assert answer.status_code == 201, answer.text
            assert answer.headers["location"] == f"{server.url}/samples/{escaped}"
            assert tina.get(answer.headers["location"]).json()["sample_id"] == sample_id


def test_records_are_exactly_what_get_prints_as_json(server: Server) -> None:
    with server.client("tina") as tina:
        record = tina.post("/samples", json=sample("SAME-1", status="processing")).json()
    env = {**server.env, "SAMPLECTL_TOKEN": server.token("vera")}
    done = subprocess.run([sys.executable, "-m", "samplectl", "get", "SAME-1", "-o", "json"], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == record


def test_errors_carry_the_envelope_and_the_contract_status(server: Server) -> None:
    with server.client("tina") as tina:
        assert tina.post("/samples", json=sample("DUP-1")).status_code == 201
        duplicate = tina.post("/samples", json=sample("DUP-1"))
        assert duplicate.status_code == 409
        assert duplicate.json()["error"]["code"] == "conflict"
        invalid = tina.post("/samples", json=sample("BAD-1", sample_type="plasma"))
        assert invalid.status_code == 422
        error = invalid.json()["error"]
        assert set(error) == {"code", "message", "details", "hint"} and error["code"] == "invalid"
        assert "plasma" in error["message"]
        wrong_type = tina.post("/samples", json=sample("BAD-2", subject_id=12))
        assert wrong_type.status_code == 422 and wrong_type.json()["error"]["code"] == "invalid"
        unknown_field = tina.post("/samples", json=sample("BAD-3", colour="red"))
        assert unknown_field.status_code == 422
        missing = tina.get("/samples/NOPE-404")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        nothing = tina.patch("/samples/DUP-1", json={"reason": "nothing"})
        assert nothing.status_code == 400 and nothing.json()["error"]["code"] == "usage"
        assert tina.get("/samples?limit=0").status_code == 422
        assert tina.get("/samples?status=lost").status_code == 422
        assert tina.get("/samples?collected_from=yesterday").status_code == 422
        assert tina.get("/samples?sort=colour").status_code == 422
        assert tina.get("/samples?after=garbage!").status_code == 422
        assert tina.get("/no/such/route").status_code == 404
        assert tina.delete("/samples").status_code == 405
        # The rows of a bad request never reach the store.
        assert tina.get("/samples/BAD-1").status_code == 404


def test_if_match_refuses_a_stale_version_with_412(server: Server) -> None:
    with server.client("tina") as tina:
        tina.post("/samples", json=sample("IFM-1"))
        stale = tina.patch("/samples/IFM-1", json={"storage_location": "FRZ-9"}, headers={"If-Match": '"7"'})
        assert stale.status_code == 412
        assert stale.json()["error"]["code"] == "precondition_failed"
        assert tina.get("/samples/IFM-1").json()["storage_location"] == "FRZ-1/R1/B1"
        fresh = tina.patch("/samples/IFM-1", json={"storage_location": "FRZ-9"}, headers={"If-Match": '"1"'})
        assert fresh.status_code == 200 and fresh.json()["version"] == 2 and fresh.headers["etag"] == '"2"'
        # PUT is the seed's partial update: the same thing.
        put = tina.put("/samples/IFM-1", json={"status": "processing", "reason": "aliquoted"},
                       headers={"If-Match": fresh.headers["etag"]})
        assert put.status_code == 200 and put.json()["status"] == "processing" and put.json()["version"] == 3
        assert tina.patch("/samples/IFM-1", json={"status": "archived"}, headers={"If-Match": "x"}).status_code == 400


def test_lifecycle_and_force_follow_the_roles(server: Server) -> None:
    with server.client("tina") as tina, server.client("admin") as admin:
        tina.post("/samples", json=sample("LC-1", status="archived"))
        refused = tina.patch("/samples/LC-1", json={"status": "collected"})
        assert refused.status_code == 409 and "lifecycle" in refused.json()["error"]["hint"]
        assert tina.patch("/samples/LC-1", json={"status": "collected", "force": True, "reason": "x"}).status_code == 403
        assert admin.patch("/samples/LC-1", json={"status": "collected", "force": True}).status_code == 400
        forced = admin.patch("/samples/LC-1", json={"status": "collected", "force": True, "reason": "mislabelled"})
        assert forced.status_code == 200 and forced.json()["status"] == "collected"


def test_viewer_reads_but_cannot_write_and_technician_cannot_delete(server: Server) -> None:
    with server.client("tina") as tina, server.client("vera") as vera, server.client("admin") as admin:
        tina.post("/samples", json=sample("ROLE-1"))
        assert vera.get("/samples/ROLE-1").status_code == 200
        created = vera.post("/samples", json=sample("ROLE-2"))
        assert created.status_code == 403 and created.json()["error"]["code"] == "permission_denied"
        assert vera.patch("/samples/ROLE-1", json={"storage_location": "X"}).status_code == 403
        denied = tina.delete("/samples/ROLE-1", params={"reason": "twice"})
        assert denied.status_code == 403 and "admin" in denied.json()["error"]["message"]
        assert admin.delete("/samples/ROLE-1", params={"reason": "twice"}, headers={"If-Match": '"5"'}).status_code == 412
        assert admin.delete("/samples/ROLE-1", params={"reason": "registered twice"}).status_code == 204
        assert admin.get("/samples/ROLE-1").status_code == 404
        history = vera.get("/samples/ROLE-1/history")
        assert history.status_code == 200
        entries = history.json()
        assert [e["action"] for e in entries] == ["create", "delete"]
        assert set(entries[0]) == {"at", "user", "action", "sample_id", "changes", "reason"}
        assert entries[1]["reason"] == "registered twice" and entries[1]["user"] == "admin"
        assert vera.get("/samples/NEVER-WAS/history").status_code == 404


def test_criteria_repeat_for_or_count_and_keyset_pages_with_link(server: Server) -> None:
    with server.client("tina") as tina:
        for i in range(7):
            tina.post("/samples", json=sample(f"PG-{i}", subject_id="SUBJ-PG", sample_type="saliva" if i % 2 else "tissue",
                                              collection_date=f"2025-01-0{1 + i % 3}T08:00:00Z"))
        tina.post("/samples", json=sample("PG-other", subject_id="SUBJ-PG", sample_type="blood"))
        query = {"subject_id": "SUBJ-PG", "sample_type": ["saliva", "tissue"]}
        count = tina.get("/samples/count", params=query)
        assert count.status_code == 200 and count.json() == {"count": 7}
        seen, url, pages = [], "/samples", 0
        params: dict[str, object] | None = {**query, "limit": 3}
        while url:
            answer = tina.get(url, params=params)
            assert answer.status_code == 200
            seen += [r["sample_id"] for r in answer.json()]
            pages += 1
            link = answer.headers.get("link")
            match = re.match(r'<([^>]+)>; rel="next"', link or "")
            url, params = (match.group(1), None) if match else ("", None)
        everything = tina.get("/samples", params={**query, "limit": 100}).json()
        assert seen == [r["sample_id"] for r in everything]
        assert len(seen) == 7 and pages == 3
        # Newest collection first, then sample_id.
        keys = [(r["collection_date"], r["sample_id"]) for r in everything]
        assert keys == sorted(keys, key=lambda k: (-int(k[0][:10].replace("-", "")), k[1]))
        by_id = tina.get("/samples", params={**query, "sort": "sample_id", "limit": 4})
        first = [r["sample_id"] for r in by_id.json()]
        rest_url = re.match(r"<([^>]+)>", by_id.headers["link"]).group(1)  # type: ignore[union-attr]
        rest = [r["sample_id"] for r in tina.get(rest_url).json()]
        assert first + rest == sorted(seen)


def test_update_where_applies_and_reports_refusals_as_409(server: Server) -> None:
    with server.client("tina") as tina:
        for i in range(3):
            tina.post("/samples", json=sample(f"UW-{i}", subject_id="SUBJ-UW", status="archived" if i == 2 else "collected"))
        assert tina.post("/samples/update-where", json={"set_status": "processing"}).status_code == 400
        assert tina.post("/samples/update-where", json={"subject_id": ["SUBJ-UW"]}).status_code == 400
        answer = tina.post("/samples/update-where", json={"subject_id": ["SUBJ-UW"], "set_status": "processing",
                                                          "reason": "batch processed"})
        assert answer.status_code == 409
        error = answer.json()["error"]
        assert error["details"] == [{"sample_id": "UW-2", "message": error["details"][0]["message"]}]
        assert "2 changed" in error["message"]
        assert tina.get("/samples/UW-0").json()["status"] == "processing"
        moved = tina.post("/samples/update-where", json={"subject_id": ["SUBJ-UW"], "set_location": "FRZ-2/R1"})
        assert moved.status_code == 200
        assert moved.json()["changed"] == 3 and moved.json()["matched"] == 3


def test_update_where_plans_without_writing_and_replaces_a_location_prefix(server: Server) -> None:
    with server.client("tina") as tina:
        for i in range(3):
            tina.post("/samples", json=sample(f"UP-{i}", subject_id="SUBJ-UP", storage_location=f"UPF-1/R3/B{i}",
                                              status="archived" if i == 2 else "collected"))
        where = {"location_prefix": ["UPF-1/R3/"], "set_location_prefix": "UPF-2/R1/", "set_status": "processing"}
        plan = tina.post("/samples/update-where/plan", json=where)
        assert plan.status_code == 200 and plan.headers["content-type"] == "application/x-ndjson"
        rows = [json.loads(line) for line in plan.text.splitlines()]
        assert [(r["sample_id"], r["field"]) for r in rows] == [
            ("UP-0", "status"), ("UP-0", "storage_location"), ("UP-1", "status"), ("UP-1", "storage_location"),
            ("UP-2", "status"), ("UP-2", "storage_location")]
        assert rows[1] == {"sample_id": "UP-0", "field": "storage_location", "before": "UPF-1/R3/B0",
                           "after": "UPF-2/R1/B0", "refused": None}
        assert "archived to processing" in rows[4]["refused"]
        first = tina.post("/samples/update-where/plan", json=where, params={"limit": "1"})
        assert [json.loads(line)["sample_id"] for line in first.text.splitlines()] == ["UP-0"]
        assert tina.get("/samples/UP-0").json()["version"] == 1  # a plan writes nothing
        two = {**where, "location_prefix": ["UPF-1/", "UPF-9/"]}
        assert tina.post("/samples/update-where/plan", json=two).status_code == 400
        assert tina.post("/samples/update-where", json=two).status_code == 400
        assert tina.post("/samples/update-where/plan", json={**where, "set_status": "frozen"}).status_code == 422
        everything = {"set_status": "processing"}  # no criterion: refused before any sample is read, as the change is
        for route in ("/samples/update-where/plan", "/samples/update-where"):
            refused = tina.post(route, json=everything)
            assert refused.status_code == 400 and "at least one criterion" in refused.json()["error"]["message"]
        del where["set_status"]
        moved = tina.post("/samples/update-where", json=where)
        assert moved.status_code == 200 and moved.json()["set"] == {"storage_location": "UPF-1/R3/* -> UPF-2/R1/*"}
        assert tina.get("/samples/UP-2").json()["storage_location"] == "UPF-2/R1/B2"
    with server.client("vera") as vera:
        assert vera.post("/samples/update-where/plan", json=where).status_code == 403
