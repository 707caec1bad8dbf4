"""A fork server for `samplectl serve`, so that every test in remote mode gets a server of its own cheaply.

Starting `samplectl serve` from nothing costs about a second of CPU (Python, FastAPI, uvicorn,
samplectl's modules); the remote-mode tests want a fresh server on a fresh data directory each.
This process imports all of that once, then for each request (one JSON line on stdin: the command
line's arguments, the environment, a log file) forks itself and runs the `samplectl serve` command
in the child, exactly as the console script would, and answers with the child's pid.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def serve_child(request: dict[str, object]) -> None:
    """In the forked child: become `samplectl serve ...` with the given environment (never returns)."""
    code = 1
    try:
        os.setsid()
        log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])  # type: ignore[arg-type]
        sys.argv = ["samplectl", *request["args"]]  # type: ignore[misc]
        from samplectl.cli.app import main

        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    # Everything `samplectl serve` imports, once, before any fork.
    import uvicorn  # noqa: F401

    import samplectl.cli.app  # noqa: F401
    import samplectl.server.app  # noqa: F401
    import samplectl.server.run  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the servers when they stop
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            serve_child(json.loads(line))
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
