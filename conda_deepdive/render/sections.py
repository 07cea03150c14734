"""One hand-made section per stage: what a learner should look at in each result object.

The generic renderer (:func:`conda_deepdive.render.console.stage_body`) can draw any stage from
its ``summary()`` dict; the functions here know the result *objects* and pick out what teaches:

========== ============================================ =======================================
stage      result object                                 the section shows
========== ============================================ =======================================
parse      ``cli.parser.ParsedCommand``                  the options typed = Context setting names
context    ``context.Context``                           each value that matters, and its source
index      ``index.Index`` (+ ``FetchInfo`` per subdir)  channels → URLs, repodata file, cache verdict
priority   ``channel_priority.PriorityReport``           ranks, names offered by several channels
specs      ``solve.SpecsState``                          the spec list handed to SAT, and why
reduce     ``reduction.ReducedIndex``                    records before → after, per name
solve      ``install_flow.SolveStageResult``               attempts, SAT size, passes, final state
transaction ``transaction.UnlinkLinkTransaction``        conda's package plan, the PathAction tree
fetch      ``fetch_extract.ProgressiveFetchExtract``     cached / extract / download per package
link       ``transaction.UnlinkLinkTransaction``         every action, in conda's execution order
========== ============================================ =======================================

Every section is a function ``section_<stage>(result, session, full=False)`` returning a rich
renderable. ``full=True`` (``trace --stage NAME``) lifts the row limits. Sections never show
timings (the panel subtitle does), so the same input always renders the same text.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from conda_deepdive.render.sanitize import clean

from conda_deepdive.render.actions import section_fetch, section_link, section_transaction, simple_table

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "section_parse", "section_context", "section_index", "section_priority", "section_specs",
    "section_reduce", "section_solve", "section_transaction", "section_fetch", "section_link",
    "KEY_SETTINGS", "record_label", "channel_label",
]

#: The settings the context section always shows (others only when not at their default).
KEY_SETTINGS = (
    "channels", "channel_priority", "repodata_fns", "subdirs", "target_prefix", "pkgs_dirs",
    "update_modifier", "deps_modifier", "add_pip_as_python_dependency",
    "aggressive_update_packages", "pinned_packages", "always_yes", "dry_run", "offline",
)
_COMPACT_ROWS = 12
#: provenance labels that are not the user's doing
_BUILT_IN = ("default", "derived", "teaching defaults")


def _t(value: Any, style: str = "") -> Text:
    """Plain text for a table cell: spec strings like ``numpy[version='>=2']`` are not markup."""
    return Text(clean(value), style=style)


def _note(text: str) -> Text:
    return Text(text, style="italic dim")


def _more(table: Table, hidden: int, stage: str) -> None:
    if hidden > 0:
        table.caption = f"… {hidden} more (trace --stage {stage} shows all)"


def _limit(rows: list, full: bool, n: int = _COMPACT_ROWS) -> tuple[list, int]:
    return (rows, 0) if full or len(rows) <= n else (rows[:n], len(rows) - n)


def _join(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def channel_label(channel: Any) -> str:
    """A record's or Channel's short name (``main``, ``conda-forge``; the URL is in stage 3)."""
    if channel is None:
        return ""
    if isinstance(channel, str):
        return channel
    return str(getattr(channel, "name", None) or getattr(channel, "canonical_name", None) or channel)


def record_label(rec: Any) -> str:
    return f"{rec.name}-{rec.version}-{rec.build}"


def _fmt_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "[]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}" if value else "{}"
    return str(value)


# ----------------------------------------------------------------------------------------------
# 1. parse
# ----------------------------------------------------------------------------------------------

def section_parse(parsed: Any, session: Any, full: bool = False) -> RenderableType:
    head = simple_table("", "")
    head.show_header = False
    head.add_row(_t("command", "bold cyan"), _t(parsed.command))
    head.add_row(_t("argv", "bold cyan"), _t(" ".join(parsed.argv)))
    head.add_row(_t("runs", "bold cyan"), _t(f"{parsed.func}(args, parser)"))
    options = simple_table("option dest (= Context setting)", "value", title="Options typed")
    for key, value in parsed.options.items():
        options.add_row(_t(key, "cyan"), _t(_fmt_value(value)))
    return Group(
        head, options,
        _note("Every option's dest is a setting name: -c fills 'channel' (an alias of channels), "
              "-y fills 'yes' (always_yes). Options not typed stay None, so they never hide a "
              "condarc value."),
    )


# ----------------------------------------------------------------------------------------------
# 2. context
# ----------------------------------------------------------------------------------------------

def section_context(context: Any, session: Any, full: bool = False) -> RenderableType:
    summary = context.summary()
    settings = summary["settings"]
    table = simple_table("setting", "value", "source", title="Settings (value ← where it came from)")
    at_default = 0
    for name, entry in settings.items():
        source = entry["source"]
        interesting = name in KEY_SETTINGS or source not in ("default", "derived")
        if not (full or interesting):
            at_default += 1
            continue
        style = "" if source in _BUILT_IN else "bold green"
        table.add_row(_t(name, "cyan"), _t(_fmt_value(entry["value"])), _t(source, style))
    if at_default:
        table.caption = f"… {at_default} more settings at their defaults (trace --stage context shows all)"
    files = summary.get("config_files") or []
    read = Text.assemble(("condarc files read: ", "bold"), (clean(", ".join(files)) if files else "none"))
    return Group(table, read, _note(
        "Lowest precedence first: built-in defaults → condarc files → CONDA_* variables → "
        "command line. Lists such as channels are merged, later sources in front."))


# ----------------------------------------------------------------------------------------------
# 3. index
# ----------------------------------------------------------------------------------------------

def section_index(index: Any, session: Any, full: bool = False) -> RenderableType:
    channels = simple_table("#", "channel", "canonical name", "subdir URLs", title="Channels and their URLs")
    for rank, channel in enumerate(index.channels):
        try:
            urls = channel.urls(subdirs=index.subdirs)
        except TypeError:  # a Channel without the subdirs keyword
            urls = channel.urls()
        channels.add_row(_t(rank), _t(getattr(channel, "name", channel), "cyan"),
                         _t(getattr(channel, "canonical_name", channel)), _t("\n".join(urls)))
    repodata = simple_table("channel/subdir", "file read", "source", "cache", "HTTP", "bytes", "records",
                      title=f"Repodata ({index.repodata_fn})")
    fallbacks = []
    for sd in index.subdir_datas:
        info = sd.fetch_info
        if info is None:
            continue
        repodata.add_row(
            _t(f"{channel_label(sd.channel)}/{info.subdir}", "cyan"), _t(info.filename),
            _t(info.source), _t(info.cache, _cache_style(info.cache)),
            _t("" if info.status is None else info.status), _t(f"{info.bytes:,}"),
            _t(sd.record_count),
        )
        for fb in info.fallbacks:
            fallbacks.append(f"{channel_label(sd.channel)}/{info.subdir}: {fb}")
    parts: list[RenderableType] = [channels, repodata]
    sharded = [sd for sd in index.subdir_datas if getattr(sd, "shard_store", None) is not None]
    if sharded:  # CEP-16: only the shards of names reachable from the request were fetched
        lines = [f"{channel_label(sd.channel)}/{sd.subdir}: {len(sd.shard_store.fetched)} of "
                 f"{sd.shard_store.total_names} names, {sd.record_count:,} records"
                 for sd in sharded]
        parts.append(Text.assemble(("shards fetched: ", "bold"), clean("; ".join(lines))))
        parts.append(_note("sharded repodata: the solver sees only the records of names reachable "
                           "from the request; the other shards are never downloaded."))
    if fallbacks:
        parts.append(Text(clean("fallbacks: " + "; ".join(fallbacks)), style="yellow"))
    vps = ", ".join(f"{r.name}={r.version}={r.build}" for r in index.virtual_packages)
    parts.append(Text.assemble(("virtual packages: ", "bold"), vps or "none"))
    parts.append(Text.assemble(
        ("index: ", "bold"),
        f"{len(index):,} records, {len(index.by_name):,} package names, "
        f"subdirs {_join(index.subdirs)}"))
    if index.repodata_fn != "repodata.json":
        parts.append(_note(f"conda reads {index.repodata_fn} first (small: the newest versions only); "
                           "if the solve fails it starts again with repodata.json."))
    return Group(*parts)


def _cache_style(cache: str) -> str:
    return {"hit": "green", "304": "green", "memory": "green", "miss": "yellow",
            "stale": "red", "offline": "yellow"}.get(cache, "")


# ----------------------------------------------------------------------------------------------
# 4. channel priority
# ----------------------------------------------------------------------------------------------

def section_priority(report: Any, session: Any, full: bool = False) -> RenderableType:
    ranks = Text.assemble(("mode: ", "bold"), (report.mode, "bold magenta"), "   ranks: ",
                          ", ".join(f"{name}={rank}" for name, rank in report.ranks.items()))
    contested = sorted(report.contested, key=lambda p: p.name)
    if not contested:
        return Group(ranks, _note(
            f"All {len(report.names)} package names come from a single channel: channel priority "
            "cannot change anything in this solve."))
    table = simple_table("package", "offered by (records)", "strict keeps", "masked",
                   title="Names offered by several channels")
    rows, hidden = _limit(contested, full)
    for p in rows:
        offers = ", ".join(f"{ch} ({n})" for ch, n in zip(p.offered_by, p.records_per_channel))
        table.add_row(_t(p.name, "cyan"), _t(offers), _t(p.kept or "-"),
                      _t(", ".join(p.masked) or "-", "red" if p.masked else ""))
    _more(table, hidden, "priority")
    masked = sum(p.masked_count for p in report.names.values())
    lesson = ("strict: a name's records in lower-priority channels are masked — they are not even "
              "candidates." if report.mode == "strict" else
              "flexible: nothing is masked; lower-priority records stay as a fallback, and the "
              "solver still prefers the higher channel for each name." if report.mode == "flexible"
              else "disabled: version beats channel.")
    return Group(ranks, table, Text(f"{masked} records masked", style="bold"), _note(lesson))


# ----------------------------------------------------------------------------------------------
# 5a. specs
# ----------------------------------------------------------------------------------------------

def section_specs(state: Any, session: Any, full: bool = False) -> RenderableType:
    head = Text.assemble(
        ("update_modifier ", "bold"), state.update_modifier, "   ",
        ("deps_modifier ", "bold"), state.deps_modifier, "   ",
        ("installed ", "bold"), str(len(state.installed)), "   ",
        ("history specs ", "bold"), str(len(state.history_specs)), "   ",
        ("pins ", "bold"), str(len(state.pinned_specs)),
    )
    parts: list[RenderableType] = [head]
    if state.early_exit:
        parts.append(Text(f"early exit: {state.early_exit}", style="bold yellow"))
    table = simple_table("spec", "why it is in the list", title="The specs handed to the solver")
    for entry in state.entries:
        table.add_row(_t(entry.spec, "cyan"), _t(entry.reason))
    parts.append(table)
    if state.history_specs:
        parts.append(Text.assemble(("from conda-meta/history: ", "bold"),
                                   _join(state.history_specs.values())))
    if state.inconsistent:
        parts.append(Text(clean("inconsistent installed packages: " +
                                _join(r.dist_str() for r in state.inconsistent)), style="yellow"))
    if state.conflicts:
        parts.append(Text("conflicting specs: " + _join(state.conflicts), style="yellow"))
    parts.append(_note("Request + prefix state = specs: what you typed, plus what the environment "
                       "already holds (frozen or free, per update_modifier), plus the virtual packages."))
    return Group(*parts)


# ----------------------------------------------------------------------------------------------
# 5b. reduce
# ----------------------------------------------------------------------------------------------

def section_reduce(reduced: Any, session: Any, full: bool = False) -> RenderableType:
    index = session.results.get("index")
    total = len(index) if index is not None else None
    head = Text.assemble(
        ("records: ", "bold"),
        (f"{total:,} in the index → " if total is not None else ""),
        f"{reduced.total_before:,} reachable from the specs → ",
        (f"{len(reduced):,} kept", "bold green"),
        f" in {len(reduced.after)} names",
        ("   strict" if reduced.strict else ""),
        (f" ({reduced.unbuilt:,} masked records crossed out without being read)"
         if getattr(reduced, "unbuilt", 0) else ""),
    )
    counts = reduced.counts()
    # the names the reduction actually pruned are the interesting ones: show them first
    names = sorted(counts, key=lambda n: (counts[n][0] == counts[n][1], n))
    table = simple_table("package", "before", "after", "dropped because", title="Per package name")
    rows, hidden = _limit(names, full)
    for name in rows:
        before, after = counts[name]
        reasons = reduced.reasons.get(name) or {}
        why = ", ".join(f"{k} ×{v}" for k, v in sorted(reasons.items()))
        table.add_row(_t(name, "cyan"), _t(before), _t(after, "" if after == before else "yellow"),
                      _t(why))
    _more(table, hidden, "reduce")
    return Group(head, table, _note(
        "conda walks the dependencies of the specs and drops every record that cannot be part of "
        "a solution, so the SAT problem only gets what matters."))


# ----------------------------------------------------------------------------------------------
# 6. solve
# ----------------------------------------------------------------------------------------------

def section_solve(result: Any, session: Any, full: bool = False) -> RenderableType:
    from conda_deepdive.render.graph import dependency_graph, text_tree

    parts: list[RenderableType] = []
    attempts = simple_table("#", "repodata file", "update_modifier", "outcome", title="Attempts (conda.cli.install's loop)")
    for i, a in enumerate(result.attempts, 1):
        attempts.add_row(_t(i), _t(a.repodata_fn), _t(a.update_modifier),
                         _t(a.outcome, "green" if a.outcome == "ok" else "red"))
    parts.append(attempts)
    outcome = result.outcome
    stats = getattr(outcome, "stats", None)
    if stats is not None:
        parts.append(Text.assemble(
            ("SAT problem: ", "bold"),
            f"{stats.variables:,} variables, {stats.clauses:,} clauses "
            f"(after optimisation: {stats.final_variables:,} / {stats.final_clauses:,}); "
            f"{len(stats.sat_calls)} pycosat calls, {stats.solutions_found} solution(s) found"))
        passes = simple_table("#", "optimisation pass", "terms", "best", "+clauses", "SAT calls",
                        title="Optimisation passes, in order")
        for i, p in enumerate(stats.passes, 1):
            style = "" if p.objective_size else "dim"
            passes.add_row(_t(i, style), _t(p.name, style or "cyan"), _t(p.objective_size, style),
                           _t(p.bound, style), _t(p.clauses_added, style), _t(p.sat_calls, style))
        parts.append(passes)
        parts.append(_note("Lexicographic: each pass finds its best value and keeps it as a constraint "
                           "for the passes after it."))
    final = list(getattr(outcome, "final_state", ()) or ())
    if getattr(outcome, "early_exit", None):
        parts.append(Text(f"early exit: {outcome.early_exit}", style="bold yellow"))
    neutered = getattr(outcome, "neutered_specs", ()) or ()
    if neutered:
        parts.append(Text("neutered specs: " + _join(neutered), style="yellow"))
    link_names = {r.name for r in result.link_precs}
    unlink_names = {r.name for r in result.unlink_precs}
    state = simple_table("package", "version", "build", "channel", "change",
                   title=f"Final state ({len(final)} packages, dependency order)")
    rows, hidden = _limit(final, full, 40)
    for rec in rows:
        change = ("update" if rec.name in link_names and rec.name in unlink_names
                  else "+ link" if rec.name in link_names else "")
        state.add_row(_t(rec.name, "cyan"), _t(rec.version), _t(rec.build),
                      _t(channel_label(rec.channel)), _t(change, "green" if change else ""))
    _more(state, hidden, "solve")
    parts.append(state)
    removed = sorted(r.name for r in result.unlink_precs if r.name not in link_names)
    parts.append(Text.assemble(("diff: ", "bold"), f"link {len(result.link_precs)}, "
                               f"unlink {len(result.unlink_precs)}",
                               (f" (removed: {', '.join(removed)})" if removed else "")))
    if final:
        graph = dependency_graph(r for r in final if not r.name.startswith("__"))
        parts.append(Text("The solution as a dependency graph (roots = what nothing depends on):",
                          style="bold"))
        parts.append(Text(text_tree(graph, max_depth=None if full else 2)))
    return Group(*parts)


# ----------------------------------------------------------------------------------------------
# one line per stage (the result panel)
# ----------------------------------------------------------------------------------------------

def one_line(name: str, result: Any) -> str:
    """A stage's result in a few words."""
    from conda_deepdive.pipeline import DeferredFailure

    if isinstance(result, DeferredFailure):
        return f"{type(result.error).__name__} on the first attempt (conda retries)"
    reason = getattr(getattr(result, "outcome", result), "reason", None)
    if isinstance(reason, str) and reason.startswith("no solve"):  # an explicit install
        records = getattr(result, "records", None) or getattr(result, "link_precs", None)
        return reason + (f" ({len(records)} package(s))" if records else "")
    if name == "parse":
        words = list(getattr(result.namespace, "packages", None) or
                     getattr(result.namespace, "package_names", None) or [])
        return f"conda {result.command} {' '.join(words)}".strip()
    if name == "context":
        settings = result.summary()["settings"]
        changed = sum(1 for e in settings.values() if e["source"] not in _BUILT_IN)
        return (f"{len(settings)} settings, {changed} set by you; channel_priority "
                f"{result.channel_priority}")
    if name == "index":
        return (f"{len(result):,} records, {len(result.by_name):,} names from "
                f"{len(result.subdir_datas)} subdirs ({result.repodata_fn})")
    if name == "priority":
        masked = sum(p.masked_count for p in result.names.values())
        return f"{result.mode}: {len(result.contested)} names in several channels, {masked} records masked"
    if name == "specs":
        return f"{len(result.entries)} specs ({result.update_modifier})" + (
            f", early exit: {result.early_exit}" if result.early_exit else "")
    if name == "reduce":
        return f"{result.total_before:,} → {len(result):,} records in {len(result.after)} names"
    if name == "solve":
        return (f"{len(result.final_state)} packages; link {len(result.link_precs)}, unlink "
                f"{len(result.unlink_precs)}; {len(result.attempts)} attempt(s)")
    if name == "transaction":
        if result.nothing_to_do:
            return "nothing to do"
        unlink = sum(len(s.unlink_precs) for s in result.prefix_setups.values())
        link = sum(len(s.link_precs) for s in result.prefix_setups.values())
        return f"unlink {unlink}, link {link}"
    if name == "fetch":
        pairs = list(result.paired_actions.values())
        cached = sum(1 for c, e in pairs if e is None)
        down = sum(1 for c, e in pairs if c is not None)
        return f"{len(pairs)} packages: {cached} cached, {len(pairs) - cached - down} extracted, {down} fetched"
    if name == "link":
        return f"{len(result.executed_log)} actions executed"
    return repr(result).splitlines()[0]
