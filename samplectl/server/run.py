"""Starting the server: the address and TLS checks, logging, and uvicorn with its workers."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

from samplectl.domain.errors import UsageError, ValidationFailed


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    certfile: str | None = None
    keyfile: str | None = None
    behind_proxy: bool = False
    cors_origins: list[str] = field(default_factory=list)

    @property
    def tls(self) -> bool:
        return self.certfile is not None


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def check(options: ServeOptions) -> None:
    """Refuse what would expose the API unsafely, before anything is started."""
    if (options.certfile is None) != (options.keyfile is None):
        raise UsageError("--certfile and --keyfile go together", hint="give both: the certificate and its private key")
    for flag, path in (("--certfile", options.certfile), ("--keyfile", options.keyfile)):
        if path is not None and not os.access(path, os.R_OK):
            raise ValidationFailed(f"{flag} {path} cannot be read", hint="check the path and its permissions")
    if not 0 < options.port < 65536:
        raise ValidationFailed(f"--port {options.port} is not a port (1-65535)")
    if options.workers < 1:
        raise ValidationFailed(f"--workers {options.workers} must be at least 1")
    if not options.tls and not options.behind_proxy and not is_loopback(options.host):
        raise UsageError(
            f"refusing to serve on {options.host} without TLS: tokens and passwords would cross the network in clear",
            hint="give --certfile and --keyfile, or --behind-proxy when a TLS-terminating proxy is in front",
        )


class JsonLines(logging.Formatter):
    """The server's own messages as JSON lines (the access lines are JSON already); secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name == "samplectl.server.access":
            return message
        from samplectl.logs import redact

        line: dict[str, Any] = {"time": self.formatTime(record), "level": record.levelname.lower(),
                                "logger": record.name, "message": redact(message)}
        if record.exc_info:
            line["traceback"] = redact(self.formatException(record.exc_info))
        return json.dumps(line)


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "samplectl.server.run.JsonLines"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {
        "samplectl.server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def serve(options: ServeOptions) -> None:
    check(options)
    import uvicorn

    # Read by each worker's app factory (workers are separate processes that import the app by name).
    os.environ["SAMPLECTL_SERVE_TLS"] = "1" if options.tls else "0"
    os.environ["SAMPLECTL_CORS_ORIGINS"] = ",".join(options.cors_origins)
    metrics_dir = None
    if options.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.TemporaryDirectory(prefix="samplectl-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir.name
    try:
        uvicorn.run(
            "samplectl.server.app:app_from_environment",
            factory=True,
            host=options.host,
            port=options.port,
            workers=options.workers,
            ssl_certfile=options.certfile,
            ssl_keyfile=options.keyfile,
            proxy_headers=options.behind_proxy,  # trusts X-Forwarded-For only from FORWARDED_ALLOW_IPS (127.0.0.1)
            server_header=False,
            date_header=True,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=10,
            log_config=LOG_CONFIG,
            access_log=False,
        )
    finally:
        if metrics_dir is not None:
            metrics_dir.cleanup()


