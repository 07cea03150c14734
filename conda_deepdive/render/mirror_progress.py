"""Progress of a ``mirror`` run, drawn from the tracer's events (the stage never prints).

On a terminal: a rich ``Progress`` with two overall bars (files, bytes) and one bar per download
in flight, created on ``download_started`` and removed when the file ends. Elsewhere (a pipe, a
log file, CI): plain lines — one per finished, failed or retried file — so logs stay readable.

The downloader calls the reporter from its worker threads, many times a file. Those calls only
update plain counters under a short lock; one drawing thread copies them into rich ten times a
second. (Calling rich from every worker made them queue behind each other and behind rich's own
refresh — with the GIL's handovers, a 1-second mirror took over 10 seconds on a terminal.)
"""

from __future__ import annotations

import sys
import threading

from conda_deepdive.reporting import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any, TextIO

__all__ = ["MirrorProgress"]

_REFRESH_SECONDS = 0.1


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
        self._lock = threading.Lock()  # guards the plain state below, never held while drawing
        self._draw_lock = threading.Lock()  # one thread at a time talks to rich
        self._progress: Any = None
        self._overall: dict[str, Any] = {}
        self._tasks: dict[str, Any] = {}  # key -> rich task id (drawing thread only)
        self._inflight: dict[str, list] = {}  # key -> [done, total]: what the bars should show
        self._done = {"files": 0, "bytes": 0}
        self._files_total = 0
        self._bytes_total = 0
        self._stop_drawing = threading.Event()
        self._drawer: threading.Thread | None = None

    # -- rich ---------------------------------------------------------------------------------
    def _start_rich(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn,
                                   TimeRemainingColumn, TransferSpeedColumn)

        console = Console(file=self.stream)
        progress = Progress(TextColumn("{task.description}", justify="left"), BarColumn(),
                            DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                            console=console, transient=True, auto_refresh=False)
        progress.start()
        self._overall["files"] = progress.add_task("[bold]files", total=self._files_total or None)
        self._overall["bytes"] = progress.add_task("[bold]bytes", total=self._bytes_total or None)
        self._progress = progress
        self._stop_drawing.clear()
        self._drawer = threading.Thread(target=self._draw_loop, name="mirror-progress", daemon=True)
        self._drawer.start()

    def _draw_loop(self) -> None:
        while not self._stop_drawing.wait(_REFRESH_SECONDS):
            self._draw()

    def _draw(self) -> None:
        """Copy the plain state into rich's bars and redraw (the drawing thread, and the end)."""
        with self._lock:
            inflight = {k: tuple(v) for k, v in self._inflight.items()}
            done = dict(self._done)
        with self._draw_lock:
            progress = self._progress
            if progress is None:
                return
            for key in [k for k in self._tasks if k not in inflight]:
                progress.remove_task(self._tasks.pop(key))
            for key, (got, total) in inflight.items():
                tid = self._tasks.get(key)
                if tid is None:
                    self._tasks[key] = progress.add_task(key, total=total, completed=got)
                else:
                    progress.update(tid, completed=got)
            progress.update(self._overall["files"], completed=done["files"], total=self._files_total or None)
            progress.update(self._overall["bytes"], completed=done["bytes"], total=self._bytes_total or None)
            progress.refresh()

    def _stop(self) -> None:
        drawer, self._drawer = self._drawer, None
        if drawer is not None:
            self._stop_drawing.set()
            drawer.join()
        with self._draw_lock:
            if self._progress is not None:
                for tid in self._tasks.values():
                    self._progress.remove_task(tid)
                self._tasks.clear()
                self._progress.stop()
                self._progress = None

    def _line(self, text: str) -> None:
        with self._draw_lock:
            if self._progress is not None:
                self._progress.console.print(text, highlight=False, markup=False)
                return
        self.stream.write(text + "\n")
        self.stream.flush()

    # -- the Reporter protocol ----------------------------------------------------------------
    def stage_started(self, stage: str, title: str) -> None:
        if stage == "mirror" and not self.quiet:
            self._line(title)

    def stage_finished(self, stage: str, result: Any) -> None:
        self._stop()

    def warning(self, stage: str, message: str) -> None:
        self._line(f"warning: {message}")

    def event(self, stage: str, kind: str, **data: Any) -> None:
        if stage != "mirror":
            return
        if kind == "plan":
            self._files_total, self._bytes_total = data.get("files", 0), data.get("bytes", 0)
            if not self.quiet:
                self._line(f"{data.get('files', 0)} files to download "
                           f"({data.get('bytes', 0):,} bytes), {data.get('skipped', 0)} already verified")
            if self.tty and not self.quiet and self._files_total and not data.get("dry_run"):
                self._start_rich()
        elif kind == "download_started":
            if self._drawer is not None:
                with self._lock:
                    self._inflight[f"{data['subdir']}/{data['fn']}"] = [0, data.get("size") or None]
        elif kind == "download_retry":
            if self.verbosity or not self.tty:
                self._line(f"retry {data.get('attempt')} {data.get('subdir')}/{data.get('fn')}: "
                           f"{data.get('reason')} (waiting {data.get('delay_seconds')}s)")
        elif kind in ("download_failed", "download_finished"):
            key = f"{data['subdir']}/{data['fn']}"
            with self._lock:
                self._inflight.pop(key, None)
            if kind == "download_failed":
                self._line(f"FAILED {key}: {data.get('reason')}")
            elif not self.tty and not self.quiet and self.verbosity:
                self._line(f"ok {key} ({data.get('received', 0):,} bytes"
                           f"{', resumed' if data.get('resumed') else ''})")
        elif kind == "index_failed":
            self._line(f"FAILED {data.get('subdir')}/repodata.json: {data.get('reason')}")
        elif kind == "removed" and self.verbosity and not self.quiet:
            self._line(f"removed {data.get('subdir')}/{data.get('fn')}")

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        if stage != "mirror" or self._drawer is None:
            return
        with self._lock:
            if task in self._done:
                self._done[task] = done
            elif task.startswith("download:"):
                bar = self._inflight.get(task[len("download:"):])
                if bar is not None:
                    bar[0] = done
