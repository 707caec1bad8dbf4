"""The HTTP client of remote mode on its own: addresses, TLS, the connection, and the server's errors as exit codes.

Each test talks to a real HTTP server on loopback (tests/support/json_server.py) whose answers the test
writes; tests/remote/test_remote_cli.py runs the commands against a real `samplectl serve`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from samplectl.domain.errors import ExitCode, SamplectlError
from samplectl.remote.address import server_address
from samplectl.remote.client import ApiClient
from tests.conftest import free_port
from tests.support.json_server import Seen, answering, read_body, read_chunks, reply, serving


def client_at(url: str, **kwargs: Any) -> ApiClient:
    return ApiClient(server_address(url), **kwargs)


def raised(call: Any, *args: Any, **kwargs: Any) -> SamplectlError:
    with pytest.raises(SamplectlError) as caught:
        call(*args, **kwargs)
    return caught.value


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
    error = raised(server_address, url)
    assert error.exit_code == ExitCode.INVALID
    assert says in error.message
    assert "alice:pw" not in error.message


# -- the server's answers ---------------------------------------------------------------------------------
def envelope(status: int, code: str, message: str, hint: str | None = None, details: list[Any] | None = None) -> Any:
    body: dict[str, Any] = {"error": {"code": code, "message": message, "details": details or []}}
    if hint:
        body["error"]["hint"] = hint
    return lambda handler, request: reply(handler, status, body)


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
    with serving(envelope(status, code, f"it went wrong ({status})", hint="do this", details=[{"line": 2}])) as (url, _):
        error = raised(client_at(url).request, "GET", "/samples/x")
    assert (error.exit_code, error.code, error.message, error.details) == (exit_code, code, f"it went wrong ({status})",
                                                                           [{"line": 2}])
    assert error.hint == "do this"


def test_a_401_without_a_hint_gets_the_login_hint() -> None:
    with serving(envelope(401, "auth", "this login has ended (logged out)")) as (url, _):
        error = raised(client_at(url, token="t0ken").request, "GET", "/me")
    assert error.exit_code == ExitCode.AUTH
    assert error.hint == "run samplectl login"


def test_a_401_for_a_token_from_the_environment_names_the_variable() -> None:
    with serving(envelope(401, "auth", "your login has expired", hint="run samplectl login")) as (url, _):
        error = raised(client_at(url, token="t0ken", token_from_env=True).request, "GET", "/me")
    assert error.message == "SAMPLECTL_TOKEN: your login has expired"
    assert "SAMPLECTL_TOKEN" in (error.hint or "")


def test_an_error_answer_with_a_report_is_handed_back_when_asked() -> None:
    """An import's or a verify's 422 carries a summary beside the error: raise_errors=False hands it back."""
    body = {"error": {"code": "invalid", "message": "2 rows were refused"}, "summary": {"inserted": 0}}
    with serving(lambda handler, request: reply(handler, 422, body)) as (url, _):
        client = client_at(url)
        response = client.request("GET", "/audit/verify", raise_errors=False)
        assert (response.status_code, response.is_error, response.json()["summary"]) == (422, True, {"inserted": 0})
        assert client.error_of(response).exit_code == ExitCode.INVALID


def test_an_answer_that_is_not_the_servers_envelope_is_reported_not_misread() -> None:
    # Not a samplectl server there (another web server, a proxy's page): none can be reached, exit 8.
    with serving(lambda handler, request: reply(handler, 404, text="<html>nginx</html>")) as (url, _):
        error = raised(client_at(url).request, "GET", "/samples/x")
    assert error.exit_code == ExitCode.DATABASE
    assert "answered status 404 to GET /samples/x" in error.message
    with serving(lambda handler, request: reply(handler, 502, text="Bad Gateway")) as (url, _):
        error = raised(client_at(url).request, "GET", "/samples/x")
    assert error.exit_code == ExitCode.DATABASE
    assert "is not available (502)" in error.message
    with serving(lambda handler, request: reply(handler, 200, text="<html>welcome</html>")) as (url, _):
        error = raised(client_at(url).json, "GET", "/samples/x")
    assert error.exit_code == ExitCode.DATABASE
    assert "answered an answer that is not JSON to GET /samples/x" in error.message


@pytest.mark.parametrize("body, says", [({}, "answered JSON without username, role to GET /me"),
                                        ([1], "answered JSON that is not an object to GET /me"),
                                        (None, "answered JSON that is not an object to GET /me")])
def test_json_that_a_samplectl_server_would_not_answer_is_exit_8(body: Any, says: str) -> None:
    with serving(lambda handler, request: reply(handler, 200, body)) as (url, _):
        error = raised(client_at(url).json_object, "GET", "/me", keys=("username", "role"))
    assert error.exit_code == ExitCode.DATABASE
    assert says in error.message
    assert error.hint == "check that SAMPLECTL_SERVER is a samplectl server of the same version; its log says more"


def test_a_server_that_does_not_speak_http_is_exit_8() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def babble() -> None:
            peer, _ = listener.accept()
            with peer:
                peer.recv(65536)
                peer.sendall(b"220 smtp.lab.example ESMTP ready\r\n")

        threading.Thread(target=babble, daemon=True).start()
        error = raised(client_at(f"http://127.0.0.1:{listener.getsockname()[1]}").request, "GET", "/me")
    assert error.exit_code == ExitCode.DATABASE
    assert error.message.startswith("cannot talk to the samplectl server at http://127.0.0.1:")


# -- what is sent -----------------------------------------------------------------------------------------
def test_every_request_carries_the_token_and_a_user_agent_on_one_kept_alive_connection() -> None:
    with serving(lambda handler, request: reply(handler, 200, {"ok": True})) as (url, seen):
        client = client_at(url, token="abc.def.ghi")
        assert client.json("GET", "/me") == {"ok": True}
        assert client.json("GET", "/samples/S-1") == {"ok": True}
    assert [request.headers["Authorization"] for request in seen] == ["Bearer abc.def.ghi"] * 2
    assert seen[0].headers["User-Agent"].startswith("samplectl/")
    assert seen[0].client_port == seen[1].client_port  # one connection, not one per request


def test_json_bodies_forms_queries_and_a_path_prefix_reach_the_server_as_sent() -> None:
    def echo(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        reply(handler, 200, {"type": handler.headers.get("Content-Type"), "body": read_body(handler, request).decode()})

    with serving(echo) as (url, seen):
        client = client_at(url + "/lab/")
        sent = client.json("PATCH", "/samples/S 1", json={"status": "processed", "note": "µl"},
                           params=[("a", "x y"), ("a", "é")], headers={"If-Match": '"3"'})
        form = client.json("POST", "/token", data={"username": "ana", "password": "p&ss word"})
    assert sent == {"type": "application/json", "body": '{"status":"processed","note":"µl"}'}
    assert form == {"type": "application/x-www-form-urlencoded", "body": "username=ana&password=p%26ss+word"}
    assert seen[0].path == "/lab/samples/S%201?a=x+y&a=%C3%A9"
    assert seen[0].headers["If-Match"] == '"3"'
    assert seen[1].path == "/lab/token"


def test_a_next_page_link_is_followed_on_this_server_only() -> None:
    def paged(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        link = '<http://elsewhere.example:9/samples?after=S-2&limit=2>; rel="next"' if "after" not in request.path else ""
        reply(handler, 200, [request.path], headers={"Link": link} if link else {})

    with serving(paged) as (url, seen):
        client = client_at(url)
        first = client.request("GET", "/samples", params={"limit": 2})
        assert first.next_link == "http://elsewhere.example:9/samples?after=S-2&limit=2"
        second = client.request("GET", first.next_link)
        assert second.next_link is None
    assert [request.path for request in seen] == ["/samples?limit=2", "/samples?after=S-2&limit=2"]


def test_an_upload_is_sent_piece_by_piece_as_it_is_read() -> None:
    """Chunked: the server has the first piece before the client reads the second (memory flat on big imports)."""
    first_arrived = threading.Event()

    def receive(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        pieces = []
        for piece in read_chunks(handler):
            pieces.append(piece)
            first_arrived.set()
        reply(handler, 200, {"pieces": [piece.decode() for piece in pieces]})

    def upload() -> Iterator[bytes]:
        yield b"sample_id\nS-1\n"
        assert first_arrived.wait(10), "the first piece had not been sent before the second was read"
        yield b"S-2\n"

    with serving(receive) as (url, seen):
        answer = client_at(url, timeout_ms=300).json("POST", "/imports", content=upload(), long=True,
                                                     headers={"Content-Type": "text/csv"})
    assert answer == {"pieces": ["sample_id\nS-1\n", "S-2\n"]}
    assert seen[0].headers["Transfer-Encoding"] == "chunked"
    assert seen[0].headers["Content-Type"] == "text/csv"


# -- what is read back ------------------------------------------------------------------------------------
def chunked_lines(handler: BaseHTTPRequestHandler, lines: list[bytes], between: Any = None, end: bool = True) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/x-ndjson")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for number, line in enumerate(lines):
        if number and between is not None:
            between()
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
        handler.wfile.flush()
    if end:
        handler.wfile.write(b"0\r\n\r\n")
    else:
        handler.close_connection = True  # the server goes away mid-answer


def test_a_streamed_answer_is_read_line_by_line_as_it_arrives() -> None:
    first_read = threading.Event()

    def export(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        if request.path == "/me":
            return reply(handler, 200, {"ok": True})
        chunked_lines(handler, [b'{"n": 1}\n{"n"', b': 2}\r\n', b'{"n": 3}\n'],
                      between=lambda: first_read.wait(10))

    with serving(export) as (url, seen):
        client = client_at(url, timeout_ms=300)
        got = []
        with client.lines("GET", "/exports", params={"format": "jsonl"}) as lines:
            for line in lines:
                got.append(line)
                first_read.set()  # the server sends the rest only now: nothing waited for the whole answer
        assert got == ['{"n": 1}', '{"n": 2}', '{"n": 3}']
        assert client.json("GET", "/me") == {"ok": True}  # the connection is free again afterwards
    assert seen[0].path == "/exports?format=jsonl"
    assert seen[1].client_port == seen[0].client_port


def test_a_streamed_answer_refused_is_the_servers_error() -> None:
    with (serving(envelope(403, "permission_denied", "admins only")) as (url, _), pytest.raises(SamplectlError) as caught,
          client_at(url).lines("GET", "/audit") as lines):
        list(lines)
    assert (caught.value.exit_code, caught.value.message) == (ExitCode.PERMISSION, "admins only")


def test_a_connection_that_breaks_off_midway_is_exit_8_after_what_arrived() -> None:
    with serving(lambda handler, request: chunked_lines(handler, [b"[\n", b'{"seq": 1},\n'], end=False)) as (url, _):
        got: list[str] = []
        with pytest.raises(SamplectlError) as caught, client_at(url).lines("GET", "/audit") as lines:
            got.extend(lines)
    assert got == ["[", '{"seq": 1},']
    assert caught.value.exit_code == ExitCode.DATABASE
    assert caught.value.message.startswith("the connection to the samplectl server at http://127.0.0.1:")
    assert "broke off" in caught.value.message
    assert caught.value.hint == "check that the server is still running, then try again"


def test_a_server_that_closes_the_connection_without_answering_is_exit_8() -> None:
    def hang_up(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        handler.close_connection = True

    with serving(hang_up) as (url, _):
        error = raised(client_at(url).request, "GET", "/me")
    assert error.exit_code == ExitCode.DATABASE
    assert "broke off" in error.message


def test_a_connection_the_server_closed_while_idle_is_opened_again() -> None:
    """uvicorn closes a kept-alive connection after 5 s idle (a confirmation prompt can take longer)."""
    def answer_then_close(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        reply(handler, 200, {"n": len(seen)})
        handler.close_connection = True  # without saying so (no Connection: close)

    with serving(answer_then_close) as (url, seen):
        client = client_at(url)
        assert client.json("GET", "/me") == {"n": 1}
        time.sleep(0.2)  # the server has closed it by now
        assert client.json("GET", "/me") == {"n": 2}
    assert seen[0].client_port != seen[1].client_port


# -- time and reachability --------------------------------------------------------------------------------
def test_a_refused_connection_is_exit_8_at_once() -> None:
    client = client_at(f"http://127.0.0.1:{free_port()}", timeout_ms=3000)
    started = time.monotonic()
    error = raised(client.request, "GET", "/healthz")
    assert error.exit_code == ExitCode.DATABASE
    assert error.message.startswith("cannot reach the samplectl server at http://127.0.0.1:")
    assert "Connection refused" in error.message
    assert error.hint == "check SAMPLECTL_SERVER (config: server) and that the server is running"
    assert time.monotonic() - started < 3


def test_a_server_that_never_answers_is_exit_8_within_the_timeout() -> None:
    with socket.socket() as listener:  # accepts connections, never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = client_at(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_ms=300)
        started = time.monotonic()
        error = raised(client.request, "GET", "/samples/x")
    assert error.exit_code == ExitCode.DATABASE
    assert "did not answer within 0.3 s" in error.message
    assert "server_timeout_ms" in (error.hint or "")
    assert time.monotonic() - started < 2


def test_long_work_on_the_server_is_waited_for_beyond_the_timeout() -> None:
    """Imports, bulk updates and exports (long=True) wait as long as the server works; other requests do not."""
    def slow(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        read_body(handler, request)
        time.sleep(0.8)
        reply(handler, 200, {"done": True})

    with serving(slow) as (url, _):
        client = client_at(url, timeout_ms=200)
        assert client.json("POST", "/samples/update-where", json={}, long=True) == {"done": True}
        error = raised(client.json, "POST", "/samples/update-where", json={})
    assert error.exit_code == ExitCode.DATABASE
    assert "did not answer within 0.2 s" in error.message


# -- TLS ----------------------------------------------------------------------------------------------------
def test_an_unreadable_ca_bundle_is_invalid_input(tmp_path: Any) -> None:
    error = raised(ApiClient, server_address("https://samples.lab.example"), ca_bundle=str(tmp_path / "missing.pem"))
    assert error.exit_code == ExitCode.INVALID
    assert "SAMPLECTL_CA_BUNDLE" in error.message


def test_a_certificate_no_trusted_ca_signed_is_refused(tmp_path: Any) -> None:
    """TLS is verified by default: a self-signed server certificate fails (exit 8) with the CA-bundle hint."""
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    with answering({"status": "ok"}, authority=authority) as (url, seen):
        error = raised(client_at(url).json, "GET", "/healthz")
        assert error.exit_code == ExitCode.DATABASE
        assert "TLS certificate that could not be verified" in error.message
        assert "SAMPLECTL_CA_BUNDLE" in (error.hint or "")
        assert seen == []
        bundle = tmp_path / "lab-ca.pem"
        authority.cert_pem.write_to_path(str(bundle))
        assert client_at(url, ca_bundle=str(bundle)).json("GET", "/healthz") == {"status": "ok"}


def test_an_upload_the_server_refuses_midway_is_the_servers_error_not_a_broken_connection() -> None:
    """A server may answer before it has read the whole body (413: too large) and close: its answer is the error."""
    def refuse(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        handler.rfile.read(1000)
        reply(handler, 413, {"error": {"code": "too_large", "message": "the request body is larger than 1000 bytes"}},
              headers={"Connection": "close"})
        time.sleep(0.2)  # the answer is on its way before the connection is closed on the unread body
        handler.close_connection = True

    def upload() -> Iterator[bytes]:
        for _ in range(400):
            yield b"x" * 65536

    with serving(refuse) as (url, _):
        error = raised(client_at(url).request, "POST", "/imports", content=upload(), long=True)
    assert (error.exit_code, error.message) == (ExitCode.INVALID, "the request body is larger than 1000 bytes")


def test_a_streamed_answer_left_before_its_end_leaves_the_client_usable() -> None:
    def answer(handler: BaseHTTPRequestHandler, request: Seen) -> None:
        if request.path == "/me":
            return reply(handler, 200, {"ok": True})
        chunked_lines(handler, [b"%d\n" % n for n in range(1000)])

    with serving(answer) as (url, _):
        client = client_at(url)
        with client.lines("GET", "/exports") as lines:
            assert next(lines) == "0"
        assert client.json("GET", "/me") == {"ok": True}
