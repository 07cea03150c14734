"""Download/extract progress bars on a terminal: conda's ``Downloading and Extracting Packages``.

conda counterparts: ``ProgressiveFetchExtract._progress_bar`` (``conda/core/package_cache_data.py``)
and the console reporter backend's ``TQDMProgressBar`` (``conda/plugins/reporter_backends/console.py``).

conda draws one bar per package that needs work, largest package first, each described as
``"%-20.20s | %-9s | " % (name-version, human size)`` followed by the bar and
``| {percentage:3.0f}% ``. The bars are created with ``leave=False``: they vanish when the fetch
stage ends, so a finished install shows only the header line. Bars are drawn only when stdout is
a terminal (not with ``--quiet``, ``--json`` or ``TERM=dumb``); off a terminal conda writes the
single line ``Downloading and Extracting Packages: ...working... done`` (see ``cli/install.py``).

What feeds them: the fetch stage never imports rich. It calls
``reporter.progress("fetch", task, done, total)`` with three kinds of ``task``:

* ``"<dist>"`` — the package as a whole, in tarball bytes: ``0`` when its work is queued (largest
  first), ``total`` when its last action finished;
* ``"<dist> (download)"`` — bytes downloaded (or copied from a ``file://`` channel);
* ``"<dist> (extract)"`` — bytes of the tarball read while extracting.

The bar follows the download (conda: ``update_to(pct_completed)``) and is full once the package
is extracted (conda: ``update_to(1.0)`` after extraction). :class:`FetchProgressBars` is a
:class:`~conda_deepdive.reporting.Reporter`, so it can be fed directly from a tracer.
"""

from __future__ import annotations

import threading

from conda_deepdive.reporting import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any, TextIO

__all__ = ["FetchProgressBars", "bar_description", "package_label"]

_DOWNLOAD, _EXTRACT = " (download)", " (extract)"


def package_label(dist: str) -> str:
    """``name-version`` of a dist name ``name-version-build`` (build strings contain no ``-``)."""
    return dist.rsplit("-", 1)[0] if dist.count("-") >= 2 else dist


def bar_description(dist: str, size: int | None) -> str:
    """conda's description: ``%-20.20s | `` for name-version, then ``%-9s | `` for the size."""
    from conda_deepdive.transaction.package_plan import human_bytes

    text = "%-20.20s | " % package_label(dist)
    if size:
        text += "%-9s | " % human_bytes(size)
    return text


class FetchProgressBars(Reporter):
    """One rich progress bar per package of the fetch stage (created when the package is queued).

    ``console`` is a ``rich.console.Console`` (default: one writing to ``stream``, treated as a
    terminal — the caller has already decided that it is one). ``transient=True`` mirrors conda's
    ``leave=False``; pass ``auto_refresh=False`` in tests and call :meth:`refresh`.
    """

    def __init__(self, stream: TextIO | None = None, console: Any = None, *,
                 transient: bool = True, auto_refresh: bool = True) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.console = console if console is not None else Console(file=stream, force_terminal=True)
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(bar_width=None),
            TextColumn("| {task.percentage:>3.0f}% ", markup=False),
            console=self.console, transient=transient, auto_refresh=auto_refresh,
            redirect_stdout=False, redirect_stderr=False,
        )
        self._tasks: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()
        self._started = False

    def __repr__(self) -> str:
        return f"FetchProgressBars({len(self._tasks)} bars, started={self._started})"

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> "FetchProgressBars":
        if not self._started:
            self._progress.start()
            self._started = True
        return self

    def stop(self) -> None:
        """Close every bar (they disappear: conda's ``leave=False``)."""
        if self._started:
            self._progress.stop()
            self._started = False

    def refresh(self) -> None:
        self._progress.refresh()

    @property
    def bars(self) -> dict[str, float]:
        """``{dist: fraction}`` of the bars drawn so far (for tests and notebooks)."""
        return {dist: self._progress.tasks[self._index(task)].percentage / 100
                for dist, task in self._tasks.items()}

    def _index(self, task_id: Any) -> int:
        return [t.id for t in self._progress.tasks].index(task_id)

    # -- feeding ----------------------------------------------------------------------------------
    def _bar(self, dist: str, size: int | None) -> Any:
        with self._lock:
            task = self._tasks.get(dist)
            if task is None:
                if size:
                    self._sizes[dist] = size
                task = self._progress.add_task(bar_description(dist, size), total=1.0)
                self._tasks[dist] = task
            return task

    def update(self, dist: str, fraction: float, size: int | None = None) -> None:
        task = self._bar(dist, size)
        self._progress.update(task, completed=max(0.0, min(1.0, fraction)))

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        if stage != "fetch":
            return
        if task.endswith(_DOWNLOAD):
            dist = task[: -len(_DOWNLOAD)]
            if total:
                self.update(dist, done / total, self._sizes.get(dist) or total)
        elif task.endswith(_EXTRACT):
            # conda does not move the bar while extracting; the package task fills it at the end
            dist = task[: -len(_EXTRACT)]
            self._bar(dist, self._sizes.get(dist) or total)
        else:
            fraction = 1.0 if total and done >= total else (done / total if total else 0.0)
            if total == 0 and done == 0 and task in self._tasks:
                fraction = 1.0  # unknown size: the second (final) report fills the bar
            self.update(task, fraction, total)
