"""How the trace shows an explicit install: stages 3–6 replaced by "no solve".

An explicit request (package files, URLs, an ``@EXPLICIT`` list; see
``transaction/explicit.py``) has no index, no channel priority, no specs to collect and nothing to
solve. The index stage's result is the packages' own records (read from the files after they
were fetched into the cache); priority, specs and reduce say they were skipped; the solve stage
shows what ``install_explicit_packages`` decided — link, replace, or leave alone — and the
dependencies nobody checked.
"""

from __future__ import annotations


from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["EXPLICIT_STAGES", "section_explicit"]

EXPLICIT_STAGES = ("index", "priority", "specs", "reduce", "solve")


def _table(*headers: str, title: str | None = None) -> Table:
    table = Table(*headers, title=title, title_justify="left", box=None, header_style="bold",
                  pad_edge=False)
    return table


def section_explicit(name: str, result: Any, session: Any, full: bool = False) -> RenderableType:
    from conda_deepdive.solve.install_flow import NO_SOLVE

    banner = Text(NO_SOLVE, style="bold yellow")
    if name == "index":
        table = _table("explicit spec", "record (from the package's info/index.json)", "depends",
                       title="Records read from the package files, not from repodata")
        for spec, rec in zip(result.specs, result.records):
            table.add_row(Text(str(spec)), Text(rec.dist_str(), style="cyan"),
                          Text(", ".join(rec.depends) or "—"))
        return Group(banner, table, Text(
            "The packages were fetched and extracted first: only their own metadata says what "
            "they are.", style="dim"))
    if name == "solve":
        plan = result.outcome
        table = _table("action", "record")
        for rec in plan.unlink_precs:
            table.add_row(Text("replace", style="yellow"), Text(rec.dist_str()))
        for rec in plan.link_precs:
            table.add_row(Text("link", style="green"), Text(rec.dist_str()))
        for rec in plan.already_installed:
            table.add_row(Text("already installed", style="dim"), Text(rec.dist_str(), style="dim"))
        unchecked = sorted({dep for rec in plan.link_precs for dep in rec.depends})
        note = (f"Dependencies not checked: {', '.join(unchecked)}" if unchecked
                else "No dependencies to check.")
        return Group(banner, table, Text(note, style="yellow" if unchecked else "dim"),
                     Text("This is what the solver is for: without it nothing makes sure the "
                          "environment is consistent.", style="dim"))
    return Group(banner, Text("skipped: an explicit install has no index to rank, reduce or solve",
                              style="dim"))
