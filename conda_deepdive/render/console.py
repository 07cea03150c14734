"""Rendering a Session for people, with rich: one panel per stage, a result panel, errors.

This is a *subscriber*: the stages know nothing about it. :class:`LiveReporter` listens to the
tracer protocol while the stages run (warnings, progress bars on a terminal), and
:func:`stage_panel` draws a finished stage — with its hand-made section from
:mod:`conda_deepdive.render.sections` when there is one, else from its result object's
``summary()`` (a plain dict), so every stage is readable. :func:`error_panel` shows a failed
stage's conda message in red (no traceback), :func:`result_panel` every stage with its time, and
:func:`render_text` turns any of them into plain text for snapshots, notebooks and the README.

Sections never contain timings; only the panel subtitles and the result panel do, and both take
``timings=False`` for deterministic output.
"""

from __future__ import annotations


from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from conda_deepdive.pipeline import STAGES, Session
from conda_deepdive.render.sanitize import clean
from conda_deepdive.reporting import Reporter, _drop_timings, jsonable

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["LiveReporter", "render_stage", "stage_panel", "stage_body", "data_renderable", "STAGE_TITLES",
           "error_panel", "result_panel", "render_text"]

STAGE_TITLES = {s.name: s.title for s in STAGES}
_CONDA_MODULE = {s.name: s.conda_module for s in STAGES}


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def data_renderable(data: Any, *, title: str | None = None, limit: int | None = 12) -> RenderableType:
    """Any JSON-like value as a rich renderable: flat dicts become tables, nested data a tree."""
    data = _cleaned(_drop_timings(jsonable(data)))
    if isinstance(data, dict) and all(_scalar(v) for v in data.values()):
        table = Table(box=box.SIMPLE_HEAD, show_header=False, title=title, pad_edge=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, value in data.items():
            table.add_row(Text(str(key)), Text("" if value is None else str(value)))
        return table
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data) and all(
        all(_scalar(v) for v in r.values()) for r in data
    ):
        columns: list[str] = []
        for row in data:
            columns += [k for k in row if k not in columns]
        table = Table(box=box.SIMPLE_HEAD, title=title, pad_edge=False)
        for col in columns:
            table.add_column(col)
        shown = data if limit is None else data[:limit]
        for row in shown:
            table.add_row(*(Text("" if row.get(c) is None else str(row.get(c))) for c in columns))
        if limit is not None and len(data) > limit:
            table.caption = f"… {len(data) - limit} more rows (trace --stage NAME shows all)"
        return table
    tree = Tree(Text(title or "", style="bold"))
    _fill_tree(tree, data, limit)
    return tree


def _cleaned(data: Any) -> Any:
    if isinstance(data, str):
        return clean(data)
    if isinstance(data, list):
        return [_cleaned(v) for v in data]
    if isinstance(data, dict):
        return {clean(k): _cleaned(v) for k, v in data.items()}
    return data


def _fill_tree(node: Tree, data: Any, limit: int | None) -> None:
    if isinstance(data, dict):
        items = list(data.items())
        for key, value in items if limit is None else items[: max(limit, 1) * 4]:
            if _scalar(value):
                node.add(Text.assemble((f"{key}: ", "cyan"), str(value)))
            else:
                _fill_tree(node.add(Text(str(key), style="cyan")), value, limit)
    elif isinstance(data, list):
        shown = data if limit is None else data[:limit]
        for value in shown:
            if _scalar(value):
                node.add(Text(str(value)))
            else:
                _fill_tree(node.add("•"), value, limit)
        if limit is not None and len(data) > limit:
            node.add(Text(f"… {len(data) - limit} more", style="dim"))
    else:
        node.add(Text(str(data)))


def stage_body(session: Session, name: str, *, full: bool = False) -> RenderableType:
    """The section for one finished stage (hand-made view if there is one, else its summary)."""
    from conda_deepdive.render import sections

    from conda_deepdive.pipeline import DeferredFailure

    result = session.results[name]
    if getattr(session, "explicit", False):
        from conda_deepdive.render.explicit import EXPLICIT_STAGES, section_explicit

        if name in EXPLICIT_STAGES:  # stages 3-6 of an explicit install: "no solve"
            return section_explicit(name, result, session, full=full)
    maker = getattr(sections, f"section_{name}", None)
    if isinstance(result, DeferredFailure):
        # conda's retry loop will decide: show the failure as a note, not as an error
        return Group(Text(f"{type(result.error).__name__} on the first attempt — conda retries "
                          "(see the solve stage's attempts):", style="yellow"),
                     Text(str(result.error)))
    if maker is not None:
        body = maker(result, session, full=full)
        if body is not None:
            return body
    summary = getattr(result, "summary", None)
    data = summary() if callable(summary) else repr(result)
    return data_renderable(data, limit=None if full else 12)


def stage_panel(session: Session, name: str, *, full: bool = False, timings: bool = True) -> Panel:
    title = STAGE_TITLES[name]
    seconds = session.seconds.get(name)
    subtitle = f"mirrors {_CONDA_MODULE[name]}"
    if timings and seconds is not None:
        subtitle += f" · {seconds:.3f} s"
    return Panel(stage_body(session, name, full=full), title=f"[bold]{title}[/]",
                 title_align="left", subtitle=subtitle, subtitle_align="right", box=box.ROUNDED)


def render_stage(console: Console, session: Session, name: str, *, full: bool = False,
                 timings: bool = True) -> None:
    console.print(stage_panel(session, name, full=full, timings=timings))


class LiveReporter(Reporter):
    """Shows, while a stage runs, what cannot wait for its section: warnings and progress.

    On a terminal, downloads and extractions drive a transient progress bar (gone once the stage
    ends, so the scrollback holds only the sections). Elsewhere — a pipe, a test, a notebook —
    progress is not printed at all: the fetch section lists every package anyway, and the output
    stays the same from run to run.
    """

    def __init__(self, console: Console, *, show_progress: bool | None = None) -> None:
        self.console = console
        self.show_progress = console.is_terminal if show_progress is None else show_progress
        self._progress = None
        self._tasks: dict[str, Any] = {}
        self._stage: str | None = None

    def stage_started(self, stage: str, title: str) -> None:
        if stage == self._stage:  # the transaction announces "link" again from inside
            return
        self._stop_progress()
        self._stage = stage
        if self.show_progress:
            self.console.print(Text(f"▶ {title} …", style="dim"))

    def stage_finished(self, stage: str, result: Any) -> None:
        self._stop_progress()

    def warning(self, stage: str, message: str) -> None:
        self.console.print(Text.assemble(("warning ", "bold yellow"), (f"[{stage}] ", "dim"), message))

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        if not self.show_progress or not total:
            return
        from rich.progress import BarColumn, Progress, TextColumn

        if self._progress is None:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                      TextColumn("{task.percentage:>3.0f}%"),
                                      console=self.console, transient=True)
            self._progress.start()
        key = f"{stage}:{task}"
        if key not in self._tasks:
            self._tasks[key] = self._progress.add_task(task, total=total)
        self._progress.update(self._tasks[key], completed=done, total=total)

    def _stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._tasks.clear()


def error_panel(exc: BaseException, stage: str | None = None) -> Panel:
    """conda's message for a failed stage, in red, without a traceback."""
    title = f"[bold]{type(exc).__name__}[/]" + (f" in {STAGE_TITLES.get(stage, stage)}" if stage else "")
    body: list[RenderableType] = [Text(clean(str(exc).strip() or type(exc).__name__))]
    from conda_deepdive.exceptions import UnsatisfiableError

    if isinstance(exc, UnsatisfiableError):
        from conda_deepdive.render.conflicts import conflict_groups, conflict_tree

        if conflict_groups(exc):
            body += [Text(""), Text("The same conflict as a tree:", style="bold"), conflict_tree(exc)]
    return Panel(Group(*body), title=title, title_align="left", border_style="red", box=box.HEAVY)


def result_panel(session: Session, *, timings: bool = True, notes: list[str] | tuple = (),
                 error: BaseException | None = None) -> Panel:
    """The end of a trace: every stage with its time, how the run ended, and what changed."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("stage")
    table.add_column("result")
    if timings:
        table.add_column("time", justify="right")
    total = 0.0
    for name in session.stages:
        if name in session.results:
            result = session.results[name]
            seconds = session.seconds.get(name, 0.0)
            total += seconds
            row = [Text(STAGE_TITLES[name], style="cyan"), Text(_one_line(name, result))]
            if timings:
                row.append(Text(f"{seconds:.3f} s"))
        elif error is not None and name == session.next_stage:
            row = [Text(STAGE_TITLES[name], style="red"), Text(f"failed: {type(error).__name__}", style="red")]
            if timings:
                row.append(Text(""))
        else:
            row = [Text(STAGE_TITLES[name], style="dim"), Text("not run", style="dim")]
            if timings:
                row.append(Text(""))
        table.add_row(*row)
    if timings:
        table.add_row(Text("total", style="bold"), Text(""), Text(f"{total:.3f} s", style="bold"))
    body: list[RenderableType] = [table]
    if session.stopped_reason:
        body.append(Text(f"stopped: {session.stopped_reason}", style="bold yellow"))
    for note in notes:
        body.append(Text(clean(note), style="italic"))
    style = "red" if error is not None else "green"
    return Panel(Group(*body), title="[bold]Result[/]", title_align="left", border_style=style,
                 box=box.ROUNDED)


def _one_line(name: str, result: Any) -> str:
    from conda_deepdive.render.sections import one_line

    try:
        text = one_line(name, result)
    except Exception:  # a result object from a newer stage module: its repr still says something
        text = repr(result).splitlines()[0] if result is not None else "-"
    text = clean(text)
    return text if len(text) <= 90 else text[:89] + "…"


def render_text(renderables: Any, *, width: int = 100, sanitizer: Any = None) -> str:
    """Plain text of one or more renderables (no colour): snapshots, notebooks, README excerpts."""
    import io

    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                      force_jupyter=False, legacy_windows=False, record=False, highlight=False,
                      emoji=False)
    if not isinstance(renderables, (list, tuple)):
        renderables = [renderables]
    for renderable in renderables:
        console.print(renderable)
    text = console.file.getvalue()
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    return sanitizer.text(text) if sanitizer is not None else text
