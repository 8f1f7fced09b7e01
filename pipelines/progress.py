"""Progress of long work on a terminal: stage, records done, records/s and time left, with ``rich``.

The libraries report through a plain callback (``records.progress.Progress``); this module is the only place that
draws it. Why rich: it is already installed with Dagster, its ``Console`` knows whether it writes to a terminal (so
CI and the schedule's logs stay quiet), and its live display keeps the bar below the log lines Dagster prints instead
of tearing them (tqdm redraws on the same stream as the logs).

Commands wrap their work in ``with terminal_progress():``; Dagster assets running in that process pick the reporter
up with ``reporter()``. Outside such a block, or when stderr is not a terminal, ``reporter()`` does nothing.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from records.progress import Progress as ProgressCallback
from records.progress import no_progress

__all__ = ["reporter", "terminal_progress"]

_current: ProgressCallback = no_progress
_lock = threading.Lock()


def reporter() -> ProgressCallback:
    """The progress callback of the running command (does nothing when none is shown)."""
    return _current


class _RichReporter:
    """Turns ``(stage, done, total)`` calls into one progress line per stage, with records per second."""

    def __init__(self, progress: Progress, prefix: str) -> None:
        self.progress = progress
        self.prefix = prefix
        self.tasks: dict[str, TaskID] = {}
        self.started: dict[str, float] = {}
        self.drawn: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        label = f"{self.prefix}{stage}"
        now = time.monotonic()
        with _lock:
            task = self.tasks.get(label)
            if task is None:
                for other_task in self.tasks.values():  # a new stage ends the ones before it
                    self.progress.update(other_task, visible=False)
                task = self.progress.add_task(label, total=total, rate="")
                self.tasks[label] = task
                self.started[label] = now
            finished = total is not None and done >= total
            if not finished and now - self.drawn.get(label, 0.0) < 0.1:
                return  # a few redraws a second are enough
            self.drawn[label] = now
            elapsed = max(now - self.started[label], 1e-6)
            rate = f"{done / elapsed:,.0f} bản ghi/s" if done and elapsed > 0.05 else ""
            self.progress.update(task, completed=done, total=total, rate=rate)


@contextlib.contextmanager
def terminal_progress(prefix: str = "", *, console: Console | None = None) -> Iterator[ProgressCallback]:
    """Show progress while the block runs when stderr is a terminal; yield the callback (also ``reporter()``)."""
    global _current
    console = console or Console(file=sys.stderr)
    if not console.is_terminal:
        yield no_progress
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[cyan]{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("còn / left"),
        TimeRemainingColumn(),
        console=console,
        redirect_stderr=True,
        redirect_stdout=True,
    )
    callback = _RichReporter(progress, prefix)
    previous = _current
    with progress:
        _current = callback
        try:
            yield callback
        finally:
            _current = previous
