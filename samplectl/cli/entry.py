"""The console entry point.

Two questions are answered before typer is imported, because they should cost little more than
starting Python: `samplectl --version` (scripts and installers probe it), and a TAB that completes
a stored sample id, subject or location (``cli.completion``). Everything else goes to the typer app.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from samplectl import __version__

        sys.stdout.write(f"samplectl {__version__}\n")
        return
    if "_SAMPLECTL_COMPLETE" in os.environ:
        from samplectl.cli.completion import answer

        if answer(os.environ, sys.stdout):
            if "pymongo" in sys.modules:
                # The answer is written; pymongo's exit hook would still wait up to 0.5 s for its
                # monitor thread to wake up and stop, with the person waiting at the prompt.
                sys.stdout.flush()
                os._exit(0)
            return
    from samplectl.cli.app import main as run_app

    run_app()


if __name__ == "__main__":
    main()
