"""GET /values/{field}: what a TAB offers in remote mode (issue 14, "completion ... from the store").

The distinct stored values of sample_id, subject_id or storage_location that start with a prefix,
exactly (the prefix is data, never a pattern), sorted, limited, locations one level at a time; a
read like any other: a valid token, viewer or above, the contract's error envelope.
"""

from __future__ import annotations

import httpx

from tests.server.conftest import Server, sample

# Each value starts with VAL- so that the module's other tests' samples are never among them.
SAMPLES = [
    ("VAL-S.1", "VAL-P (1)", "VAL-FRZ/R1/B1"),
    ("VAL-S.2", "VAL-P (1)", "VAL-FRZ/R1/B2"),
    ("VAL-SX3", "VAL-P 2", "VAL-FRZ/R2/B1"),
    ("VAL-S*|[", "VAL-P+", "VAL-bench top"),
]


def _stored(server: Server) -> None:
    with server.client("tina") as tina:
        for sample_id, subject, location in SAMPLES:
            made = tina.post("/samples", json=sample(sample_id, subject_id=subject, storage_location=location))
            assert made.status_code in (201, 409), made.text  # 409: made by an earlier test of this module


def values(client: httpx.Client, field: str, **params: object) -> list[str]:
    answer = client.get(f"/values/{field}", params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"values"}
    return list(body["values"])


def test_values_start_with_the_prefix_exactly_and_come_sorted_and_distinct(server: Server) -> None:
    _stored(server)
    with server.client("vera") as vera:  # a viewer may read them
        assert values(vera, "sample_id", prefix="VAL-S") == ["VAL-S*|[", "VAL-S.1", "VAL-S.2", "VAL-SX3"]
        assert values(vera, "sample_id", prefix="VAL-S.") == ["VAL-S.1", "VAL-S.2"]  # "." is not "any character"
        assert values(vera, "sample_id", prefix="VAL-S*|[") == ["VAL-S*|["]  # an invalid pattern, as text
        assert values(vera, "sample_id", prefix="val-s") == []  # case-sensitive
        assert values(vera, "subject_id", prefix="VAL-P") == ["VAL-P (1)", "VAL-P 2", "VAL-P+"]  # each once
        assert values(vera, "subject_id", prefix="VAL-P (") == ["VAL-P (1)"]
        assert values(vera, "storage_location", prefix="VAL-") == ["VAL-FRZ/", "VAL-bench top"]  # one level
        assert values(vera, "storage_location", prefix="VAL-FRZ/") == ["VAL-FRZ/R1/", "VAL-FRZ/R2/"]
        assert values(vera, "storage_location", prefix="VAL-FRZ/R1/") == ["VAL-FRZ/R1/B1", "VAL-FRZ/R1/B2"]
        assert values(vera, "sample_id", prefix="VAL-S", limit=2) == ["VAL-S*|[", "VAL-S.1"]


def test_values_need_a_login_a_known_field_and_a_sane_limit(server: Server) -> None:
    anonymous = httpx.get(server.url + "/values/sample_id", params={"prefix": "VAL-"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["error"]["code"] == "auth"
    with server.client("vera") as vera:
        unknown = vera.get("/values/status")
        assert unknown.status_code == 404
        assert unknown.json()["error"]["hint"] == "complete one of sample_id, subject_id, storage_location"
        for limit in (0, 201, "many"):
            refused = vera.get("/values/sample_id", params={"limit": limit})
            assert refused.status_code == 422, refused.text
            assert set(refused.json()["error"]) >= {"code", "message", "hint"}


def test_the_route_is_described_in_the_openapi_document(server: Server) -> None:
    spec = httpx.get(server.url + "/openapi.json").json()
    route = spec["paths"]["/values/{field}"]["get"]
    assert {p["name"] for p in route["parameters"]} == {"field", "prefix", "limit"}
    assert {"401", "404", "422"} <= set(route["responses"])
