"""The HTTP client of remote mode: one connection to the server, its errors as the CLI's own.

The server answers errors as ``{"error": {"code", "message", "details", "hint"}}`` with the
contract's status codes; they become the same typed errors (and so the same exit codes, ``error:``
and ``hint:`` lines) a local store would have raised. A server that cannot be reached is exit 8.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    import httpx


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


def load_httpx() -> Any:
    """httpx without its own command line (``httpx._main``: click, pygments, rich.progress).

    ``import httpx`` loads its CLI too, a third of its import time, which every remote command
    would pay; a module set to None in sys.modules makes that optional import fail, and httpx
    then leaves its CLI out, as it does when click is not installed.
    """
    import sys

    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]
        try:
            import httpx
        finally:
            del sys.modules["httpx._main"]
    import httpx

    return httpx


class ApiClient:
    """Requests to one samplectl server, as one user (``token``), with the errors mapped.

    ``timeout_ms`` bounds connecting and each wait for the server; requests that do long work on
    the server (imports, bulk updates, exports) pass ``long=True`` and wait as long as it works.
    """

    def __init__(
        self,
        address: ServerAddress,
        *,
        token: str | None = None,
        token_from_env: bool = False,
        timeout_ms: int = 3000,
        ca_bundle: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        httpx = load_httpx()
        self.address = address
        self.token = token
        self.token_from_env = token_from_env
        self.timeout_s = timeout_ms / 1000
        headers = {"User-Agent": f"samplectl/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            base_url=address.url,
            headers=headers,
            timeout=httpx.Timeout(self.timeout_s),
            # TLS only for https://; plain http:// is allowed only to loopback (see address.py),
            # where there is no certificate to check. Loading the CA store costs ~20 ms otherwise.
            verify=tls_context(ca_bundle) if address.https else False,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()

    # -- requests ---------------------------------------------------------------------------
    def request(self, method: str, path: str, *, long: bool = False, raise_errors: bool = True,
                **kwargs: Any) -> httpx.Response:
        """One request; the response when it succeeded (2xx), else the mapped error is raised.

        ``raise_errors=False`` hands back an error response too, for answers that carry a report
        beside the error (an import's summary).
        """
        if long:
            kwargs["timeout"] = self._long_timeout()
        with self.translated():
            response = self.http.request(method, path, **kwargs)
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

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A streamed request (imports, exports): the open response once it succeeded."""
        with self.translated(), self.http.stream(method, path, timeout=self._long_timeout(), **kwargs) as response:
            if response.is_error:
                response.read()
                raise self.error_of(response)
            yield response

    def lines(self, response: httpx.Response) -> Iterator[str]:
        """The lines of a streamed response, a dropped connection mapped like any other."""
        with self.translated():
            yield from response.iter_lines()

    def _long_timeout(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(self.timeout_s, read=None, write=None)

    # -- errors -----------------------------------------------------------------------------
    @contextmanager
    def translated(self) -> Iterator[None]:
        """httpx's transport errors as exit 8 (or 6 for a CA bundle that cannot be read)."""
        import httpx

        where = f"the samplectl server at {self.address}"
        try:
            yield
        except httpx.TimeoutException:
            raise DatabaseUnavailable(
                f"{where} did not answer within {self.timeout_s:g} s",
                hint="check that the server is running and reachable (server_timeout_ms sets the wait)",
            ) from None
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
                raise DatabaseUnavailable(
                    f"{where} presented a TLS certificate that could not be verified ({_reason(exc)})",
                    hint="if the lab uses its own certificate authority, set SAMPLECTL_CA_BUNDLE to its "
                    "CA certificate (PEM)",
                ) from None
            raise DatabaseUnavailable(
                f"cannot reach {where} ({_reason(exc)})",
                hint="check SAMPLECTL_SERVER (config: server) and that the server is running",
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise DatabaseUnavailable(
                f"the connection to {where} broke off ({_reason(exc)})",
                hint="check that the server is still running, then try again",
            ) from None
        except httpx.TransportError as exc:
            raise DatabaseUnavailable(f"cannot talk to {where} ({_reason(exc)})",
                                      hint="check SAMPLECTL_SERVER and the network") from None

    def error_of(self, response: httpx.Response) -> SamplectlError:
        """The typed error for a failed response, with the server's message, hint and details."""
        body = _envelope(response)
        kind = STATUS_ERRORS.get(response.status_code, SamplectlError)  # any other: unexpected (1)
        if body is None:  # not the server's envelope: a proxy's page, or not a samplectl server at all
            if kind is DatabaseUnavailable:
                return DatabaseUnavailable(
                    f"the samplectl server at {self.address} is not available ({response.status_code})",
                    hint="check that the server is running; try again in a moment",
                )
            return SamplectlError(
                f"the samplectl server at {self.address} answered status {response.status_code} to "
                f"{response.request.method} {response.request.url.path}",
                hint="check that SAMPLECTL_SERVER is a samplectl server of the same version; its log says more",
            )
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

    def _unexpected(self, response: httpx.Response, what: str) -> SamplectlError:
        return SamplectlError(
            f"the samplectl server at {self.address} answered {what} to {response.request.method} "
            f"{response.request.url.path}",
            hint="check that SAMPLECTL_SERVER is a samplectl server of the same version; its log says more",
        )


def _envelope(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
