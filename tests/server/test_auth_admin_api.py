"""Login, me, logout, the admins' routes (audit, verify, users), health, metrics and the API's description."""

from __future__ import annotations

import httpx

from tests.login_support import claims_of, forge
from tests.server.conftest import PASSWORDS, Server, sample


def test_token_and_login_issue_a_bearer_token(server: Server) -> None:
    for route in ("/token", "/login"):
        answer = httpx.post(server.url + route, data={"username": "vera", "password": PASSWORDS["vera"]})
        assert answer.status_code == 200
        body = answer.json()
        assert set(body) == {"access_token", "token_type", "expires_at"} and body["token_type"] == "bearer"
        assert body["expires_at"].endswith("Z") and claims_of(body["access_token"])["sub"] == "vera"
    wrong = httpx.post(server.url + "/token", data={"username": "vera", "password": "nope-nope-nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert wrong.json()["error"] == {"code": "auth", "message": "wrong username or password", "details": [],
                                     "hint": "check both and try again"}
    assert httpx.post(server.url + "/token", data={"username": "vera"}).status_code == 422
    assert httpx.post(server.url + "/token", json={"username": "vera", "password": "x"}).status_code == 422


def test_me_needs_a_valid_token_and_logout_revokes_it(server: Server) -> None:
    assert httpx.get(server.url + "/me").status_code == 401
    token = httpx.post(server.url + "/token", data={"username": "tina", "password": PASSWORDS["tina"]}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = httpx.get(server.url + "/me", headers=headers)
    assert me.status_code == 200 and me.json()["username"] == "tina" and me.json()["role"] == "technician"
    assert "sqlite" not in me.text and "users.db" not in me.text  # where the users database is stays on the server
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    refused = httpx.get(server.url + "/me", headers={"Authorization": f"Bearer {tampered}"})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    # A token signed with a guessed secret, claiming admin: refused too.
    forged = forge({**claims_of(token), "role": "admin", "sub": "admin"}, "guessed-secret-guessed-secret-guessed!")
    assert httpx.get(server.url + "/audit", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert httpx.get(server.url + "/me", headers={"Authorization": "Basic dGluYTp4"}).status_code == 401
    assert httpx.post(server.url + "/logout", headers=headers).status_code == 204
    after = httpx.get(server.url + "/me", headers=headers)
    assert after.status_code == 401 and "logged out" in after.json()["error"]["message"]


def test_audit_records_written_through_the_server_name_the_client(server: Server) -> None:
    with server.client("tina", headers={"User-Agent": "lab-robot/2.1"}) as tina:
        tina.post("/samples", json=sample("AUD-1"))
    with server.client("admin") as admin:
        entries = admin.get("/audit", params={"sample_id": "AUD-1"}).json()
        assert len(entries) == 1
        assert entries[0]["client"] == {"address": "127.0.0.1", "user_agent": "lab-robot/2.1"}
        assert entries[0]["action"] == "create" and entries[0]["user"] == "tina" and entries[0]["seq"] >= 1
        logins = admin.get("/audit", params={"action": "login", "user": "tina"}).json()
        assert logins and logins[-1]["client"]["address"] == "127.0.0.1"
        assert admin.get("/audit", params={"limit": 0}).status_code == 422
        assert admin.get("/audit", params={"since": "soon"}).status_code == 422
        verify = admin.get("/audit/verify")
        assert verify.status_code == 200 and verify.json()["ok"] is True and verify.json()["records"] > 0
    with server.client("tina") as tina:
        assert tina.get("/audit").status_code == 403
        assert tina.get("/audit/verify").status_code == 403


def test_users_are_managed_by_admins_only(server: Server) -> None:
    with server.client("admin") as admin, server.client("tina") as tina:
        assert tina.get("/users").status_code == 403
        assert tina.post("/users", json={"username": "mallory", "role": "admin", "password": "x" * 12}).status_code == 403
        listed = admin.get("/users").json()
        assert {"admin", "tina", "vera"} <= {u["username"] for u in listed}
        assert all("password" not in key for u in listed for key in u if key != "password_changed_at")
        added = admin.post("/users", json={"username": "sam", "role": "viewer", "password": "sam-pass-1234"})
        assert added.status_code == 201 and added.json()["role"] == "viewer"
        assert admin.post("/users", json={"username": "sam", "role": "viewer", "password": "sam-pass-1234"}).status_code == 409
        assert admin.post("/users", json={"username": "sue", "role": "boss", "password": "sue-pass-1234"}).status_code == 422
        promoted = admin.patch("/users/sam", json={"role": "technician"})
        assert promoted.status_code == 200 and promoted.json()["role"] == "technician"
        assert admin.patch("/users/nobody", json={"active": False}).status_code == 404
        assert admin.patch("/users/sam", json={}).status_code == 400
        sam = httpx.post(server.url + "/token", data={"username": "sam", "password": "sam-pass-1234"}).json()["access_token"]
        headers = {"Authorization": f"Bearer {sam}"}
        assert httpx.post(server.url + "/users/sam/password", headers=headers,
                          json={"new_password": "sam-new-pass-1", "current_password": "wrong-one"}).status_code == 401
        changed = httpx.post(server.url + "/users/sam/password", headers=headers,
                             json={"new_password": "sam-new-pass-1", "current_password": "sam-pass-1234"})
        assert changed.status_code == 200 and changed.json()["username"] == "sam"
        assert httpx.get(server.url + "/me", headers=headers).status_code == 401  # the old login ended
        assert admin.patch("/users/sam", json={"active": False}).json()["active"] is False
        assert httpx.post(server.url + "/token", data={"username": "sam", "password": "sam-new-pass-1"}).status_code == 401


def test_there_is_no_open_registration(server: Server) -> None:
    # Without a token, adding an account is a 401 like everything else; no other route adds one.
    answer = httpx.post(server.url + "/users", json={"username": "eve", "role": "admin", "password": "eve-pass-1234"})
    assert answer.status_code == 401
    spec = httpx.get(server.url + "/openapi.json").json()
    adds = [(path, method) for path, methods in spec["paths"].items() for method in methods
            if method == "post" and "user" in path and path != "/users/{username}/password"]
    assert adds == [("/users", "post")]


def test_health_readiness_metrics_and_description(server: Server) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(server.url + "/readyz").json() == {"status": "ok"}
    httpx.post(server.url + "/token", data={"username": "vera", "password": "not-her-password"})
    metrics = httpx.get(server.url + "/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'samplectl_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "samplectl_http_request_duration_seconds_bucket" in text
    assert "samplectl_rows_imported_total" in text
    failed = [line for line in text.splitlines() if line.startswith("samplectl_logins_failed_total")]
    assert failed and float(failed[0].split()[-1]) >= 1
    spec = httpx.get(server.url + "/openapi.json").json()
    for path in ("/token", "/login", "/me", "/logout", "/samples", "/samples/count", "/samples/{sample_id}",
                 "/samples/{sample_id}/history", "/samples/update-where", "/imports", "/imports/{batch_id}",
                 "/exports", "/audit", "/audit/verify", "/users", "/healthz", "/readyz", "/metrics"):
        assert path in spec["paths"], path
    docs = httpx.get(server.url + "/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
