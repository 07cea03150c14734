"""Showing rich renderables in a notebook as real HTML, with a stable plain-text twin.

A terminal draws a rich ``Table`` with box characters at a fixed width. Captured into a notebook
cell as text, that drawing breaks: on a 1024-px screen long lines wrap mid-word and the boxes
fall apart. So :func:`show` translates the renderables the trace uses — ``Panel``, ``Group``,
``Table``, ``Tree``, ``Text`` — into HTML elements (a bordered box, a real ``<table>``, nested
lists, coloured spans, all with *inline* styles, so no stylesheet or network is needed). The
browser then lays them out for the width it has: columns reflow, nothing breaks mid-word. Anything
else falls back to rich's own rendering inside a scrolling ``<pre>``.

Every output also carries a ``text/plain`` version (no colour, fixed width, machine paths replaced
by ``<PREFIX>``-style placeholders — :mod:`conda_deepdive.render.sanitize`). ``pytest --nbval``
compares both against the stored outputs, so both must be the same on every machine: the HTML is a
pure function of the renderable (no ids, no timings).

What you can pass::

    show(session, "solve")        # one stage's section, as ``trace --stage solve`` draws it
    show(session)                 # the result panel: every stage and how the run ended
    show(result)                  # any stage result object (its summary(), as a table/tree)
    show(error)                   # a CondaError: conda's message in red, a conflict as a tree
    show(any_rich_renderable)     # Panel, Table, Tree, Text, a markup string…

``html(...)`` and ``text(...)`` return the two strings instead of displaying them.
"""

from __future__ import annotations

import io
from html import escape

from conda_deepdive.render.sanitize import Sanitizer, sanitizing
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["show", "html", "text", "renderable", "Rich", "use_sanitizer", "default_sanitizer",
           "style_css", "HTML_WIDTH"]

#: columns of the plain-text twin and of the ``<pre>`` fallback (fits a 1024-px screen)
HTML_WIDTH = 100

_DEFAULT: list[Sanitizer | None] = [None]

_FONT = ("var(--jp-code-font-family, 'DejaVu Sans Mono', Menlo, Consolas, 'Courier New', "
         "monospace)")
_WRAPPER_STYLE = (f"font-family:{_FONT};font-size:12.5px;line-height:1.35;overflow-x:auto;"
                  "max-width:100%;color:var(--jp-content-font-color1, #1f2328)")


def use_sanitizer(sanitizer: Sanitizer | None) -> None:
    """Make ``sanitizer`` the default for every later :func:`show` (e.g. ``ws.sanitizer``)."""
    _DEFAULT[0] = sanitizer


def default_sanitizer() -> Sanitizer | None:
    return _DEFAULT[0]


def _is_session(obj: Any) -> bool:
    return hasattr(obj, "results") and hasattr(obj, "stages") and hasattr(obj, "next_stage")


def _sanitizer_for(obj: Any, sanitizer: Sanitizer | None) -> Sanitizer | None:
    """The given sanitizer, else the default, merged with the session's own paths."""
    chosen = sanitizer if sanitizer is not None else _DEFAULT[0]
    if _is_session(obj):
        own = Sanitizer.for_session(obj)
        if chosen is None:
            return own
        # both sets of placeholders; the longest path still wins
        return Sanitizer({**{k: v for k, v in own.pairs if not k.startswith("file://")},
                          **{k: v for k, v in chosen.pairs if not k.startswith("file://")}})
    return chosen


def renderable(obj: Any, stage: str | None = None, *, full: bool = False) -> Any:
    """The rich renderable :func:`show` draws for ``obj`` (call inside ``sanitizing`` for paths)."""
    from conda_deepdive.render.console import data_renderable, error_panel, result_panel, stage_panel

    if _is_session(obj):
        if stage is not None:
            return stage_panel(obj, stage, full=full, timings=False)
        return result_panel(obj, timings=False)
    if isinstance(obj, BaseException):
        return error_panel(obj, stage)
    if isinstance(obj, str) or hasattr(obj, "__rich_console__") or hasattr(obj, "__rich__"):
        return obj
    summary = getattr(obj, "summary", None)
    return data_renderable(summary() if callable(summary) else repr(obj), limit=None if full else 12)


# ----------------------------------------------------------------------------------------------
# rich → HTML
# ----------------------------------------------------------------------------------------------

def _console(width: int) -> Any:
    from rich.console import Console

    return Console(file=io.StringIO(), width=width, color_system="truecolor", force_terminal=True,
                   force_jupyter=False, legacy_windows=False, highlight=False, emoji=False,
                   record=False)


def style_css(style: Any, console: Any = None) -> str:
    """Inline CSS for a rich ``Style`` (or a style string such as ``"bold cyan"``)."""
    from rich.style import Style
    from rich.terminal_theme import DEFAULT_TERMINAL_THEME

    if style is None or style == "":
        return ""
    if isinstance(style, str):
        try:
            style = console.get_style(style) if console is not None else Style.parse(style)
        except Exception:  # an unknown style name: no styling rather than a failure
            return ""
    css = []
    if style.color is not None and not style.color.is_default:
        css.append(f"color:{style.color.get_truecolor(DEFAULT_TERMINAL_THEME).hex}")
    if style.bgcolor is not None and not style.bgcolor.is_default:
        css.append(f"background-color:{style.bgcolor.get_truecolor(DEFAULT_TERMINAL_THEME, foreground=False).hex}")
    if style.bold:
        css.append("font-weight:bold")
    if style.italic:
        css.append("font-style:italic")
    if style.dim:
        css.append("opacity:0.7")
    decorations = [name for name, on in (("underline", style.underline), ("line-through", style.strike)) if on]
    if decorations:
        css.append("text-decoration:" + " ".join(decorations))
    return ";".join(css)


class _Html:
    """Walks a renderable and writes HTML; every piece of text goes through the sanitizer."""

    def __init__(self, console: Any, sanitizer: Sanitizer | None) -> None:
        self.console = console
        self.sanitizer = sanitizer

    def esc(self, value: str) -> str:
        if self.sanitizer is not None:
            value = self.sanitizer.text(value)
        return escape(value, quote=False)

    def segments(self, text: Any) -> list:
        """``text``'s segments with its own base style folded in (``Text.render`` leaves it out)."""
        from rich.style import Style

        base = self.console.get_style(text.style, default=Style()) if text.style else None
        out = []
        for seg in text.render(self.console, end=""):
            if seg.control:
                continue
            style = seg.style
            if base is not None:
                style = base + style if style is not None else base
            out.append((seg.text, style))
        return out

    def spans(self, text: Any) -> str:
        return "".join(self.span(t, style_css(st, self.console)) for t, st in self.segments(text))

    def span(self, text: str, css: str) -> str:
        body = self.esc(text)
        return f'<span style="{css}">{body}</span>' if css else body

    def text(self, text: Any, extra_css: str = "") -> str:
        """A rich Text as spans, newlines and runs of spaces kept (``pre-wrap``)."""
        css = "white-space:pre-wrap;overflow-wrap:break-word"
        if extra_css:
            css += ";" + extra_css
        return f'<div style="{css}">{self.spans(text)}</div>'

    def render(self, obj: Any) -> str:
        from rich.console import Group
        from rich.padding import Padding
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text
        from rich.tree import Tree

        if isinstance(obj, str):
            return self.text(self.console.render_str(obj, highlight=False, emoji=False))
        if isinstance(obj, Text):
            return self.text(obj)
        if isinstance(obj, Group):
            return "".join(self.render(r) for r in obj.renderables)
        if isinstance(obj, Panel):
            return self.panel(obj)
        if isinstance(obj, Table):
            return self.table(obj)
        if isinstance(obj, Tree):
            return self.tree(obj)
        if isinstance(obj, Padding):
            return self.render(obj.renderable)
        rich_method = getattr(obj, "__rich__", None)
        if callable(rich_method) and not hasattr(obj, "__rich_console__"):
            return self.render(rich_method())
        return self.pre(obj)

    def title(self, value: Any) -> str:
        from rich.text import Text

        if value is None or value == "":
            return ""
        text = self.console.render_str(value) if isinstance(value, str) else value
        if not isinstance(text, Text):
            return self.render(text)
        return self.spans(text)

    def panel(self, panel: Any) -> str:
        border = style_css(panel.border_style, self.console)
        colour = "#8c959f"
        for part in border.split(";"):
            if part.startswith("color:"):
                colour = part.split(":", 1)[1]
        heavy = getattr(panel.box, "top", "─") in ("━", "═")
        out = [f'<div style="border:{2 if heavy else 1}px solid {colour};border-radius:6px;'
               'margin:6px 0;padding:4px 10px 6px 10px;max-width:100%;box-sizing:border-box">']
        if panel.title:
            out.append(f'<div style="margin:-2px 0 4px 0;color:{colour}">{self.title(panel.title)}</div>')
        out.append(self.render(panel.renderable))
        if panel.subtitle:
            out.append(f'<div style="text-align:right;opacity:0.7;font-size:11px">'
                       f'{self.title(panel.subtitle)}</div>')
        out.append("</div>")
        return "".join(out)

    def table(self, table: Any) -> str:
        out = ['<div style="overflow-x:auto;margin:4px 0 6px 0;max-width:100%">']
        if table.title:
            out.append(f'<div style="font-weight:bold;margin:2px 0">{self.title(table.title)}</div>')
        out.append('<table style="border-collapse:collapse;border:none;margin:0;font-size:inherit;'
                   'font-family:inherit;table-layout:auto">')
        columns = table.columns
        cell = ('padding:1px 12px 1px 0;text-align:{align};vertical-align:top;border:none;'
                'background:none')
        if table.show_header and any(c.header for c in columns):
            out.append("<thead><tr>")
            for col in columns:
                css = cell.format(align="left") + ";border-bottom:1px solid #8c959f;font-weight:bold"
                head_css = style_css(col.header_style, self.console) if col.header_style else ""
                out.append(f'<th style="{css};{head_css}">{self.title(col.header)}</th>')
            out.append("</tr></thead>")
        out.append("<tbody>")
        for row in range(table.row_count):
            out.append("<tr>")
            for col in columns:
                cells = list(col.cells)
                value = cells[row] if row < len(cells) else ""
                align = {"right": "right", "center": "center"}.get(col.justify, "left")
                css = cell.format(align=align)
                col_css = style_css(col.style, self.console) if col.style else ""
                nowrap = ";white-space:nowrap" if col.no_wrap else ""
                out.append(f'<td style="{css}{nowrap};{col_css}">{self.cell(value)}</td>')
            out.append("</tr>")
        out.append("</tbody></table>")
        if table.caption:
            out.append(f'<div style="opacity:0.7;font-style:italic">{self.title(table.caption)}</div>')
        out.append("</div>")
        return "".join(out)

    def cell(self, value: Any) -> str:
        from rich.text import Text

        if isinstance(value, str):
            value = self.console.render_str(value, highlight=False, emoji=False)
        if isinstance(value, Text):
            body = self.spans(value).replace("\n", "<br>")
            # a short value stays on one line; only long ones (paths, spec lists) wrap
            if len(value.plain) <= 24 and "\n" not in value.plain:
                return f'<span style="white-space:nowrap">{body}</span>'
            return body
        return self.render(value)

    def tree(self, tree: Any, top: bool = True) -> str:
        label = "" if tree.label is None else self.title(tree.label)
        children = "".join(f"<li>{self.tree(child, top=False)}</li>" for child in tree.children)
        ul = ('<ul style="list-style:none;margin:0;padding-left:1.3em;border-left:1px dotted #8c959f">'
              f"{children}</ul>") if children else ""
        wrap = "margin:2px 0" if top else ""
        return f'<div style="{wrap}"><div style="white-space:pre-wrap">{label}</div>{ul}</div>'

    def pre(self, obj: Any) -> str:
        """Anything else: rich's own drawing, coloured, in a block that scrolls (never wraps)."""
        from rich.segment import Segment

        lines = self.console.render_lines(obj, pad=False)
        body = []
        for line in lines:
            body.append("".join(self.span(seg.text, style_css(seg.style, self.console))
                                for seg in Segment.simplify(line) if not seg.control).rstrip())
        return ('<pre style="white-space:pre;overflow-x:auto;margin:4px 0;font-family:inherit;'
                'background:none;padding:0">' + "\n".join(body) + "</pre>")


def html(obj: Any, stage: str | None = None, *, full: bool = False,
         sanitizer: Sanitizer | None = None, width: int = HTML_WIDTH) -> str:
    """An HTML fragment with inline styles for ``obj`` (deterministic for a fixed input)."""
    sanitizer = _sanitizer_for(obj, sanitizer)
    with sanitizing(sanitizer):
        thing = renderable(obj, stage, full=full)
        body = _Html(_console(width), sanitizer).render(thing)
    return f'<div class="conda-deepdive" style="{_WRAPPER_STYLE}">{body}</div>'


def text(obj: Any, stage: str | None = None, *, full: bool = False,
         sanitizer: Sanitizer | None = None, width: int = HTML_WIDTH) -> str:
    """The plain-text twin: no colour, ``width`` columns, paths replaced by placeholders."""
    from conda_deepdive.render.console import render_text

    sanitizer = _sanitizer_for(obj, sanitizer)
    with sanitizing(sanitizer):
        thing = renderable(obj, stage, full=full)
        return render_text(thing, width=width, sanitizer=sanitizer)


@value_object(frozen=True)
class Rich:
    """A displayable pair (HTML for people, text for diffing); what :func:`show` displays."""

    html: str
    text: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return {"text/plain": self.text.rstrip("\n"), "text/html": self.html}

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text.rstrip("\n")

    @classmethod
    def of(cls, obj: Any, stage: str | None = None, *, full: bool = False,
           sanitizer: Sanitizer | None = None, width: int = HTML_WIDTH) -> "Rich":
        return cls(html(obj, stage, full=full, sanitizer=sanitizer, width=width),
                   text(obj, stage, full=full, sanitizer=sanitizer, width=width))


def show(obj: Any, stage: str | None = None, *, full: bool = False,
         sanitizer: Sanitizer | None = None, width: int = HTML_WIDTH) -> None:
    """Display ``obj`` in the notebook (HTML + stable text); outside IPython, print the text."""
    shown = Rich.of(obj, stage, full=full, sanitizer=sanitizer, width=width)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: the text twin is the whole story
        print(shown.text, end="")
        return
    if get_ipython() is None:
        print(shown.text, end="")
        return
    display(shown)
