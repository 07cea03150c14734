"""The stage explorer: step through one ``conda install`` in a notebook, and look back.

``StageExplorer`` wraps a :class:`~conda_deepdive.pipeline.Session` in a small ipywidgets app:

* a **rail** of the stages (green: done, blue: the one you are looking at, grey: to come, red:
  failed); click a finished stage to look at it again;
* **Next** runs the next stage (or, if you went back, moves the view forward), **Back** shows an
  earlier stage — *only shows it*: a stage never runs twice, so going back over ``link`` never
  links again — and a **run to** menu runs every stage up to the one you pick;
* the current stage's **rendering** beside an **inspector** of its result object (click an
  attribute to open it);
* views where a picture says more than a table: the solution's **dependency graph** (drawn as
  SVG by :func:`graph_svg`, no network needed), the solver's **optimisation passes**, the
  **action timeline** (each action's verify / execute / reverse state) and a **fault picker**
  that makes one chosen action fail and plays the rollback, last action first, ending with the
  prefix exactly as it was.

The same methods work without widgets (``ex.next()``, ``ex.back()``, ``ex.run_to("solve")``,
``ex.inject_fault(12)``) and an explorer displays itself as a plain snapshot (text and HTML of
the current state) wherever widgets cannot run — ``pytest --nbval``, nbviewer, GitHub — next to
the live widget in JupyterLab 4 and Notebook 7::

    >>> sb = Sandbox("explore")
    >>> ex = StageExplorer(["install", "numpy"], sb)     # runs stage 1 (parse) straight away
    >>> ex                                              # the widget (or its snapshot)
    >>> ex.run_to("fetch"); ex.inject_fault(20)         # a failure at action #20, rolled back

What to notice: the fault picker does not touch the session you are exploring. It builds a
second ``UnlinkLinkTransaction`` from the *same* ``PrefixSetup`` (as conda would on a retry),
with ``CONDA_DEEPDIVE_FAIL_AT`` set, and runs it into the same prefix: the rollback must leave
the prefix byte for byte as it found it — the explorer checks, and says so.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import contextmanager
from html import escape
from collections.abc import Iterator, Mapping, Sequence

from conda_deepdive.course.display import HTML_WIDTH, Rich, html as rich_html, text as rich_text
from conda_deepdive.pipeline import STAGE_NAMES, STAGES, Session
from conda_deepdive.render.sanitize import Sanitizer
from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["StageExplorer", "ActionState", "FaultReplay", "execution_plan", "graph_svg",
           "passes_html", "timeline_html", "inspect_html", "prefix_digest", "RAIL_LABELS"]

#: the rail's short labels (the deep dive's numbering: 5a/5b are the two halves of stage 5)
RAIL_LABELS = {
    "parse": "1 CLI", "context": "2 Context", "index": "3 Index", "priority": "4 Priority",
    "specs": "5a Specs", "reduce": "5b Reduction", "solve": "6 Solve", "transaction": "7 Transaction",
    "fetch": "8 Fetch", "link": "9 Link",
}
_TITLES = {s.name: s.title for s in STAGES}
# ipywidgets' HTML widget sets a 28-px line height for one-line labels: reset it for documents
_BOX = ("font-family:var(--jp-ui-font-family, sans-serif);font-size:13px;line-height:1.4;"
        "max-width:100%;box-sizing:border-box")


# ----------------------------------------------------------------------------------------------
# what a transaction will execute, in order
# ----------------------------------------------------------------------------------------------

def execution_plan(txn: Any) -> list:
    """The actions ``txn.execute()`` will run, in its order, numbered from 1 by position.

    This mirrors ``UnlinkLinkTransaction.execute``: menus and unlink first, then link, entry
    points, *one* aggregated pyc compile, the conda-meta records, register + history, menus.
    (Scripts are not actions: they run between them and are not counted.) Prepares ``txn``.
    """
    from conda_deepdive.link.generated_actions import AggregateCompileMultiPycAction

    groups = txn.all_action_groups()

    def of(kind: str) -> list:
        return [a for g in groups if g.type == kind for a in g.actions]

    plan = [*of("remove_menus"), *of("unlink"), *of("unregister"), *of("link"), *of("entry_point")]
    individual = of("compile")
    if individual:
        plan.append(AggregateCompileMultiPycAction(*individual))
    plan += [*of("record"), *of("register"), *of("make_menus")]
    return plan


@value_object(frozen=True)
class ActionState:
    """One action of a transaction and what happened to it: verified, executed, reversed."""

    number: int
    action: str
    package: str | None
    target: str | None
    verify: str = "-"      # "ok" | "-"
    execute: str = "-"     # "ok" | "FAILED" | "-" (never ran)
    reverse: int | None = None  # its place in the rollback (1 = reversed first), None: not reversed

    def summary(self) -> dict:
        return {"number": self.number, "action": self.action, "package": self.package,
                "target": self.target, "verify": self.verify, "execute": self.execute,
                "reverse": self.reverse}


def _describe_key(d: Mapping[str, Any]) -> tuple:
    return (d.get("action"), d.get("target"), d.get("package"))


def action_states(plan: Sequence[Any], executed: int, *, failed_at: int | None = None,
                  reversed_events: Sequence[Mapping[str, Any]] = (), verified: bool = True) -> list[ActionState]:
    """Rows for a timeline: ``executed`` actions ran, ``failed_at`` failed, the recorded
    ``reverse`` events (in order) are matched back to the executed actions they undid."""
    rows = []
    for number, action in enumerate(plan, 1):
        d = action.describe()
        state = "ok" if number <= executed else ("FAILED" if number == failed_at else "-")
        rows.append([number, d.get("action"), d.get("package"), d.get("target"),
                     "ok" if verified else "-", state, None])
    # the rollback walks the groups backwards; match each undone action to the latest executed
    # action that describes itself the same way and is not matched yet
    open_by_key: dict[tuple, list[int]] = {}
    for row in rows:
        if row[5] == "ok":
            open_by_key.setdefault((row[1], row[3], row[2]), []).append(row[0])
    for order, event in enumerate(reversed_events, 1):
        numbers = open_by_key.get(_describe_key(event))
        if numbers:
            rows[numbers.pop() - 1][6] = order
    return [ActionState(*row) for row in rows]


# ----------------------------------------------------------------------------------------------
# the fault picker
# ----------------------------------------------------------------------------------------------

def prefix_digest(prefix: str, extra_files: Sequence[str] = ()) -> dict[str, str]:
    """``{relative path: kind + content hash}`` of everything under ``prefix`` (and of
    ``extra_files``, e.g. ``~/.conda/environments.txt``): equal digests = identical trees."""
    out: dict[str, str] = {}
    if os.path.lexists(prefix):
        for root, dirs, files in os.walk(prefix):
            dirs.sort()
            for name in sorted(dirs):
                full = os.path.join(root, name)
                if os.path.islink(full):
                    out[os.path.relpath(full, prefix)] = "link:" + os.readlink(full)
                else:
                    out[os.path.relpath(full, prefix) + "/"] = "dir"
            for name in sorted(files):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, prefix)
                if os.path.islink(full):
                    out[rel] = "link:" + os.readlink(full)
                else:
                    with open(full, "rb") as f:
                        out[rel] = "file:" + hashlib.sha256(f.read()).hexdigest()
    for path in extra_files:
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out["@" + path] = "file:" + hashlib.sha256(f.read()).hexdigest()
    return out


@value_object(frozen=True)
class FaultReplay:
    """A failure injected at one action of a copy of the session's transaction, and its rollback."""

    fail_at: int | str
    failed_number: int | None
    error: str
    rows: tuple[ActionState, ...]
    reversed_count: int
    prefix_identical: bool
    new_prefix_removed: bool
    changed_paths: tuple[str, ...] = ()
    events: tuple = field(default=(), repr=False)

    @property
    def executed(self) -> int:
        return sum(1 for r in self.rows if r.execute == "ok")

    def summary(self) -> dict:
        return {"fail_at": self.fail_at, "failed_number": self.failed_number, "error": self.error,
                "executed_before_failure": self.executed, "reversed": self.reversed_count,
                "prefix_identical": self.prefix_identical, "new_prefix_removed": self.new_prefix_removed,
                "changed_paths": list(self.changed_paths)}

    def __repr__(self) -> str:
        return (f"FaultReplay(fail_at={self.fail_at!r}, executed={self.executed}, "
                f"reversed={self.reversed_count}, prefix_identical={self.prefix_identical})")


@contextmanager
def _holding_temp_dirs(prefixes: Sequence[str]) -> Iterator[None]:
    """Keep each prefix's ``.condatmp`` aside while a second transaction runs there.

    A transaction removes the whole ``<prefix>/.condatmp`` when it ends; a transaction that is
    verified but not executed yet (the session's own) keeps its rewritten files in that folder.
    So the copy gets a folder of its own and the original comes back afterwards."""
    held = []
    for prefix in prefixes:
        temp = os.path.join(prefix, ".condatmp")
        if os.path.isdir(temp) and not os.path.islink(temp):
            aside = os.path.join(prefix, f".condatmp-held-{os.getpid()}-{id(held)}")
            os.replace(temp, aside)
            held.append((aside, temp))
    try:
        yield
    finally:
        for aside, temp in held:
            shutil.rmtree(temp, ignore_errors=True)
            os.replace(aside, temp)


def _run_replay(txn: Any, setups: list, fail_at: int | str) -> tuple:
    from conda_deepdive.exceptions import CondaMultiError, InjectedFault
    from conda_deepdive.reporting import RecordingReporter
    from conda_deepdive.transaction.transaction import FAIL_AT_VAR, UnlinkLinkTransaction

    recorder = RecordingReporter()
    replay = UnlinkLinkTransaction(*setups, context=txn.context, reporter=recorder,
                                   env={**txn.env, FAIL_AT_VAR: str(fail_at)}, cmd=txn.cmd)
    replay.verify()
    plan = execution_plan(replay)
    names = {type(a).__name__ for a in plan}
    if not ((isinstance(fail_at, int) and 1 <= fail_at <= len(plan)) or (isinstance(fail_at, str) and fail_at in names)):
        # without a failure the copy would really install: refuse before anything runs
        replay._remove_temp_dirs()
        raise ValueError(f"no action {fail_at!r} to fail: pick a number from 1 to {len(plan)} or one of "
                         f"{', '.join(sorted(names))}")
    error = ""
    failed_number = None
    try:
        replay.execute()
    except CondaMultiError as exc:
        first = exc.errors[0] if getattr(exc, "errors", None) else exc
        error = f"{type(first).__name__}: {first}"
        if isinstance(first, InjectedFault):
            failed_number = len(replay.executed_log) + 1
    return replay, plan, failed_number, error


def replay_with_fault(txn: Any, fail_at: int | str) -> FaultReplay:
    """Run a fresh transaction built from ``txn``'s setups with a failure at ``fail_at`` (an
    action number from :func:`execution_plan`, or an action class name) and check the rollback."""
    setups = list(txn.prefix_setups.values())
    home = txn.env.get("HOME") or os.path.expanduser("~")
    envs_txt = os.path.join(home, ".conda", "environments.txt")
    before = {s.target_prefix: prefix_digest(s.target_prefix, [envs_txt]) for s in setups}
    existed = {s.target_prefix: os.path.lexists(s.target_prefix) for s in setups}
    with _holding_temp_dirs([s.target_prefix for s in setups]):
        replay, plan, failed_number, error = _run_replay(txn, setups, fail_at)
    events = tuple(e for e in replay.reporter.events if e.stage == "link")
    reverses = [e.data for e in events if e.kind == "reverse"]
    rows = action_states(plan, len(replay.executed_log), failed_at=failed_number, reversed_events=reverses)
    after = {s.target_prefix: prefix_digest(s.target_prefix, [envs_txt]) for s in setups}
    changed = sorted({p for prefix in before for p in set(before[prefix]) ^ set(after[prefix])} |
                     {p for prefix in before for p in before[prefix]
                      if p in after[prefix] and before[prefix][p] != after[prefix][p]})
    return FaultReplay(
        fail_at=fail_at, failed_number=failed_number, error=error, rows=tuple(rows),
        reversed_count=len(reverses), prefix_identical=before == after,
        new_prefix_removed=all(existed[p] or not os.path.lexists(p) for p in existed),
        changed_paths=tuple(changed), events=events,
    )


# ----------------------------------------------------------------------------------------------
# pictures: dependency graph, optimisation passes, timeline, inspector
# ----------------------------------------------------------------------------------------------

def _layers(graph: Any) -> list[list[str]]:
    """Rows of the drawing: dependents above their dependencies; each row ordered to keep
    edges short (barycentre of the nodes above), ties by name, so the layout is deterministic."""
    import networkx as nx

    if nx.is_directed_acyclic_graph(graph):
        layers = [sorted(layer) for layer in nx.topological_generations(graph)]
    else:  # a dependency cycle: one row per strongly connected part
        condensed = nx.condensation(graph)
        layers = [sorted(n for c in layer for n in condensed.nodes[c]["members"])
                  for layer in nx.topological_generations(condensed)]
    placed: dict[str, float] = {}
    for i, layer in enumerate(layers):
        if i:
            def centre(node: str) -> float:
                ups = [placed[p] for p in graph.predecessors(node) if p in placed]
                return sum(ups) / len(ups) if ups else 1e9
            layer.sort(key=lambda n: (centre(n), n))
        for j, node in enumerate(layer):
            placed[node] = (j + 0.5) / len(layer)
    return layers


def graph_svg(records: Sequence[Any], requested: Sequence[str] = (), *, box_w: int = 150,
              box_h: int = 28, gap_x: int = 14, gap_y: int = 40, max_cols: int = 5) -> str:
    """The solution as an SVG picture: one box per package (requested ones filled), an arrow
    from each package to what it depends on. Scales to the width it gets."""
    from conda_deepdive.render.graph import dependency_graph

    graph = dependency_graph(r for r in records if not r.name.startswith("__"))
    if not graph.nodes:
        return "<div><i>no packages</i></div>"
    layers = []
    for layer in _layers(graph):
        # a wide layer becomes several rows, so labels stay readable on a laptop screen
        layers += [layer[i:i + max_cols] for i in range(0, len(layer), max_cols)]
    width = max(len(layer) for layer in layers) * (box_w + gap_x) + gap_x
    height = len(layers) * (box_h + gap_y) + gap_y // 2
    pos: dict[str, tuple[int, int]] = {}
    for row, layer in enumerate(layers):
        offset = (width - len(layer) * (box_w + gap_x) + gap_x) // 2
        for col, node in enumerate(layer):
            pos[node] = (offset + col * (box_w + gap_x), gap_y // 4 + row * (box_h + gap_y))
    wanted = set(requested)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'style="width:100%;max-width:{width}px;height:auto" font-family="sans-serif" font-size="12" '
        'role="img" aria-label="dependency graph">',
        '<defs><marker id="cdd-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f"/>'
        '</marker></defs>',
    ]
    for a, b in sorted(graph.edges):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        sx, sy, ex, ey = x1 + box_w // 2, y1 + box_h, x2 + box_w // 2, y2
        mid = (sy + ey) // 2
        parts.append(f'<path d="M {sx} {sy} C {sx} {mid}, {ex} {mid}, {ex} {ey}" fill="none" '
                     'stroke="#8c959f" stroke-width="1" marker-end="url(#cdd-arrow)"/>')
    for node in sorted(pos):
        x, y = pos[node]
        label = graph.nodes[node].get("label", node)
        if len(label) > 22:
            label = label[:21] + "…"
        fill, stroke, colour = (("#1f6feb", "#1f6feb", "#ffffff") if node in wanted
                                else ("#eef4fb", "#3b6ea5", "#1f2328"))
        parts.append(
            f'<g><title>{escape(graph.nodes[node].get("label", node))} '
            f'({escape(str(graph.nodes[node].get("build", "")))})</title>'
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{x + box_w // 2}" y="{y + box_h // 2 + 4}" text-anchor="middle" fill="{colour}">'
            f'{escape(label)}</text></g>')
    parts.append("</svg>")
    legend = ('<div style="font-size:12px;opacity:0.8;margin-top:4px">Filled boxes: what you asked '
              'for. An arrow goes from a package to a package it depends on; conda links the bottom '
              'rows first.</div>')
    return f'<div style="{_BOX}">' + "".join(parts) + legend + "</div>"


def passes_html(solve_result: Any) -> str:
    """The lexicographic optimisation passes as bars: how many terms each objective had and
    the best value the solver could reach (0 = nothing to give up)."""
    stats = getattr(getattr(solve_result, "outcome", None), "stats", None)
    passes = list(getattr(stats, "passes", ()) or ())
    if not passes:
        return f'<div style="{_BOX}"><i>No optimisation passes (the solve did not reach them).</i></div>'
    biggest = max(max(p.objective_size, p.bound) for p in passes) or 1
    rows = []
    for i, p in enumerate(passes, 1):
        terms = int(300 * p.objective_size / biggest)
        best = int(300 * p.bound / biggest)
        muted = "" if p.objective_size else "opacity:0.45;"
        rows.append(
            f'<tr style="{muted}"><td style="padding:1px 8px 1px 0;text-align:right">{i}</td>'
            f'<td style="padding:1px 10px 1px 0;white-space:nowrap;font-family:monospace">{escape(p.name)}</td>'
            f'<td style="padding:1px 0;min-width:310px"><div style="background:#d0e3f7;height:9px;'
            f'width:{max(terms, 1)}px" title="{p.objective_size} terms"></div>'
            f'<div style="background:#e36209;height:7px;width:{best}px;margin-top:1px" '
            f'title="best {p.bound}"></div></td>'
            f'<td style="padding:1px 8px;text-align:right">{p.objective_size}</td>'
            f'<td style="padding:1px 8px;text-align:right">{p.bound}</td>'
            f'<td style="padding:1px 8px;text-align:right">{p.sat_calls}</td></tr>')
    head = ('<tr><th></th><th style="text-align:left">pass</th><th style="text-align:left">'
            '<span style="color:#3b6ea5">■</span> terms <span style="color:#e36209">■</span> best</th>'
            '<th>terms</th><th>best</th><th>SAT calls</th></tr>')
    sat = (f"{stats.variables:,} variables, {stats.clauses:,} clauses; {len(stats.sat_calls)} "
           f"pycosat calls, {stats.solutions_found} solution(s) found")
    return (f'<div style="{_BOX}"><div><b>SAT problem:</b> {escape(sat)}</div>'
            f'<table style="border-collapse:collapse;margin-top:6px">{head}{"".join(rows)}</table>'
            '<div style="font-size:12px;opacity:0.8;margin-top:4px">Lexicographic: each pass finds '
            'its best value and keeps it as a constraint for the passes after it. A pass with no '
            'terms (greyed) had nothing to choose between.</div></div>')


_EXEC_COLOUR = {"ok": "#2da44e", "FAILED": "#cf222e", "-": "#d0d7de"}


def timeline_html(rows: Sequence[ActionState], *, title: str = "", limit: int = 400,
                  sanitizer: Sanitizer | None = None) -> str:
    """Every action as a square (green: executed, red: failed, grey: never ran, orange:
    reversed in the rollback), then the table with each action's three states."""
    if sanitizer is not None:  # targets can be the prefix itself (register, history)
        rows = [ActionState(r.number, r.action, sanitizer.text(r.package) if r.package else r.package,
                            sanitizer.text(r.target) if r.target else r.target, r.verify, r.execute, r.reverse)
                for r in rows]
    squares = []
    size, per_row = 12, 50
    for i, row in enumerate(rows):
        x, y = (i % per_row) * (size + 2), (i // per_row) * (size + 2)
        colour = _EXEC_COLOUR.get(row.execute, "#d0d7de")
        if row.reverse is not None:
            colour = "#fb8f44"
        tip = escape(f"#{row.number} {row.action} {row.package or ''} {row.target or ''}"
                     f" — verify {row.verify}, execute {row.execute}"
                     + (f", reversed #{row.reverse}" if row.reverse else ""))
        squares.append(f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="2" '
                       f'fill="{colour}"><title>{tip}</title></rect>')
    lines = (len(rows) + per_row - 1) // per_row
    strip = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {per_row * (size + 2)} '
             f'{max(lines, 1) * (size + 2)}" style="width:100%;max-width:{per_row * (size + 2)}px;'
             f'height:auto">{"".join(squares)}</svg>')
    legend = ('<div style="font-size:12px;margin:2px 0 6px 0">'
              '<span style="color:#2da44e">■</span> executed '
              '<span style="color:#cf222e">■</span> failed '
              '<span style="color:#fb8f44">■</span> executed, then reversed '
              '<span style="color:#d0d7de">■</span> never ran</div>')
    body = []
    for row in rows[:limit]:
        rev = "" if row.reverse is None else f"↺ {row.reverse}"
        body.append(
            f'<tr><td style="text-align:right;padding:0 8px 0 0">{row.number}</td>'
            f'<td style="padding:0 8px 0 0;font-family:monospace">{escape(row.action or "")}</td>'
            f'<td style="padding:0 8px 0 0">{escape(row.package or "")}</td>'
            f'<td style="padding:0 8px 0 0;font-family:monospace">{escape(row.target or "")}</td>'
            f'<td style="padding:0 8px 0 0">{row.verify}</td>'
            f'<td style="padding:0 8px 0 0;color:{_EXEC_COLOUR.get(row.execute, "inherit")}">{row.execute}</td>'
            f'<td style="padding:0 8px 0 0;color:#bc4c00">{rev}</td></tr>')
    more = (f'<div style="opacity:0.7">… {len(rows) - limit} more</div>' if len(rows) > limit else "")
    table = ('<div style="max-height:320px;overflow:auto;border:1px solid #d0d7de;border-radius:4px;'
             'padding:2px 6px"><table style="border-collapse:collapse;font-size:12px">'
             '<thead><tr><th style="text-align:right">#</th><th style="text-align:left">action</th>'
             '<th style="text-align:left">package</th><th style="text-align:left">target</th>'
             '<th>verify</th><th>execute</th><th>reverse</th></tr></thead><tbody>'
             + "".join(body) + "</tbody></table>" + more + "</div>")
    head = f"<div><b>{escape(title)}</b></div>" if title else ""
    return f'<div style="{_BOX}">{head}{strip}{legend}{table}</div>'


_SCALARS = (str, int, float, bool, type(None))


def _children(obj: Any) -> list[tuple[str, Any]]:
    import dataclasses

    from conda_deepdive.values import fields

    if isinstance(obj, Mapping):
        return [(repr(k) if not isinstance(k, str) else k, v) for k, v in obj.items()]
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return [(f"[{i}]", v) for i, v in enumerate(obj)]
    if isinstance(obj, (set, frozenset)):
        return [(f"[{i}]", v) for i, v in enumerate(sorted(obj, key=repr))]
    if hasattr(obj, "_fields"):
        return [(f, getattr(obj, f)) for f in obj._fields]
    if fields(obj) and not isinstance(obj, type):  # the package's value objects (values.py)
        return [(name, getattr(obj, name, None)) for name in fields(obj)]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):  # a learner's own dataclass
        return [(f.name, getattr(obj, f.name, None)) for f in dataclasses.fields(obj)]
    names = [k for k in getattr(obj, "__dict__", {}) if not k.startswith("_")]
    slots = [s for s in getattr(type(obj), "__slots__", ()) or () if not s.startswith("_")]
    out = [(n, getattr(obj, n, None)) for n in (*names, *[s for s in slots if s not in names])]
    if out:
        return out
    # objects that keep their state private (Context: settings + provenance) show summary()
    summary = getattr(obj, "summary", None)
    if callable(summary):
        try:
            data = summary()
        except Exception:  # a summary that needs more state than the object has
            data = None
        if isinstance(data, Mapping):
            return [(f"summary()[{k!r}]", v) for k, v in data.items()]
    return []


def _short(value: Any, clean: Any, limit: int = 120) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the inspector
        text = f"<repr failed: {type(exc).__name__}>"
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def inspect_html(obj: Any, *, sanitizer: Sanitizer | None = None, depth: int = 3,
                 items: int = 30, values: bool = True, title: str = "") -> str:
    """The attributes of ``obj`` as nested, expandable ``<details>`` (no kernel round trip:
    opening an attribute is pure HTML). ``values=False`` shows names and types only."""
    clean = sanitizer.text if sanitizer is not None else (lambda s: s)
    budget = [800]

    def node(name: str, value: Any, level: int) -> str:
        budget[0] -= 1
        kind = type(value).__name__
        label = (f'<span style="color:#0550ae;font-family:monospace">{escape(clean(name))}</span> '
                 f'<span style="opacity:0.6">{escape(kind)}</span>')
        if isinstance(value, _SCALARS):
            shown = escape(_short(value, clean)) if values else ""
            return f'<div style="padding-left:1.1em">{label} <span style="font-family:monospace">{shown}</span></div>'
        kids = _children(value) if level < depth and budget[0] > 0 else []
        preview = escape(_short(value, clean, 80)) if values else ""
        if not kids:
            return (f'<div style="padding-left:1.1em">{label} '
                    f'<span style="font-family:monospace;opacity:0.85">{preview}</span></div>')
        inner = "".join(node(k, v, level + 1) for k, v in kids[:items])
        if len(kids) > items:
            inner += f'<div style="padding-left:1.1em;opacity:0.6">… {len(kids) - items} more</div>'
        return (f'<details style="padding-left:1.1em"><summary style="cursor:pointer">{label} '
                f'<span style="font-family:monospace;opacity:0.85">{preview}</span></summary>{inner}</details>')

    kids = _children(obj)
    body = "".join(node(k, v, 1) for k, v in kids[:items]) or '<div style="opacity:0.6">(no public attributes)</div>'
    heading = title or type(obj).__name__
    return (f'<div style="{_BOX};overflow-wrap:anywhere"><div><b>{escape(heading)}</b> '
            f'<span style="opacity:0.6">{escape(type(obj).__name__)}</span></div>{body}</div>')


# ----------------------------------------------------------------------------------------------
# the explorer
# ----------------------------------------------------------------------------------------------

def _make_session(argv_or_session: Any, context: Any, env: Mapping[str, str] | None) -> Session:
    if isinstance(argv_or_session, Session):
        return argv_or_session
    argv = argv_or_session.split() if isinstance(argv_or_session, str) else list(argv_or_session)
    workshop_env = getattr(context, "env", None) if context is not None and not isinstance(context, Mapping) else None
    base_env = dict(workshop_env) if workshop_env is not None else dict(context or {}) if isinstance(context, Mapping) else None
    if env is not None:
        base_env = {**(base_env if base_env is not None else os.environ), **env}
    if workshop_env is not None and argv and argv[0] in ("create", "install", "update", "remove") and not (
            {"-p", "--prefix", "-n", "--name"} & set(argv) or any(a.startswith("--prefix=") for a in argv)):
        # a workshop folder gives the command a prefix of its own
        where = getattr(context, "prefix_dir", None)
        name = os.path.basename(where) if where else None
        prefix = context.prefix(name, empty_env=argv[0] != "create") if hasattr(context, "prefix") else where
        argv[1:1] = ["-p", prefix]
    return Session.from_argv(argv, env=base_env)


class StageExplorer:
    """Step through a Session, look back at any stage, and break the link stage on purpose.

    ``argv_or_session``: a :class:`Session`, or a command line (``["install", "numpy"]`` or
    ``"install numpy"``). ``context``: a :class:`~conda_deepdive.course.sandbox.Sandbox` /
    ``Workshop`` (its environment, prefix and placeholders are used) or a mapping used as the
    environment. ``start=True`` runs stage 1 straight away so there is something to look at.
    """

    def __init__(self, argv_or_session: Any, context: Any = None, *, env: Mapping[str, str] | None = None,
                 sanitizer: Sanitizer | None = None, width: int = HTML_WIDTH, start: bool = True) -> None:
        self.session = _make_session(argv_or_session, context, env)
        if sanitizer is None and context is not None and hasattr(context, "sanitizer"):
            sanitizer = context.sanitizer
        self._sanitizer = sanitizer
        self.width = width
        self.errors: dict[str, BaseException] = {}
        self.runs: dict[str, int] = {name: 0 for name in STAGE_NAMES}
        self.fault: FaultReplay | None = None
        self._view: int | None = None
        self._widget: Any = None
        self._ui: dict[str, Any] = {}
        if start and not self.session.results:
            self.next()
        elif self.session.results:
            self._view = self._last_done()

    # -- state ---------------------------------------------------------------------------------
    @property
    def stages(self) -> tuple[str, ...]:
        return STAGE_NAMES

    @property
    def sanitizer(self) -> Sanitizer:
        own = Sanitizer.for_session(self.session)
        if self._sanitizer is None:
            return own
        pairs = {k: v for k, v in own.pairs if not k.startswith("file://")}
        pairs.update({k: v for k, v in self._sanitizer.pairs if not k.startswith("file://")})
        return Sanitizer(pairs)

    def _last_done(self) -> int | None:
        done = [i for i, n in enumerate(STAGE_NAMES) if n in self.session.results or n in self.errors]
        return done[-1] if done else None

    @property
    def current(self) -> str | None:
        """The stage on screen (the last one run, unless you went back)."""
        return None if self._view is None else STAGE_NAMES[self._view]

    @property
    def result(self) -> Any:
        """The result object of the stage on screen (its error, if it failed)."""
        name = self.current
        if name is None:
            return None
        return self.session.results.get(name, self.errors.get(name))

    def state(self, stage: str) -> str:
        """``done``, ``current`` (on screen), ``failed``, ``next``, ``to come`` or ``skipped``."""
        if stage == self.current:
            return "failed" if stage in self.errors else "current"
        if stage in self.errors:
            return "failed"
        if stage in self.session.results:
            return "done"
        if self.errors or self.session.stopped_reason:
            return "skipped"
        return "next" if stage == self.session.next_stage else "to come"

    @property
    def finished(self) -> bool:
        return self.session.next_stage is None or bool(self.errors)

    # -- moving ---------------------------------------------------------------------------------
    def _run_one(self) -> bool:
        name = self.session.next_stage
        if name is None or self.errors:
            return False
        from conda_deepdive.exceptions import CondaError

        self.runs[name] += 1
        try:
            self.session.next()
        except CondaError as exc:
            self.errors[name] = exc
        self._view = STAGE_NAMES.index(name)
        return True

    def next(self) -> "StageExplorer":
        """Show the next stage: forward through stages already run, else run the next one."""
        last = self._last_done()
        if self._view is not None and last is not None and self._view < last:
            self._view += 1
        else:
            self._run_one()
        self._refresh()
        return self

    def back(self) -> "StageExplorer":
        """Show the stage before the one on screen. Nothing runs (link never runs twice)."""
        if self._view is not None and self._view > 0:
            self._view -= 1
        self._refresh()
        return self

    def view(self, stage: str) -> "StageExplorer":
        """Show a stage that has already run."""
        if stage not in self.session.results and stage not in self.errors:
            raise ValueError(f"stage {stage!r} has not run yet; use run_to({stage!r})")
        self._view = STAGE_NAMES.index(stage)
        self._refresh()
        return self

    def run_to(self, stage: str) -> "StageExplorer":
        """Run every stage up to ``stage`` (inclusive) and show it; a stage already run is shown."""
        if stage not in STAGE_NAMES:
            raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGE_NAMES)}")
        if stage in self.session.results or stage in self.errors:
            return self.view(stage)
        while stage not in self.session.results and self._run_one():
            pass
        self._refresh()
        return self

    # -- the link stage, broken on purpose ---------------------------------------------------------
    def _transaction(self) -> Any:
        txn = self.session.results.get("transaction")
        if txn is None:
            raise ValueError("the fault picker needs the transaction: run_to('fetch') first")
        return txn

    def fault_choices(self) -> list[tuple[str, int]]:
        """``(label, number)`` for every action the link stage will execute (a fresh, unexecuted
        copy of the transaction is prepared to list them; the prefix is not touched)."""
        from conda_deepdive.transaction.transaction import UnlinkLinkTransaction

        txn = self._transaction()
        if self._fault_blocked():
            return []
        copy = UnlinkLinkTransaction(*txn.prefix_setups.values(), context=txn.context,
                                     env=dict(txn.env), cmd=txn.cmd)
        created = [p for p in copy.prefix_setups if not os.path.lexists(p)]
        with _holding_temp_dirs(list(copy.prefix_setups)):
            try:
                plan = execution_plan(copy)  # prepare() makes the prefix folder of a new environment
            finally:
                copy._remove_temp_dirs()
                for prefix in created:  # it did not exist a moment ago: nothing in it is anyone's
                    shutil.rmtree(prefix, ignore_errors=True)
        clean = self.sanitizer.text
        out = []
        for number, action in enumerate(plan, 1):
            d = action.describe()
            what = d.get("target") or ""
            out.append((clean(f"#{number} {d.get('action')} · {d.get('package') or '-'} · {what}"), number))
        return out

    def _fault_blocked(self) -> str | None:
        if "fetch" not in self.session.results:
            return "Run the stages up to 8 (fetch) first: the fault picker replays link from there."
        if "link" in self.session.results:
            return ("Link has already run: the fault picker works before it (start a new explorer "
                    "and stop at fetch).")
        if self.session.stopped_reason:
            return f"Nothing will be linked ({self.session.stopped_reason})."
        return None

    def inject_fault(self, at: int | str) -> FaultReplay:
        """Make action ``at`` (a number from :meth:`fault_choices`, or an action class name)
        fail in a copy of the link stage, roll back, and compare the prefix with before."""
        blocked = self._fault_blocked()
        if blocked:
            raise ValueError(blocked)
        self.fault = replay_with_fault(self._transaction(), at)
        self._refresh()
        return self.fault

    def timeline(self) -> list[ActionState]:
        """The link stage's actions with their states (after link ran; else the last fault replay)."""
        txn = self.session.results.get("link")
        if txn is not None:
            plan = execution_plan(txn)
            return action_states(plan, len(txn.executed_log))
        if self.fault is not None:
            return list(self.fault.rows)
        return []

    # -- views --------------------------------------------------------------------------------------
    def stage_html(self) -> str:
        name = self.current
        if name is None:
            return "<div><i>nothing has run yet: press Next</i></div>"
        if name in self.errors:
            return rich_html(self.errors[name], name, sanitizer=self.sanitizer, width=self.width)
        return rich_html(self.session, name, sanitizer=self.sanitizer, width=self.width)

    def stage_text(self) -> str:
        name = self.current
        if name is None:
            return "nothing has run yet\n"
        if name in self.errors:
            return rich_text(self.errors[name], name, sanitizer=self.sanitizer, width=self.width)
        return rich_text(self.session, name, sanitizer=self.sanitizer, width=self.width)

    def inspector_html(self, *, values: bool = True) -> str:
        name = self.current
        if name is None:
            return ""
        return inspect_html(self.result, sanitizer=self.sanitizer, values=values,
                            title=f"session.results[{name!r}]")

    def graph_html(self) -> str:
        solved = self.session.results.get("solve")
        final = getattr(solved, "final_state", ()) if solved is not None else ()
        if not final:
            return f'<div style="{_BOX}"><i>The graph appears once stage 6 (solve) has run.</i></div>'
        return graph_svg(final, self._requested_names())

    def _requested_names(self) -> list[str]:
        specs = self.session.results.get("specs")
        names = []
        for spec in getattr(getattr(specs, "solver", None), "specs_to_add", ()) or ():
            names.append(getattr(spec, "name", str(spec)))
        if not names and "parse" in self.session.results:
            packages = getattr(self.session.results["parse"].namespace, "packages", None) or []
            names = [str(p).split("=")[0].split("<")[0].split(">")[0].split("[")[0].split()[0] for p in packages]
        return names

    def passes_view_html(self) -> str:
        solved = self.session.results.get("solve")
        if solved is None:
            return f'<div style="{_BOX}"><i>The passes appear once stage 6 (solve) has run.</i></div>'
        return passes_html(solved)

    def timeline_view_html(self) -> str:
        if "link" in self.session.results:
            return timeline_html(self.timeline(), title="The link stage, action by action",
                                 sanitizer=self.sanitizer)
        if self.fault is not None:
            return self.fault_html()
        return (f'<div style="{_BOX}"><i>The timeline appears once stage 9 (link) has run, or after '
                'a fault is injected.</i></div>')

    def fault_html(self) -> str:
        fault = self.fault
        if fault is None:
            blocked = self._fault_blocked() if "transaction" in self.session.results else (
                "Run the stages up to 8 (fetch) first: the fault picker replays link from there.")
            return f'<div style="{_BOX}"><i>{escape(blocked or "Pick an action and press Inject.")}</i></div>'
        verdict = ("<span style='color:#2da44e'><b>✔ the prefix is identical to before</b></span>"
                   if fault.prefix_identical else
                   "<span style='color:#cf222e'><b>✘ the prefix changed:</b></span> "
                   + escape(", ".join(self.sanitizer.text(p) for p in fault.changed_paths[:10])))
        head = (f'<div>Injected a failure at <b>{escape(str(fault.fail_at))}</b> '
                f'(action #{fault.failed_number}): <code>{escape(self.sanitizer.text(fault.error))}</code></div>'
                f'<div>{fault.executed} actions had run; the rollback reversed {fault.reversed_count}, '
                f'last first. {verdict}</div>')
        return (f'<div style="{_BOX}">{head}' +
                timeline_html(fault.rows, title="Rollback (↺ n: the n-th action reversed)",
                              sanitizer=self.sanitizer) + "</div>")

    def rail_html(self) -> str:
        colours = {"done": ("#2da44e", "#fff"), "current": ("#0969da", "#fff"), "failed": ("#cf222e", "#fff"),
                   "next": ("#ddf4ff", "#0969da"), "to come": ("#f6f8fa", "#57606a"),
                   "skipped": ("#f6f8fa", "#8c959f")}
        chips = []
        for name in STAGE_NAMES:
            state = self.state(name)
            bg, fg = colours[state]
            chips.append(f'<span style="display:inline-block;margin:2px;padding:2px 8px;border-radius:10px;'
                         f'background:{bg};color:{fg};border:1px solid #d0d7de">{escape(RAIL_LABELS[name])}'
                         f'</span>')
        return f'<div style="{_BOX}">{"".join(chips)}</div>'

    # -- display --------------------------------------------------------------------------------------
    def snapshot(self) -> Rich:
        """The explorer as static text + HTML (what nbval compares; what nbviewer shows)."""
        states = " ".join(f"[{RAIL_LABELS[n]}: {self.state(n)}]" for n in STAGE_NAMES)
        header = f"StageExplorer: {self.sanitizer.text(' '.join(self.session.argv))}\n{states}\n"
        text = header + (self.stage_text() if self.current else "")
        if self.fault is not None:
            f = self.fault
            text += (f"fault at {f.fail_at}: {f.executed} actions ran, {f.reversed_count} reversed, "
                     f"prefix identical: {f.prefix_identical}\n")
        html_parts = [
            f'<div style="{_BOX}"><b>StageExplorer</b> <code>{escape(self.sanitizer.text(" ".join(self.session.argv)))}</code></div>',
            self.rail_html(),
            '<div style="display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start">',
            f'<div style="flex:3 1 560px;min-width:0">{self.stage_html()}</div>',
            f'<div style="flex:1 1 260px;min-width:0">{self.inspector_html(values=False)}</div>',
            "</div>",
        ]
        if self.fault is not None:
            html_parts.append(self.fault_html())
        return Rich("".join(html_parts), text)

    def __repr__(self) -> str:
        return f"StageExplorer({self.session!r}, current={self.current!r})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        bundle = self.snapshot()._repr_mimebundle_()
        widget = self.widget()
        if widget is not None:
            view = getattr(widget, "_repr_mimebundle_", None)
            data = view(include=include, exclude=exclude) if callable(view) else None
            if isinstance(data, tuple):  # (data, metadata)
                data = data[0]
            if data and "application/vnd.jupyter.widget-view+json" in data:
                bundle["application/vnd.jupyter.widget-view+json"] = data[
                    "application/vnd.jupyter.widget-view+json"]
        return bundle

    # -- widgets ----------------------------------------------------------------------------------
    def widget(self) -> Any:
        """The ipywidgets app (``None`` without ipywidgets or outside a kernel)."""
        if self._widget is not None:
            return self._widget
        try:
            import ipywidgets as w
            from IPython import get_ipython
        except ImportError:
            return None
        if get_ipython() is None or getattr(get_ipython(), "kernel", None) is None:
            return None
        ui = self._ui
        # ipywidgets draws an HTML widget's content shrink-to-fit: let the big views take the
        # width they are given (wide tables then scroll inside, the panels keep their borders)
        style = ("<style>.cdd-view > .widget-html-content{display:block;width:100%;"
                 "box-sizing:border-box}</style>")
        ui["title"] = w.HTML(style + f'<div style="{_BOX}"><b>StageExplorer</b> '
                             f'<code>{escape(self.sanitizer.text(" ".join(self.session.argv)))}</code></div>')
        ui["rail"] = []
        for name in STAGE_NAMES:
            button = w.Button(description=RAIL_LABELS[name], tooltip=_TITLES[name],
                              layout=w.Layout(width="auto", margin="1px"))
            button.add_class("cdd-rail")
            button.add_class(f"cdd-rail-{name}")
            button.on_click(lambda _b, stage=name: self._on(lambda: self.view(stage)))
            ui["rail"].append(button)
        ui["back"] = w.Button(description="◀ Back", tooltip="Show the stage before (nothing runs)",
                              layout=w.Layout(width="auto"))
        ui["next"] = w.Button(description="Next ▶", button_style="primary",
                              tooltip="Run the next stage (or move forward again)", layout=w.Layout(width="auto"))
        ui["back"].add_class("cdd-back")
        ui["next"].add_class("cdd-next")
        ui["back"].on_click(lambda _b: self._on(self.back))
        ui["next"].on_click(lambda _b: self._on(self.next))
        ui["run_to"] = w.Dropdown(options=[("run to…", "")] + [(_TITLES[n], n) for n in STAGE_NAMES],
                                  value="", layout=w.Layout(width="auto"))
        ui["run_to"].add_class("cdd-run-to")
        ui["run_to"].observe(self._on_run_to, names="value")
        ui["status"] = w.HTML()
        ui["status"].add_class("cdd-status")
        ui["stage"] = w.HTML(layout=w.Layout(flex="3 1 560px", min_width="0", overflow="auto"))
        ui["inspector"] = w.HTML(layout=w.Layout(flex="1 1 260px", min_width="0", overflow="auto",
                                                 max_height="640px"))
        full_width = dict(width="100%", max_width="100%", overflow="auto")
        ui["graph"] = w.HTML(layout=w.Layout(**full_width))
        ui["passes"] = w.HTML(layout=w.Layout(**full_width))
        ui["timeline"] = w.HTML(layout=w.Layout(**full_width))
        ui["fault_pick"] = w.Dropdown(options=[], layout=w.Layout(width="min(100%, 640px)"))
        ui["fault_pick"].add_class("cdd-fault-pick")
        ui["fault_go"] = w.Button(description="Inject fault and roll back", button_style="danger",
                                  layout=w.Layout(width="auto"))
        ui["fault_go"].add_class("cdd-fault-go")
        ui["fault_go"].on_click(lambda _b: self._on(self._inject_picked))
        ui["fault_out"] = w.HTML(layout=w.Layout(**full_width))
        ui["fault_out"].add_class("cdd-fault-out")
        for key in ("stage", "inspector", "graph", "passes", "timeline", "fault_out"):
            ui[key].add_class("cdd-view")
        main = w.Box([ui["stage"], ui["inspector"]],
                     layout=w.Layout(display="flex", flex_flow="row wrap", align_items="flex-start",
                                     grid_gap="12px", width="100%"))
        fault_box = w.VBox([w.HBox([ui["fault_pick"], ui["fault_go"]],
                                   layout=w.Layout(flex_flow="row wrap")), ui["fault_out"]],
                           layout=w.Layout(width="100%"))
        tabs = w.Tab(children=[main, ui["graph"], ui["passes"], ui["timeline"], fault_box])
        for i, label in enumerate(("Stage", "Dependency graph", "Optimisation passes", "Action timeline",
                                   "Fault picker")):
            tabs.set_title(i, label)
        tabs.add_class("cdd-tabs")
        ui["tabs"] = tabs
        rail = w.Box(ui["rail"], layout=w.Layout(display="flex", flex_flow="row wrap"))
        controls = w.Box([ui["back"], ui["next"], ui["run_to"], ui["status"]],
                         layout=w.Layout(display="flex", flex_flow="row wrap", align_items="center",
                                         grid_gap="6px"))
        self._widget = w.VBox([ui["title"], rail, controls, tabs], layout=w.Layout(width="100%"))
        self._widget.add_class("cdd-explorer")
        self._refresh()
        return self._widget

    def _on(self, action: Any) -> None:
        ui = self._ui
        buttons = [ui["back"], ui["next"], ui["fault_go"], *ui["rail"]]
        for b in buttons:
            b.disabled = True
        ui["status"].value = f'<span style="{_BOX};opacity:0.7">working…</span>'
        try:
            action()
        except Exception as exc:  # shown in the widget: a click must never raise into the void
            ui["status"].value = (f'<span style="{_BOX};color:#cf222e">'
                                  f'{escape(type(exc).__name__)}: {escape(self.sanitizer.text(str(exc)))}</span>')
            for b in buttons:
                b.disabled = False
            self._refresh(keep_status=True)
            return
        self._refresh()

    def _on_run_to(self, change: Any) -> None:
        stage = change.get("new")
        if not stage:
            return
        self._on(lambda: self.run_to(stage))
        self._ui["run_to"].value = ""

    def _inject_picked(self) -> None:
        choice = self._ui["fault_pick"].value
        if choice is None:
            raise ValueError("pick an action first")
        self.inject_fault(choice)
        self._ui["tabs"].selected_index = 4

    def _refresh(self, keep_status: bool = False) -> None:
        ui = self._ui
        if not ui or self._widget is None and "tabs" not in ui:
            return
        styles = {"done": "success", "current": "info", "failed": "danger", "next": "", "to come": "",
                  "skipped": ""}
        for name, button in zip(STAGE_NAMES, ui["rail"]):
            state = self.state(name)
            button.button_style = styles[state]
            button.disabled = not (name in self.session.results or name in self.errors)
            for cls in ("cdd-done", "cdd-current", "cdd-failed", "cdd-todo"):
                button.remove_class(cls)
            button.add_class({"done": "cdd-done", "current": "cdd-current", "failed": "cdd-failed"}.get(state, "cdd-todo"))
        last = self._last_done()
        ui["back"].disabled = not self._view
        ui["next"].disabled = self.finished and (self._view is None or last is None or self._view >= last)
        if not keep_status:
            where = self.current
            msg = f"showing {_TITLES[where]}" if where else ""
            if self.session.stopped_reason:
                msg += f" · stopped: {self.session.stopped_reason}"
            elif self.finished and not self.errors:
                msg += " · all stages have run"
            ui["status"].value = f'<span style="{_BOX};opacity:0.75">{escape(self.sanitizer.text(msg))}</span>'
        ui["stage"].value = self.stage_html()
        ui["inspector"].value = self.inspector_html()
        ui["graph"].value = self.graph_html()
        ui["passes"].value = self.passes_view_html()
        ui["timeline"].value = self.timeline_view_html()
        blocked = self._fault_blocked() if "transaction" in self.session.results else "run to fetch first"
        ui["fault_go"].disabled = bool(blocked)
        if not blocked and not ui["fault_pick"].options:
            choices = self.fault_choices()
            ui["fault_pick"].options = choices
            if choices:
                ui["fault_pick"].value = choices[len(choices) // 2][1]
        elif blocked and "link" not in self.session.results:
            ui["fault_pick"].options = []
        ui["fault_out"].value = self.fault_html()
