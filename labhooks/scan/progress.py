from __future__ import annotations

import sys
import time
from typing import Any

from labhooks.scan.render import use_rich


class WalkProgress:
    """Commits walked so far, on stderr: a live line in a terminal, a line a second when
    forced elsewhere, nothing otherwise. Used as the walk's ``on_progress`` callback."""

    def __init__(self, mode: str = "auto", stream=None):
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "live" if (hasattr(self.stream, "isatty") and self.stream.isatty()) else "off"
        elif mode == "on":
            mode = "live" if use_rich(self.stream) else "plain"
        self.mode = mode
        self._progress: Any = None  # a rich Progress, imported only for a live line
        self._task: Any = None
        self._last = 0.0
        self.commits = 0

    def __enter__(self) -> "WalkProgress":
        if self.mode == "live":
            from rich.console import Console
            from rich.progress import (
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(), TextColumn("walking history: {task.completed:,} commits"),
                TimeElapsedColumn(), console=Console(file=self.stream), transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("walk", total=None)
        return self

    def __call__(self, commits: int) -> None:
        self.commits = commits
        if self.mode == "live":
            self._progress.update(self._task, completed=commits)
        elif self.mode == "plain":
            now = time.monotonic()
            if now - self._last >= 1.0:
                self._last = now
                self.stream.write(f"labhooks scan: walked {commits:,} commits\n")
                self.stream.flush()

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
        elif self.mode == "plain" and self.commits:
            self.stream.write(f"labhooks scan: walked {self.commits:,} commits, done\n")
            self.stream.flush()
