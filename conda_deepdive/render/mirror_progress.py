"""Progress of a ``mirror`` run, drawn from the tracer's events (the stage never prints).

On a terminal: a rich ``Progress`` with two overall bars (files, bytes) and one bar per download
in flight, created on ``download_started`` and removed when the file ends. Elsewhere (a pipe, a
log file, CI): plain lines — one per finished, failed or retried file — so logs stay readable.

The downloader calls the reporter from its worker threads, so every method takes a lock.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from conda_deepdive.reporting import Reporter

__all__ = ["MirrorProgress"]


class MirrorProgress(Reporter):
    """A Reporter that renders the ``mirror`` stage (``tty=None``: ask the stream)."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None, verbosity: int = 0,
                 quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        if tty is None:
            try:
                tty = bool(self.stream.isatty())
            except (AttributeError, ValueError):
                tty = False
        self.tty, self.verbosity, self.quiet = tty, verbosity, quiet
        self._lock = threading.RLock()
        self._progress: Any = None
        self._overall: dict[str, Any] = {}
        self._tasks: dict[str, Any] = {}
        self._files_total = 0
        self._bytes_total = 0

    # -- rich ---------------------------------------------------------------------------------
    def _start_rich(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)

        console = Console(file=self.stream)
        self._progress = Progress(TextColumn("{task.description}", justify="left"), BarColumn(),
                                  DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                                  console=console, transient=True)
        self._progress.start()
        self._overall["files"] = self._progress.add_task("[bold]files", total=self._files_total or None)
        self._overall["bytes"] = self._progress.add_task("[bold]bytes", total=self._bytes_total or None)

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _line(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, highlight=False, markup=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    # -- the Reporter protocol ----------------------------------------------------------------
    def stage_started(self, stage: str, title: str) -> None:
        if stage == "mirror" and not self.quiet:
            with self._lock:
                self._line(title)

    def stage_finished(self, stage: str, result: Any) -> None:
        with self._lock:
            self._stop()

    def warning(self, stage: str, message: str) -> None:
        with self._lock:
            self._line(f"warning: {message}")

    def event(self, stage: str, kind: str, **data: Any) -> None:
        if stage != "mirror":
            return
        with self._lock:
            if kind == "plan":
                self._files_total, self._bytes_total = data.get("files", 0), data.get("bytes", 0)
                if not self.quiet:
                    self._line(f"{data.get('files', 0)} files to download "
                               f"({data.get('bytes', 0):,} bytes), {data.get('skipped', 0)} already verified")
                if self.tty and not self.quiet and self._files_total and not data.get("dry_run"):
                    self._start_rich()
            elif kind == "download_started" and self._progress is not None:
                key = f"{data['subdir']}/{data['fn']}"
                self._tasks[key] = self._progress.add_task(key, total=data.get("size") or None)
            elif kind == "download_retry":
                if self.verbosity or not self.tty:
                    self._line(f"retry {data.get('attempt')} {data.get('subdir')}/{data.get('fn')}: "
                               f"{data.get('reason')} (waiting {data.get('delay_seconds')}s)")
            elif kind == "download_failed":
                self._line(f"FAILED {data.get('subdir')}/{data.get('fn')}: {data.get('reason')}")
            elif kind in ("download_finished",):
                key = f"{data['subdir']}/{data['fn']}"
                task = self._tasks.pop(key, None)
                if task is not None and self._progress is not None:
                    self._progress.remove_task(task)
                if not self.tty and not self.quiet and self.verbosity:
                    self._line(f"ok {key} ({data.get('received', 0):,} bytes"
                               f"{', resumed' if data.get('resumed') else ''})")
            elif kind == "index_failed":
                self._line(f"FAILED {data.get('subdir')}/repodata.json: {data.get('reason')}")
            elif kind == "removed" and self.verbosity and not self.quiet:
                self._line(f"removed {data.get('subdir')}/{data.get('fn')}")

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        if stage != "mirror" or self._progress is None:
            return
        with self._lock:
            if self._progress is None:
                return
            if task in self._overall:
                self._progress.update(self._overall[task], completed=done, total=total or None)
            elif task.startswith("download:"):
                key = task[len("download:"):]
                tid = self._tasks.get(key)
                if tid is not None:
                    self._progress.update(tid, completed=done)
