"""Hostile-network basics: body limits, headers, CORS, login throttling, 503s, no tracebacks, TLS, bind refusal."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.server.conftest import PASSWORDS, Server, sample, server_env, start_server


def test_json_bodies_are_limited_to_one_mebibyte(server: Server) -> None:
    with server.client("tina") as tina:
        big = tina.post("/samples", json=sample("BIG-1", reason="x" * (1024 * 1024 + 10)))
        assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"

        def chunked():  # no Content-Length: counted as it arrives
            yield b'{"sample_id": "BIG-2", "reason": "'
            for _ in range(70):
                yield b"y" * 16384
            yield b'"}'

        streamed = tina.post("/samples", content=chunked(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413
        assert tina.get("/samples/BIG-1").status_code == 404
        too_long_login = httpx.post(server.url + "/token", data={"username": "tina", "password": "p" * 2_000_000})
        assert too_long_login.status_code == 413


def test_security_headers_and_no_cors_unless_configured(server: Server) -> None:
    answer = httpx.get(server.url + "/healthz", headers={"Origin": "https://evil.example"})
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "access-control-allow-origin" not in answer.headers
    assert "server" not in answer.headers  # no software banner
    preflight = httpx.options(server.url + "/samples", headers={"Origin": "https://evil.example",
                                                                 "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.slow  # a server of its own
def test_cors_is_allowed_for_configured_origins_only(tmp_path: Path) -> None:
    running = start_server(tmp_path, args=["--cors-origin", "https://lims.lab.example"])
    try:
        ok = httpx.get(running.url + "/healthz", headers={"Origin": "https://lims.lab.example"})
        assert ok.headers["access-control-allow-origin"] == "https://lims.lab.example"
        other = httpx.get(running.url + "/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    finally:
        running.stop()


@pytest.mark.slow  # a server of its own
def test_failed_logins_from_one_address_are_throttled_across_accounts(fresh_server: Server) -> None:
    # Password spraying: a different account each time, so no account lockout ever triggers.
    statuses = [httpx.post(fresh_server.url + "/token", data={"username": f"user{i}", "password": "guess-guess"}).status_code
                for i in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    refused = httpx.post(fresh_server.url + "/token", data={"username": "vera", "password": PASSWORDS["vera"]})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert refused.json()["error"]["code"] == "too_many_attempts"
    # Tokens already issued keep working: only logging in is throttled.
    with fresh_server.client("admin") as admin:  # its token was issued before the spraying
        assert admin.get("/me").status_code == 200


@pytest.mark.slow  # a server of its own
def test_an_unreachable_store_is_503_and_not_ready(tmp_path: Path) -> None:
    running = Server(tmp_path, server_env(tmp_path))
    running.init()
    running.start()
    token = running.token("admin")  # logins are audited in the sample store: log in while it is there
    running.stop()
    running.env.update(SAMPLECTL_MONGODB_URI="mongodb://127.0.0.1:9/?directConnection=true",
                       SAMPLECTL_SERVER_TIMEOUT_MS="300")
    running.start()
    try:
        login = httpx.post(running.url + "/token", data={"username": "admin", "password": PASSWORDS["admin"]})
        assert login.status_code == 503
        ready = httpx.get(running.url + "/readyz")
        assert ready.status_code == 503 and ready.json()["error"]["code"] == "database_unavailable"
        listed = httpx.get(running.url + "/samples", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 503
        assert "Traceback" not in listed.text
        # Where the databases are stays on the server: the answer names none of it.
        for answer in (ready, listed, login):
            assert "127.0.0.1:9" not in answer.text and "mongodb" not in answer.text.lower()
        assert running.log is not None and "127.0.0.1:9" in running.log.read_text()
    finally:
        running.stop()


def test_unexpected_errors_are_500_without_a_traceback() -> None:
    from fastapi.testclient import TestClient

    from samplectl.config import load_settings
    from samplectl.server.app import create_app

    app = create_app(load_settings())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail at /srv/samplectl/internal.py")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    assert answer.status_code == 500
    assert answer.json() == {"error": {"code": "unexpected", "message": "unexpected error", "details": [],
                                       "hint": "the server's log has the details"}}


def test_one_json_log_line_per_request_without_tokens_or_bodies(server: Server) -> None:
    token = server.token("tina")
    with server.client("tina") as tina:
        tina.post("/samples", json=sample("LOG-1", subject_id="SUBJ-SECRET-BODY"))
        tina.get("/samples/LOG-1", params={"status": "collected"})
    assert server.log is not None
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if "route" in line]
    created = [line for line in requests if line["route"] == "/samples" and line["method"] == "POST"]
    assert created and created[-1]["status"] == 201 and created[-1]["user"] == "tina"
    assert set(created[-1]) == {"time", "method", "route", "status", "duration_ms", "user", "client"}
    text = server.log.read_text()
    assert token not in text and "SUBJ-SECRET-BODY" not in text and PASSWORDS["tina"] not in text


def run_serve(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "samplectl", "serve", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "lab-server.example"])
def test_a_public_address_without_tls_is_refused(tmp_path: Path, host: str) -> None:
    done = run_serve("--host", host, "--port", "1", env=server_env(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: refusing to serve on {host} without TLS")
    assert "--behind-proxy" in done.stderr


def test_behind_proxy_or_tls_allows_a_public_address() -> None:
    from samplectl.server.run import ServeOptions, check, is_loopback

    check(ServeOptions(host="0.0.0.0", behind_proxy=True))
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5")


def test_certfile_needs_keyfile(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    done = run_serve("--certfile", str(cert), env=server_env(tmp_path))
    assert done.returncode == 2 and "--certfile and --keyfile go together" in done.stderr


@pytest.mark.slow  # a server of its own
def test_tls_serves_https(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   capture_output=True, check=True, timeout=60)
    running = Server(tmp_path, server_env(tmp_path), args=["--certfile", str(cert), "--keyfile", str(key)])
    running.init()
    running.port = free_port()
    running.proc = subprocess.Popen([sys.executable, "-m", "samplectl", "serve", "--port", str(running.port),
                                     *running.args], env=running.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"https://127.0.0.1:{running.port}/healthz", verify=trust)
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{running.port}/healthz", timeout=2)
    finally:
        running.stop()
