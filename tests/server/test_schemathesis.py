"""Property tests from the API's own description: no 5xx, and every answer matches its documented schema.

Schemathesis generates requests for every operation in /openapi.json (a bounded number per operation,
to keep CI short) and sends them, as an admin, to a real server of this module's own.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.conftest import Server, start_server

EXAMPLES = 12  # per operation
pytestmark = pytest.mark.slow  # a server of its own and ~300 requests


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("schemathesis"))
    with running.client("tina") as tina:
        tina.post("/samples", json={"sample_id": "S-1", "sample_type": "blood", "subject_id": "SUBJ-1",
                                    "collection_date": "2025-01-01", "storage_location": "FRZ-1"})
    yield running
    running.stop()


def described() -> dict:
    """The description the server publishes (built without opening a store), read at collection time."""
    from samplectl.config import load_settings
    from samplectl.server.app import create_app

    return create_app(load_settings()).openapi()


schema = schemathesis.openapi.from_dict(described())


def test_the_served_description_is_the_one_tested(api: Server) -> None:
    assert httpx.get(api.url + "/openapi.json").json() == described()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_schema(case: schemathesis.Case, api: Server) -> None:
    case.call_and_validate(
        base_url=api.url,
        headers={"Authorization": f"Bearer {api.token('admin')}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        timeout=60,
    )
