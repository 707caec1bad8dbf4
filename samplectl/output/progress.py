"""A progress bar on stderr for long jobs (imports, exports): rows, rows/s, and percent when the size is known."""

from __future__ import annotations

import time
from typing import IO, Any


class RowsProgress:
    """Rich progress for jobs counted in rows and measured in bytes (percent) or rows (total known)."""

    def __init__(self, err: IO[str], *, color: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        console = Console(file=err, force_terminal=True, no_color=not color, highlight=False)
        self.bar = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:>12,} rows"),
            TextColumn("{task.fields[rate]:>10,} rows/s"),
            TimeRemainingColumn(),  # what a technician waiting wants to know: how long is left
            console=console,
            refresh_per_second=4,
        )
        self.task: Any = None
        self.rows = 0
        self.started = 0.0
        self.bar.start()

    def phase(self, name: str, total_bytes: int | None) -> None:
        self._finish_task()
        self.rows, self.started = 0, time.monotonic()
        self.task = self.bar.add_task(name, total=total_bytes, rows=0, rate=0)

    def update(self, rows: int, bytes_read: int) -> None:
        self.rows += rows
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.bar.update(self.task, completed=bytes_read, rows=self.rows, rate=int(self.rows / elapsed))

    def _finish_task(self) -> None:
        if self.task is not None:
            task = self.bar.tasks[-1]
            if task.total is not None:
                self.bar.update(self.task, completed=task.total)
            self.task = None

    def done(self, finished: bool = True) -> None:
        if finished:
            self._finish_task()
        self.bar.stop()
