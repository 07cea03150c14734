"""``explain``: why the solver answered what it answered — or why it could not.

``python -m conda_deepdive explain install tablekit arraykit`` runs the command's stages up to
the solve (nothing is fetched or linked) and then

* for a **failed** solve, draws conda's ``UnsatisfiableError`` as a tree
  (:func:`conda_deepdive.render.conflicts.conflict_tree`): each branch starts at something you
  asked for and follows the dependency chain to the requirement that clashes;
* for a **successful** solve, says for every package of the solution *why* it is there: the
  shortest dependency chains that lead to it from the packages you asked for
  (:func:`conda_deepdive.render.graph.why_chains`), or the reason the spec list gives (already
  installed, a pin, conda's ``aggressive_update_packages``…).

What to notice: the solver answers with a flat set of records; "why" is something we rebuild
from the records' ``depends``. ``pip`` is there because conda adds it to python's dependencies
(``add_pip_as_python_dependency``), not because a package asked for it in its recipe.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from conda_deepdive.cli.main_trace import Tracer, TraceOptions

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["execute", "Explainer", "explanation_rows", "explain_solution"]


def _requested_names(session: Any) -> list[str]:
    specs = session.results.get("specs")
    names: list[str] = []
    if specs is not None:
        for spec in specs.specs_to_add:
            name = getattr(spec, "name", None) or str(spec).split()[0]
            names.append(name)
    return names


def explanation_rows(session: Any) -> list[dict]:
    """One row per package of the solution: ``{"package", "version", "chains", "reason"}``."""
    from conda_deepdive.render.graph import dependency_graph, why_chains

    final = [r for r in session.results["solve"].final_state if not r.name.startswith("__")]
    graph = dependency_graph(final)
    requested = _requested_names(session)
    chains = why_chains(graph, requested)
    specs = session.results.get("specs")
    rows = []
    for rec in sorted(final, key=lambda r: r.name):
        found = chains.get(rec.name) or []
        if rec.name in requested:
            reason = "requested"
        elif found:
            reason = "dependency"
        else:
            reason = (specs.why(rec.name) if specs is not None else None) or "not reached from a requested package"
        rows.append({
            "package": rec.name,
            "version": f"{rec.version}-{rec.build}",
            "chains": [" → ".join(c) for c in found],
            "reason": reason,
        })
    return rows


def explain_solution(session: Any) -> Any:
    """A rich Tree: requested packages at the top, each package under the one that pulls it in."""
    from rich.text import Text
    from rich.tree import Tree

    from conda_deepdive.render.sanitize import clean

    rows = explanation_rows(session)
    requested = _requested_names(session)
    tree = Tree(Text("Why each package is in the solution", style="bold"))
    by_first: dict[str, list[dict]] = {}
    others = []
    for row in rows:
        if row["chains"]:
            by_first.setdefault(row["chains"][0].split(" → ")[0], []).append(row)
        else:
            others.append(row)
    for root in requested:
        if root not in by_first:
            continue
        branch = tree.add(Text.assemble((root, "bold cyan"), "  (you asked for it)"))
        for row in sorted(by_first[root], key=lambda r: (r["chains"][0].count("→"), r["package"])):
            if row["package"] == root:
                continue
            label = Text.assemble((row["package"], "cyan"), f" {row['version']}  ← ",
                                  (row["chains"][0], "dim"))
            if len(row["chains"]) > 1:
                label.append(f"  (+{len(row['chains']) - 1} more equally short)", style="dim")
            branch.add(label)
    if others:
        branch = tree.add(Text("not pulled in by a requested package", style="bold yellow"))
        for row in others:
            branch.add(Text.assemble((row["package"], "cyan"), f" {row['version']}  ← ",
                                     clean(row["reason"])))
    return tree


class Explainer(Tracer):
    """A Tracer that stops after the solve and explains its answer."""

    def __init__(self, nested: Any, parser: Any, env: Mapping[str, str], options: TraceOptions,
                 console: Any = None, **kwargs: Any) -> None:
        if options.stage is not None and options.stage in ("transaction", "fetch", "link"):
            from conda_deepdive.exceptions import CondaValueError

            raise CondaValueError(f"explain stops after the solve: use 'trace --stage {options.stage}'")
        super().__init__(nested, parser, env, options, console, last_stage="solve", compact=True, **kwargs)

    def after_run(self) -> None:
        from conda_deepdive.render.sanitize import clean

        if self.error is not None:
            self.console.print(clean(_failure_note(self.error)), style="italic", markup=False,
                               highlight=False)
            return
        if "solve" in self.session.results:
            self.console.print(explain_solution(self.session))
            self.extra["explanation"] = explanation_rows(self.session)

    def extra_panels(self) -> list:
        if self.error is None and "solve" in self.session.results:
            return [explain_solution(self.session)]
        return []

    def end_notes(self) -> list[str]:
        notes = super().end_notes()
        if self.error is None:
            notes.append("explain runs no further than the solve: nothing was fetched or linked.")
        return notes


def _failure_note(error: BaseException) -> str:
    from conda_deepdive.exceptions import UnsatisfiableError

    if isinstance(error, UnsatisfiableError):
        return ("How to read the tree: each branch starts at a package you asked for and follows "
                "its dependencies down to a requirement on the conflicting package; the leaves "
                "cannot all hold at once.")
    return "The solve could not start or finish; the message above is conda's."


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    nested = getattr(args, "nested", None)
    env = dict(os.environ if env is None else env)
    explainer = Explainer(nested, parser, env, TraceOptions.from_args(args))
    sys.stdout.flush()
    return explainer.run()
