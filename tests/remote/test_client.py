"""The HTTP client of remote mode on its own: addresses, TLS, and the server's errors as exit codes.

The network is an httpx MockTransport here; tests/remote/test_remote_cli.py runs a real server.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from samplectl.domain.errors import ExitCode, SamplectlError
from samplectl.remote.address import server_address
from samplectl.remote.client import ApiClient
from tests.conftest import free_port
from tests.support.json_server import answering


def client_for(handler: Any, url: str = "https://samples.lab.example", **kwargs: Any) -> ApiClient:
    return ApiClient(server_address(url), transport=httpx.MockTransport(handler), **kwargs)


def envelope(status: int, code: str, message: str, hint: str | None = None, details: list[Any] | None = None) -> Any:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "details": details or []}}
    if hint:
        body["error"]["hint"] = hint
    return lambda request: httpx.Response(status, json=body)


@pytest.mark.parametrize("url, canonical", [
    ("https://samples.lab.example/", "https://samples.lab.example"),
    ("HTTPS://Samples.Lab.Example:8443/api/", "https://samples.lab.example:8443/api"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://localhost:8000", "http://localhost:8000"),
    ("http://[::1]:8000/", "http://[::1]:8000"),
    ("http://127.8.9.10", "http://127.8.9.10"),
])
def test_a_usable_server_url_is_kept_in_one_canonical_form(url: str, canonical: str) -> None:
    assert server_address(url).url == canonical


@pytest.mark.parametrize("url, says", [
    ("http://samples.lab.example", "plain http:// to another machine"),
    ("http://10.0.0.5:8000", "plain http:// to another machine"),
    ("http://127.0.0.1.nip.io", "plain http:// to another machine"),
    ("ftp://samples.lab.example", "is not an http(s) URL"),
    ("samples.lab.example", "is not an http(s) URL"),
    ("https://", "is not an http(s) URL"),
    ("https://alice:pw@samples.lab.example", "must not carry a user name or password"),
    ("https://samples.lab.example:99999", "is not a URL"),
])
def test_an_unusable_server_url_is_invalid_input_naming_why(url: str, says: str) -> None:
    with pytest.raises(SamplectlError) as caught:
        server_address(url)
    assert caught.value.exit_code == ExitCode.INVALID
    assert says in caught.value.message
    assert "pw" not in caught.value.message or "alice:pw" not in caught.value.message


@pytest.mark.parametrize("status, code, exit_code", [
    (400, "usage", ExitCode.USAGE),
    (401, "auth", ExitCode.AUTH),
    (403, "permission_denied", ExitCode.PERMISSION),
    (404, "not_found", ExitCode.NOT_FOUND),
    (409, "conflict", ExitCode.CONFLICT),
    (412, "conflict", ExitCode.CONFLICT),
    (413, "too_large", ExitCode.INVALID),
    (422, "invalid", ExitCode.INVALID),
    (500, "unexpected", ExitCode.UNEXPECTED),
    (503, "database_unavailable", ExitCode.DATABASE),
])
def test_each_status_of_the_contract_is_the_local_exit_code_with_the_servers_words(
    status: int, code: str, exit_code: ExitCode
) -> None:
    client = client_for(envelope(status, code, f"it went wrong ({status})", hint="do this",
                                 details=[{"line": 2}]))
    with pytest.raises(SamplectlError) as caught:
        client.request("GET", "/samples/x")
    error = caught.value
    assert (error.exit_code, error.code, error.message, error.details) == (exit_code, code, f"it went wrong ({status})",
                                                                           [{"line": 2}])
    assert error.hint == "do this"


def test_a_401_without_a_hint_gets_the_login_hint() -> None:
    client = client_for(envelope(401, "auth", "this login has ended (logged out)"), token="t0ken")
    with pytest.raises(SamplectlError) as caught:
        client.request("GET", "/me")
    assert caught.value.exit_code == ExitCode.AUTH
    assert caught.value.hint == "run samplectl login"


def test_a_401_for_a_token_from_the_environment_names_the_variable() -> None:
    client = client_for(envelope(401, "auth", "your login has expired", hint="run samplectl login"),
                        token="t0ken", token_from_env=True)
    with pytest.raises(SamplectlError) as caught:
        client.request("GET", "/me")
    assert caught.value.message == "SAMPLECTL_TOKEN: your login has expired"
    assert "SAMPLECTL_TOKEN" in (caught.value.hint or "")


def test_an_answer_that_is_not_the_servers_envelope_is_reported_not_misread() -> None:
    client = client_for(lambda request: httpx.Response(404, text="<html>nginx</html>"))
    with pytest.raises(SamplectlError) as caught:
        client.request("GET", "/samples/x")
    assert caught.value.exit_code == ExitCode.UNEXPECTED
    assert "answered status 404 to GET /samples/x" in caught.value.message
    proxy = client_for(lambda request: httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(SamplectlError) as caught:
        proxy.request("GET", "/samples/x")
    assert caught.value.exit_code == ExitCode.DATABASE


def test_every_request_carries_the_token_and_a_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    client_for(handler, token="abc.def.ghi").json("GET", "/me")
    assert seen[0].headers["authorization"] == "Bearer abc.def.ghi"
    assert seen[0].headers["user-agent"].startswith("samplectl/")


def test_a_refused_connection_is_exit_8_at_once() -> None:
    client = ApiClient(server_address(f"http://127.0.0.1:{free_port()}"), timeout_ms=3000)
    started = time.monotonic()
    with pytest.raises(SamplectlError) as caught:
        client.request("GET", "/healthz")
    assert caught.value.exit_code == ExitCode.DATABASE
    assert caught.value.message.startswith("cannot reach the samplectl server at http://127.0.0.1:")
    assert time.monotonic() - started < 3


def test_a_server_that_never_answers_is_exit_8_within_the_timeout() -> None:
    import socket

    with socket.socket() as listener:  # accepts connections, never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        client = ApiClient(server_address(f"http://127.0.0.1:{port}"), timeout_ms=300)
        started = time.monotonic()
        with pytest.raises(SamplectlError) as caught:
            client.request("GET", "/samples/x")
    assert caught.value.exit_code == ExitCode.DATABASE
    assert "did not answer within 0.3 s" in caught.value.message
    assert time.monotonic() - started < 2


def test_an_unreadable_ca_bundle_is_invalid_input(tmp_path: Any) -> None:
    with pytest.raises(SamplectlError) as caught:
        ApiClient(server_address("https://samples.lab.example"), ca_bundle=str(tmp_path / "missing.pem"))
    assert caught.value.exit_code == ExitCode.INVALID
    assert "SAMPLECTL_CA_BUNDLE" in caught.value.message


def test_a_certificate_no_trusted_ca_signed_is_refused(tmp_path: Any) -> None:
    """TLS is verified by default: a self-signed server certificate fails (exit 8) with the CA-bundle hint."""
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    with answering({"status": "ok"}, authority=authority) as (url, _):
        with pytest.raises(SamplectlError) as caught:
            ApiClient(server_address(url)).json("GET", "/healthz")
        assert caught.value.exit_code == ExitCode.DATABASE
        assert "TLS certificate that could not be verified" in caught.value.message
        assert "SAMPLECTL_CA_BUNDLE" in (caught.value.hint or "")
        bundle = tmp_path / "lab-ca.pem"
        authority.cert_pem.write_to_path(str(bundle))
        assert ApiClient(server_address(url), ca_bundle=str(bundle)).json("GET", "/healthz") == {"status": "ok"}
