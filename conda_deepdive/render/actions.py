"""Stages 7–9 drawn: the package plan, the PathAction class tree, and every action in order.

conda's transaction (``conda.core.link.UnlinkLinkTransaction``) turns the solver's diff into
*action objects* — one per file to link, entry point to write, record to create — grouped per
package into ``ActionGroup``\\ s and per prefix into a ``PrefixActionGroup``. Nothing touches the
prefix until every action has been verified; then they run in a fixed order
(:data:`EXECUTION_ORDER`), and if one fails the executed ones are reversed, last first.

What to notice in the link section: the files of *all* packages are linked before any
entry point is written, and the ``conda-meta/<dist>.json`` records come almost last — a
package only counts as installed once everything it brought is in place.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from conda_deepdive.render.sanitize import clean
from rich.tree import Tree

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "EXECUTION_ORDER", "class_tree", "execution_order_table", "action_groups_table",
    "section_transaction", "section_fetch", "section_link",
]


#: conda's execution order (``UnlinkLinkTransaction._execute``), one row per phase:
#: (phase, what happens, the PathAction classes — or script kind — that run in it).
EXECUTION_ORDER: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("remove menus", "menu shortcuts of the packages going away", ("RemoveMenuAction",)),
    ("pre-unlink scripts", "bin/.<name>-pre-unlink.sh of each package going away", ("script:pre-unlink",)),
    ("unlink files", "every file renamed aside, then the conda-meta record",
     ("UnlinkPathAction", "RemoveLinkedPackageRecordAction")),
    ("post-unlink scripts", "(conda has already removed them: they never run)", ("script:post-unlink",)),
    ("unregister", "whenever something is unlinked; the register phase adds the prefix back",
     ("UnregisterEnvironmentLocationAction",)),
    ("pre-link scripts", "bin/.<name>-pre-link.sh, run from the package cache", ("script:pre-link",)),
    ("link files", "hard-link, soft-link or copy (prefix placeholders → copy + rewrite)",
     ("LinkPathAction", "PrefixReplaceLinkAction")),
    ("entry points", "bin/<name> scripts of noarch: python packages", ("CreatePythonEntryPointAction",)),
    ("post-link scripts", "bin/.<name>-post-link.sh, run in the new prefix", ("script:post-link",)),
    ("compile .pyc", "one aggregated compileall for all noarch: python files",
     ("AggregateCompileMultiPycAction", "CompileMultiPycAction")),
    ("records", "conda-meta/<dist>.json: the package now counts as installed", ("CreatePrefixRecordAction",)),
    ("register + history", "~/.conda/environments.txt and conda-meta/history",
     ("RegisterEnvironmentLocationAction", "UpdateHistoryAction")),
    ("make menus", "menu shortcuts (Windows only; no-ops here)", ("MakeMenuAction",)),
)


def _t(value: Any, style: str = "") -> Text:
    return Text(clean(value), style=style)


def simple_table(*columns: str, title: str | None = None) -> Table:
    """The table style every trace section uses."""
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold",
                  pad_edge=False, show_edge=False)
    for col in columns:
        table.add_column(col)
    return table


# ----------------------------------------------------------------------------------------------
# the class tree and the order
# ----------------------------------------------------------------------------------------------

def class_tree(tree_data: dict | None = None) -> Tree:
    """The PathAction class hierarchy (``conda_deepdive.link.action_tree.class_tree()``) as a rich Tree,
    plus the two package-cache actions of stage 8, which conda lists beside them."""
    if tree_data is None:
        from conda_deepdive.link.action_tree import class_tree as path_action_classes

        tree_data = path_action_classes()
    (root_name, children), = tree_data.items()
    root = Tree(Text(root_name, style="bold"), guide_style="dim")
    _add_children(root, children)
    try:
        from conda_deepdive.fetch import fetch_extract

        cache = root.add(Text("(package cache, stage 8)", style="dim"))
        for name in ("CacheUrlAction", "ExtractPackageAction"):
            if hasattr(fetch_extract, name):
                cache.add(Text(name, style="cyan"))
    except ImportError:  # pragma: no cover - fetch_extract is part of the package
        pass
    return root


def _add_children(node: Tree, children: dict) -> None:
    # keep the definition order of the module (it follows conda's), not alphabetical
    for name, grandchildren in children.items():
        _add_children(node.add(Text(name, style="cyan")), grandchildren)


def execution_order_table(executed: Iterable[dict] = (), scripts: Iterable[dict] = (), *,
                          explain: bool = True) -> Table:
    """conda's execution phases, with how many actions of each ran (when ``executed`` is given);
    ``explain=False`` leaves out the "what happens" column."""
    counts: dict[str, int] = {}
    for entry in executed:
        counts[entry.get("action")] = counts.get(entry.get("action"), 0) + 1
    for script in scripts:
        key = f"script:{script.get('action')}"
        counts[key] = counts.get(key, 0) + 1
    columns = ("#", "phase", "what happens", "actions", "ran") if explain else ("#", "phase", "actions", "ran")
    table = simple_table(*columns, title="Execution order (conda.core.link.UnlinkLinkTransaction._execute)")
    for i, (phase, what, classes) in enumerate(EXECUTION_ORDER, 1):
        ran = sum(counts.get(c, 0) for c in classes)
        names = ", ".join(c.split(":", 1)[1] + " script" if c.startswith("script:") else c for c in classes)
        row = [_t(i), _t(phase, "bold" if ran else ""), _t(what), _t(names, "cyan"),
               _t(ran or "-", "green" if ran else "dim")]
        if not explain:
            del row[2]
        table.add_row(*row)
    return table


def action_groups_table(pag: Any) -> Table:
    """A ``PrefixActionGroup``: groups and actions per field, in conda's field order."""
    table = simple_table("PrefixActionGroup field", "groups", "actions", title="Action groups")
    for field in pag._fields:
        groups = getattr(pag, field)
        actions = sum(len(g.actions) for g in groups)
        style = "" if actions else "dim"
        table.add_row(_t(field, style or "cyan"), _t(len(groups), style), _t(actions, style))
    return table


# ----------------------------------------------------------------------------------------------
# 7. transaction
# ----------------------------------------------------------------------------------------------

def section_transaction(txn: Any, session: Any, full: bool = False) -> RenderableType:
    parts: list[RenderableType] = []
    setups = simple_table("prefix", "unlink", "link", "new prefix", title="PrefixSetup")
    for prefix, setup in txn.prefix_setups.items():
        setups.add_row(_t(prefix), _t(len(setup.unlink_precs)), _t(len(setup.link_precs)),
                       _t("yes" if prefix in getattr(txn, "_new_prefixes", ()) else "no"))
    parts.append(setups)
    if txn.nothing_to_do:
        parts.append(Text("Nothing to do: the environment already satisfies the request.",
                          style="bold yellow"))
        return Group(*parts)
    parts.append(Text("conda's package plan (what `conda install` prints before it asks):", style="bold"))
    parts.append(Text(clean(txn.plan_text().strip("\n"))))
    parts.append(Text("The actions will be objects of this class tree (conda.core.path_actions):",
                      style="bold"))
    parts.append(class_tree())
    parts.append(Text("They are built when the transaction is prepared (after stage 8 has the "
                      "packages extracted), verified all together, then executed.", style="italic dim"))
    return Group(*parts)


# ----------------------------------------------------------------------------------------------
# 8. fetch
# ----------------------------------------------------------------------------------------------

def section_fetch(pfe: Any, session: Any, full: bool = False) -> RenderableType:
    table = simple_table("package", "decision", "actions", "file", title="Package cache")
    counts = {"cached": 0, "extract": 0, "download": 0}
    rows = []
    for dist, (cache, extract) in pfe.paired_actions.items():
        decision = "cached" if extract is None else "extract" if cache is None else "download"
        counts[decision] += 1
        names = " + ".join(type(a).__name__.replace("Action", "").replace("Package", "")
                           for a in (cache, extract) if a is not None) or "-"
        source = cache.url if cache is not None else (extract.source_full_path if extract else "")
        source = source.rsplit("/", 1)[-1]
        rows.append((dist, decision, names, source))
    limit = None if full else 15
    for dist, decision, names, source in rows[:limit]:
        style = {"cached": "green", "extract": "yellow", "download": "magenta"}[decision]
        table.add_row(_t(dist, "cyan"), _t(decision, style), _t(names), _t(source))
    if limit is not None and len(rows) > limit:
        table.caption = f"… {len(rows) - limit} more (trace --stage fetch shows all)"
    pkgs = ", ".join(pfe.pkgs_dirs) if pfe.link_precs else "-"
    return Group(
        Text.assemble(("package caches: ", "bold"), clean(pkgs)),
        Text.assemble(("packages: ", "bold"), f"{len(rows)} — {counts['cached']} already extracted, "
                      f"{counts['extract']} to extract, {counts['download']} to download"),
        table,
        Text("Download and extraction happen before anything is linked, in the shared package "
             "cache: a second environment reuses what is already there.", style="italic dim"),
    )


# ----------------------------------------------------------------------------------------------
# 9. link
# ----------------------------------------------------------------------------------------------

def section_link(txn: Any, session: Any, full: bool = False) -> RenderableType:
    executed = list(getattr(txn, "executed_log", ()) or ())
    scripts = [r.summary() for r in getattr(txn, "script_results", ()) or ()]
    parts: list[RenderableType] = [execution_order_table(executed, scripts, explain=full)]
    for prefix, pag in getattr(txn, "prefix_action_groups", {}).items():
        parts.append(action_groups_table(pag))
    table = simple_table("#", "action", "package", "target", "link type",
                   title=f"Every action, in execution order ({len(executed)})")
    shown = executed if full else _sample(executed, 24)
    last = 0
    for entry in shown:
        if entry["number"] > last + 1:
            table.add_row(_t("…", "dim"), _t(f"{entry['number'] - last - 1} more", "dim"), "", "", "")
        last = entry["number"]
        table.add_row(_t(entry["number"]), _t(entry.get("action"), "cyan"), _t(entry.get("package") or ""),
                      _t(entry.get("target") or ""), _t(entry.get("link_type") or ""))
    if executed and last < executed[-1]["number"]:
        table.add_row(_t("…", "dim"), _t(f"{executed[-1]['number'] - last} more", "dim"), "", "", "")
    parts.append(table)
    for script in scripts:
        status = "ran" if script.get("ran") else "skipped"
        parts.append(Text(f"{script.get('action')} script of {script.get('package')}: {status}, "
                          f"exit {script.get('returncode')}", style="magenta"))
        # .messages.txt is one string (conda prints it whole): show it line by line
        for line in str(script.get("messages") or "").splitlines():
            parts.append(Text(clean(f"  .messages.txt: {line}")))
    for warning in getattr(txn, "warnings", ()) or ():
        # clobbering, safety_checks: warn findings, conda's pre-link notice: each one notice
        first, _, rest = str(warning).partition("\n")
        parts.append(Text(clean(f"notice: {first}" + (f"\n  {rest.rstrip().replace(chr(10), chr(10) + '  ')}" if rest.strip() else "")),
                          style="yellow"))
    return Group(*parts)


def _sample(executed: list[dict], n: int) -> list[dict]:
    """The first action of every (phase, action class) run plus a few more, up to ``n`` rows —
    enough to see the order without 300 lines of file links."""
    keep: list[dict] = []
    seen: set = set()
    for entry in executed:
        key = entry.get("action")
        if key not in seen:
            seen.add(key)
            keep.append(entry)
    chosen = {e["number"] for e in keep}
    for entry in executed:
        if len(chosen) >= n:
            break
        chosen.add(entry["number"])
    return [e for e in executed if e["number"] in chosen]
