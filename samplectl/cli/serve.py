"""samplectl serve: run the HTTP API (FastAPI under uvicorn) on this machine's stores."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", metavar="N", help="Worker processes.")] = 1,
    certfile: Annotated[
        str | None, typer.Option("--certfile", metavar="FILE", help="TLS certificate (PEM); with --keyfile.")
    ] = None,
    keyfile: Annotated[str | None, typer.Option("--keyfile", metavar="FILE", help="TLS private key (PEM).")] = None,
    behind_proxy: Annotated[
        bool,
        typer.Option("--behind-proxy", help="A TLS-terminating proxy is in front: allow a public address without TLS."),
    ] = False,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option("--cors-origin", metavar="ORIGIN", help="Allow browsers on ORIGIN to call the API (repeatable)."),
    ] = None,
) -> None:
    """Run the HTTP API on this machine's stores.

    The same samples, rules, roles and audit trail as the commands. The server holds the
    database credentials and the signing secret; clients hold only their token.
    A non-loopback address needs TLS (--certfile/--keyfile) or --behind-proxy.
    The API's description is at /docs.

    Example: samplectl serve --host 0.0.0.0 --port 8443 --certfile lab.crt --keyfile lab.key --workers 2
    """
    from samplectl.server.run import ServeOptions
    from samplectl.server.run import serve as run

    run(ServeOptions(host=host, port=port, workers=workers, certfile=certfile, keyfile=keyfile,
                     behind_proxy=behind_proxy, cors_origins=list(cors_origin or [])))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
