"""Progress of the slow steps outside Lightning's training loop (featurization, the
random forest, MC-dropout passes): a rich bar on a terminal, like Lightning's
RichProgressBar during training; a few log lines anywhere else.

A log file (SLURM, nohup, CI) gets no bar redraws: one line each time another tenth
of the work is done and at least ``min_interval`` seconds have passed since the last
line, and one line when the step ends, so a step writes at most
``lines + 1`` lines however long it is, and a quick step writes only its last one.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager

log = logging.getLogger(__name__)


class LogProgress:
    """The non-terminal form: ``advance`` logs at tenths (``lines`` steps), rate-limited."""

    def __init__(self, description: str, total: int, unit: str, *, lines: int = 10, min_interval: float = 5.0):
        self.description, self.total, self.unit = description, max(0, int(total)), unit
        self.lines, self.min_interval = max(1, lines), min_interval
        self.done = 0
        self._start = self._last = time.perf_counter()
        self._step = 0  # how many tenths have been passed (and maybe logged)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.total:
            return
        step = min(self.lines, self.done * self.lines // self.total)
        now = time.perf_counter()
        if step > self._step and step < self.lines and now - self._last >= self.min_interval:
            self._last = now
            log.info("%s: %d%% (%d/%d %s, %.0f s)", self.description, 100 * self.done // self.total,
                     self.done, self.total, self.unit, now - self._start)
        self._step = max(self._step, step)

    def close(self) -> None:
        log.info("%s: done, %d %s in %.1f s", self.description, self.done, self.unit,
                 time.perf_counter() - self._start)


class RichProgress:
    """The terminal form: one rich bar, removed when the step ends (its last line stays in the log)."""

    def __init__(self, description: str, total: int, unit: str, console):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._log = LogProgress(description, total, unit, lines=1)
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn(unit), TimeElapsedColumn(), TimeRemainingColumn(),
                             console=console, transient=True)
        self._bar.start()
        self._task = self._bar.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        self._log.done += n
        self._bar.advance(self._task, n)

    def close(self) -> None:
        self._bar.stop()
        self._log.close()


@contextmanager
def progress(description: str, total: int, unit: str = "items", stream=None):
    """``with progress("MC-dropout on test", n, "passes") as bar: ... bar.advance()``."""
    from rich.console import Console

    console = Console(file=stream or sys.stderr)
    bar = RichProgress(description, total, unit, console) if console.is_terminal else LogProgress(description, total, unit)
    try:
        yield bar
    finally:
        bar.close()


def track(items, description: str, unit: str = "items", total: int | None = None):
    """Iterate over ``items`` while showing progress (``total`` for iterables without a length)."""
    with progress(description, len(items) if total is None else total, unit) as bar:
        for item in items:
            yield item
            bar.advance()
