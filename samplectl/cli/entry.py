"""The console entry point.

`samplectl --version` is answered before typer is imported: scripts and installers probe it,
and it should cost no more than starting Python. Everything else goes to the typer app.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from samplectl import __version__

        sys.stdout.write(f"samplectl {__version__}\n")
        return
    from samplectl.cli.app import main as run_app

    run_app()


if __name__ == "__main__":
    main()
