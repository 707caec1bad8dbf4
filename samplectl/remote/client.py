"""The HTTP client of remote mode: one connection to the server, its errors as the CLI's own.

The one place that speaks HTTP to a samplectl server, for the commands and for a TAB
(``remote.values``). It is built on the standard library's ``http.client`` rather than httpx: remote
mode makes a few requests to one server, which ``http.client`` does as well (one keep-alive
connection, chunked uploads, streamed answers, TLS through ``ssl``), and importing httpx with
httpcore, h11 and the parts of the standard library they pull in cost ~45 ms of every remote
command's start-up (issue 13: ``samplectl get ID`` within 150 ms of CPU; docs/benchmarks.md#start-up).
HTTP itself (status lines, headers, chunks) is ``http.client``'s; this module adds the address and
TLS rules of ``remote.address``, the timeouts, and the mapping of errors.

The server answers errors as ``{"error": {"code", "message", "details", "hint"}}`` with the
contract's status codes; they become the same typed errors (and so the same exit codes, ``error:``
and ``hint:`` lines) a local store would have raised. A server that cannot be reached, does not
answer in time, drops the connection, or answers what a samplectl server would not (no envelope,
not JSON: another web server) is exit 8.
"""

from __future__ import annotations

import http.client
import io
import json as jsonlib
import re
import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from samplectl import __version__
from samplectl.domain.errors import (
    AuthError,
    Conflict,
    DatabaseUnavailable,
    NotFound,
    PermissionDenied,
    SamplectlError,
    UsageError,
    ValidationFailed,
)
from samplectl.domain.identity import ENV_HINT, LOGIN_HINT
from samplectl.remote.address import ServerAddress, tls_context

# The contract's status codes, as the errors (and exit codes) a local store raises.
STATUS_ERRORS: dict[int, type[SamplectlError]] = {
    400: UsageError,
    401: AuthError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    412: Conflict,
    413: ValidationFailed,
    422: ValidationFailed,
    502: DatabaseUnavailable,  # a proxy in front of the server could not reach it
    503: DatabaseUnavailable,
    504: DatabaseUnavailable,
}

Params = Mapping[str, Any] | Sequence[tuple[str, str]] | None


@dataclass(frozen=True)
class Response:
    """A whole answer of the server: its status, headers and body, and the request it answered."""

    method: str
    path: str
    status_code: int
    headers: Message
    content: bytes

    @property
    def is_error(self) -> bool:
        return self.status_code >= 400

    def json(self) -> Any:
        """The body as JSON (ValueError if it is not)."""
        return jsonlib.loads(self.content)

    @property
    def next_link(self) -> str | None:
        """The target of ``Link: <...>; rel="next"`` (the server's next page), if any."""
        for link in (self.headers.get("Link") or "").split(","):
            target, _, params = link.partition(";")
            if target.strip().startswith("<") and any(
                    param.strip().replace(" ", "") in ('rel="next"', "rel=next") for param in params.split(";")):
                return target.strip()[1:-1]
        return None


class ApiClient:
    """Requests to one samplectl server, as one user (``token``), with the errors mapped.

    One keep-alive connection, opened at the first request and again whenever the server has
    closed it, so one request at a time: a streamed answer (``lines``) is read or left before the
    next request (a request in the middle of one would be refused, exit 8). ``timeout_ms`` bounds
    connecting and each wait for the server; requests that do long work on the server (imports,
    bulk updates, exports) pass ``long=True`` and, once connected, wait as long as it works.
    """

    def __init__(
        self,
        address: ServerAddress,
        *,
        token: str | None = None,
        token_from_env: bool = False,
        timeout_ms: int = 3000,
        ca_bundle: str | None = None,
        user_agent: str = f"samplectl/{__version__}",
    ) -> None:
        self.address = address
        self.token = token
        self.token_from_env = token_from_env
        self.timeout_s = timeout_ms / 1000
        self.headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {_presentable(token, token_from_env)}"
        parts = urlsplit(address.url)
        self.prefix = parts.path  # a server behind a proxy under a path: https://lab.example/samplectl
        host, port = parts.hostname or "", parts.port or (443 if address.https else 80)
        self.connection: http.client.HTTPConnection
        if address.https:
            # TLS only for https://; plain http:// is allowed only to loopback (see address.py),
            # where there is no certificate to check. Loading the CA store costs ~20 ms otherwise.
            self.connection = http.client.HTTPSConnection(host, port, timeout=self.timeout_s,
                                                          context=tls_context(ca_bundle))
        else:
            self.connection = http.client.HTTPConnection(host, port, timeout=self.timeout_s)

    def close(self) -> None:
        self.connection.close()

    # -- requests ---------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: Params = None, json: Any = None,
                data: Mapping[str, str] | None = None, content: Iterable[bytes] | None = None,
                headers: Mapping[str, str] | None = None, long: bool = False, raise_errors: bool = True) -> Response:
        """One request; the response when it succeeded (2xx), else the mapped error is raised.

        The body is ``json`` (a JSON document), ``data`` (a form) or ``content`` (the pieces of an
        upload, sent as they come: chunked). ``raise_errors=False`` hands back an error response
        too, for answers that carry a report beside the error (an import's summary).
        """
        target = self._target(path, params)
        with self.translated():
            answer = self._send(method, target, json, data, content, headers, long)
            response = Response(method, urlsplit(target).path, answer.status, answer.headers, answer.read())
        if response.is_error and (raise_errors or _envelope(response) is None):
            raise self.error_of(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise self._unexpected(response, "an answer that is not JSON") from None

    def json_object(self, method: str, path: str, *, keys: Sequence[str] = (), **kwargs: Any) -> dict[str, Any]:
        """The answer as a JSON object holding ``keys``, as a samplectl server answers.

        For the answers every command reads first (``/me``, ``/token``): another web server at
        SAMPLECTL_SERVER answering 200 with some other JSON is exit 8, not a KeyError (exit 1).
        """
        return self.object_of(self.request(method, path, **kwargs), keys)

    def object_of(self, response: Response, keys: Sequence[str] = ()) -> dict[str, Any]:
        """``response``'s body as a JSON object holding ``keys`` (see ``json_object``)."""
        try:
            body = response.json()
        except ValueError:
            raise self._unexpected(response, "an answer that is not JSON") from None
        if not isinstance(body, dict):
            raise self._unexpected(response, "JSON that is not an object")
        missing = [key for key in keys if key not in body]
        if missing:
            raise self._unexpected(response, f"JSON without {', '.join(missing)}")
        return body

    @contextmanager
    def lines(self, method: str, path: str, *, params: Params = None, json: Any = None) -> Iterator[Iterator[str]]:
        """A streamed answer (exports, the audit trail, a plan), its lines one at a time once it succeeded.

        The client holds one line at a time; a connection dropped midway is exit 8 like any other.
        """
        target = self._target(path, params)
        with self.translated():
            answer = self._send(method, target, json, None, None, None, True)
        try:
            if answer.status >= 400:
                with self.translated():
                    body = answer.read()
                raise self.error_of(Response(method, urlsplit(target).path, answer.status, answer.headers, body))
            yield self._read_lines(answer)
        finally:
            if not answer.isclosed():  # left before the end: the rest would be read by the next request
                self.connection.close()

    def _read_lines(self, answer: http.client.HTTPResponse) -> Iterator[str]:
        with self.translated():
            for line in io.TextIOWrapper(answer, encoding="utf-8"):
                yield line.rstrip("\r\n")

    def _target(self, path: str, params: Params) -> str:
        """The request target on this server: its path prefix, the path, the query.

        A ``Link`` of the server may be a whole URL; only its path and query are used, so a token
        goes to no other server than this one.
        """
        if "://" in path:
            parts = urlsplit(urljoin(self.address.url + "/", path))
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        else:  # what callers did not escape (they escape ids), escaped as httpx did; escapes kept
            target = quote(self.prefix + path, safe="/%:@!$&'()*+,;=~")
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params)
        return target

    def _send(self, method: str, target: str, json: Any, data: Mapping[str, str] | None,
              content: Iterable[bytes] | None, extra: Mapping[str, str] | None, long: bool) -> http.client.HTTPResponse:
        """Send one request on the connection (opened if need be) and wait for the response's head."""
        headers = dict(self.headers)
        body: bytes | Iterable[bytes] | None = content
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers.update(extra or {})
        self._connect()
        assert self.connection.sock is not None
        # Long work on the server: once connected, wait as long as it takes (the server bounds it).
        self.connection.sock.settimeout(None if long else self.timeout_s)
        # The server may refuse a request before reading all of it (a body too large, a login that
        # ended) and close the connection; its answer, if it sent one, says why.
        with suppress(BrokenPipeError, ConnectionResetError):
            self.connection.request(method, target, body=body, headers=headers)
        return self.connection.getresponse()

    def _connect(self) -> None:
        """Open the connection unless an open one can be used again; a server out of reach is exit 8."""
        sock = self.connection.sock
        if sock is not None and _closed_by_server(sock):
            self.connection.close()  # idle too long (the server's keep-alive ended): open a new one
        if self.connection.sock is not None:
            return
        try:
            self.connection.connect()
        except (TimeoutError, ssl.SSLCertVerificationError):
            raise  # translated() says which
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot reach the samplectl server at {self.address} ({_reason(exc)})",
                hint="check SAMPLECTL_SERVER (config: server) and that the server is running",
            ) from None

    # -- errors -----------------------------------------------------------------------------
    @contextmanager
    def translated(self) -> Iterator[None]:
        """Failures of the connection as exit 8: out of time, an untrusted certificate, a connection broken off."""
        where = f"the samplectl server at {self.address}"
        try:
            yield
        except TimeoutError:
            self.connection.close()
            raise DatabaseUnavailable(
                f"{where} did not answer within {self.timeout_s:g} s",
                hint="check that the server is running and reachable (server_timeout_ms sets the wait)",
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise DatabaseUnavailable(
                f"{where} presented a TLS certificate that could not be verified ({_reason(exc)})",
                hint="if the lab uses its own certificate authority, set SAMPLECTL_CA_BUNDLE to its "
                "CA certificate (PEM)",
            ) from None
        except (ConnectionError, http.client.IncompleteRead) as exc:
            self.connection.close()
            raise DatabaseUnavailable(
                f"the connection to {where} broke off ({_reason(exc)})",
                hint="check that the server is still running, then try again",
            ) from None
        except (http.client.HTTPException, OSError) as exc:  # not HTTP at all, a TLS failure, ...
            self.connection.close()
            raise DatabaseUnavailable(f"cannot talk to {where} ({_reason(exc)})",
                                      hint="check SAMPLECTL_SERVER and the network") from None

    def error_of(self, response: Response) -> SamplectlError:
        """The typed error for a failed response, with the server's message, hint and details."""
        body = _envelope(response)
        kind = STATUS_ERRORS.get(response.status_code, SamplectlError)  # any other in the envelope: unexpected (1)
        if body is None:  # not the server's envelope: a proxy's page, or not a samplectl server at all
            if kind is DatabaseUnavailable:
                return DatabaseUnavailable(
                    f"the samplectl server at {self.address} is not available ({response.status_code})",
                    hint="check that the server is running; try again in a moment",
                )
            return self._unexpected(response, f"status {response.status_code}")
        message = str(body.get("message") or f"the server refused the request ({response.status_code})")
        hint = body.get("hint")
        details = body.get("details") if isinstance(body.get("details"), list) else []
        if kind is AuthError:
            if self.token_from_env and self.token:
                message, hint = f"SAMPLECTL_TOKEN: {message}", ENV_HINT
            elif not hint:
                hint = LOGIN_HINT
        error = kind(message, hint=str(hint) if hint else None, details=details)
        # The server's own name for it, as a local run prints it; a stale If-Match (412) is the
        # conflict a local run reports for a stale --if-version.
        if isinstance(body.get("code"), str) and response.status_code != 412:
            error.code = body["code"]
        error.status = response.status_code  # type: ignore[attr-defined]
        return error

    def _unexpected(self, response: Response, what: str) -> SamplectlError:
        # Not a samplectl server (another web server, a proxy's page, a server of another version):
        # no samplectl server can be reached there, which is exit 8 like one that does not answer.
        return DatabaseUnavailable(
            f"the samplectl server at {self.address} answered {what} to {response.method} {response.path}",
            hint="check that SAMPLECTL_SERVER is a samplectl server of the same version; its log says more",
        )


# A samplectl token (a JWT) is visible ASCII, well under this length. Anything else (a damaged token file,
# a SAMPLECTL_TOKEN holding other text) cannot go into a header as it is; the server judges the rest.
_TOKEN = re.compile(r"[\x21-\x7e]+")
MAX_TOKEN = 8192


def _presentable(token: str, from_env: bool) -> str:
    """``token`` when it can be sent; else the login is not valid (3), as the server would say, without asking it."""
    if len(token) <= MAX_TOKEN and _TOKEN.fullmatch(token):
        return token
    problem = "the token is not valid (it holds spaces, control characters or characters outside ASCII, or is too long)"
    if from_env:
        raise AuthError(f"SAMPLECTL_TOKEN: {problem}", hint=ENV_HINT)
    raise AuthError(problem, hint=LOGIN_HINT)


def _closed_by_server(sock: Any) -> bool:
    """Whether a kept-alive connection, with no request under way, was closed by the server.

    Nothing is due from the server between requests, so a socket that can be read is at its end
    (or holds what the server sent before closing): sending on it would fail, or be lost.
    """
    import select

    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _envelope(response: Response) -> Mapping[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
