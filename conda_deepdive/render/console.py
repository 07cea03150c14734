"""Rendering a Session for people, with rich: one section per stage.

This is a *subscriber*: the stages know nothing about it. :class:`LiveReporter` listens to the
tracer protocol while the stages run (warnings, downloads), and :func:`render_stage` draws a
finished stage from its result object's ``summary()`` — a plain dict — so every stage gets a
readable section even before it has a hand-made one. Stage-specific views live in
:mod:`conda_deepdive.render.sections`.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from conda_deepdive.pipeline import STAGES, Session
from conda_deepdive.reporting import Reporter, jsonable

__all__ = ["LiveReporter", "render_stage", "stage_panel", "data_renderable", "STAGE_TITLES"]

STAGE_TITLES = {s.name: s.title for s in STAGES}
_CONDA_MODULE = {s.name: s.conda_module for s in STAGES}


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def data_renderable(data: Any, *, title: str | None = None, limit: int | None = 12) -> RenderableType:
    """Any JSON-like value as a rich renderable: flat dicts become tables, nested data a tree."""
    data = jsonable(data)
    if isinstance(data, dict) and all(_scalar(v) for v in data.values()):
        table = Table(box=box.SIMPLE_HEAD, show_header=False, title=title, pad_edge=False)
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for key, value in data.items():
            table.add_row(str(key), "" if value is None else str(value))
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
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        if limit is not None and len(data) > limit:
            table.caption = f"… {len(data) - limit} more rows (use --stage to see all)"
        return table
    tree = Tree(Text(title or "", style="bold"))
    _fill_tree(tree, data, limit)
    return tree


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
                node.add(str(value))
            else:
                _fill_tree(node.add("•"), value, limit)
        if limit is not None and len(data) > limit:
            node.add(Text(f"… {len(data) - limit} more", style="dim"))
    else:
        node.add(str(data))


def stage_body(session: Session, name: str, *, full: bool = False) -> RenderableType:
    """The section for one finished stage (hand-made view if there is one, else its summary)."""
    from conda_deepdive.render import sections

    result = session.results[name]
    maker = getattr(sections, f"section_{name}", None)
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
    """Shows, while a stage runs, what cannot wait for its section: warnings and progress."""

    def __init__(self, console: Console, *, show_progress: bool = True) -> None:
        self.console = console
        self.show_progress = show_progress
        self._last: dict[tuple[str, str], int] = {}

    def warning(self, stage: str, message: str) -> None:
        self.console.print(Text.assemble(("warning ", "bold yellow"), (f"[{stage}] ", "dim"), message))

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        if not self.show_progress or not total:
            return
        # print at 0 % and 100 % only: a scrolling log stays readable and deterministic
        mark = 100 if done >= total else 0
        key = (stage, task)
        if self._last.get(key) == mark or (mark == 0 and key in self._last):
            return
        self._last[key] = mark
        bar = "█" * (mark // 10) + "░" * (10 - mark // 10)
        self.console.print(Text.assemble(("  ", ""), (bar, "green"), f" {mark:3d}% {task}"))


def stage_header(name: str) -> Group:
    return Group(Text(STAGE_TITLES[name], style="bold magenta"))
