"""Stage 5-6: the Solver — from "what you typed" to "what the environment will hold"
(``conda.core.solve.Solver``, the classic solver).

``Resolve`` (:mod:`conda_deepdive.solve.resolve`) answers a pure SAT question: *given these specs, which
records?* The Solver decides **which specs to ask about**, and that is where most of conda's
behaviour lives. It merges four sources:

1. what is installed (``conda-meta/*.json``, :class:`~conda_deepdive.index.prefix_data.PrefixData`);
2. what you asked for before (``conda-meta/history``, :class:`~conda_deepdive.index.history.History`);
3. configuration: pins (``pinned_packages``, ``conda-meta/pinned``), ``aggressive_update_packages``,
   the virtual packages of this machine;
4. the request itself (``specs_to_add`` / ``specs_to_remove``) and its *modifiers*:
   ``update_modifier`` (``freeze_installed``, ``update_specs``, ``update_deps``, ``update_all``,
   ``specs_satisfied_skip_solve``) and ``deps_modifier`` (``no_deps``, ``only_deps``).

The phases can be run one at a time (the Session does this):

* :meth:`Solver.collect_specs` → :class:`SpecsState` — the final spec list, *with the reason each
  spec is there* (history? frozen because installed? a target to keep? a pin? python kept at its
  minor version?);
* :meth:`Solver.apply_channel_priority` → ``PriorityReport`` (:mod:`~conda_deepdive.solve.channel_priority`);
* :meth:`Solver.reduce` → the reduced index Resolve will build clauses for;
* :meth:`Solver.run_sat` → :class:`SolveOutcome` — conflicts neutered, SAT solved, post-processing
  (``--no-deps``, ``--only-deps``, ``--update-deps``, ``--prune``) applied.

The spec-collection phase lives in :mod:`conda_deepdive.solve.solve_specs` (mixed into the Solver).
:func:`solve_with_retries` reproduces the loop of ``conda.cli.install.install`` around the Solver
(each repodata file × frozen-then-unfrozen) and returns every :class:`Attempt`.

What to notice as a learner: ``conda install foo`` in an existing environment first tries with
**everything installed frozen** (fast, minimal change) and only when that is unsatisfiable tries
again letting installed packages move. And the spec list the SAT solver sees is much longer than
what you typed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from conda_deepdive.exceptions import (
    CondaError,
    PackagesNotFoundError,
    PackagesNotFoundInChannelsError,
    ResolvePackageNotFound,
    SpecsConfigurationConflictError,
    UnsatisfiableError,
)
from conda_deepdive.reporting import Reporter
from conda_deepdive.solve.solve_specs import (
    FREEZE_INSTALLED, NO_DEPS, ONLY_DEPS, REPODATA_FN, STAGE, UPDATE_DEPS, UPDATE_MODIFIERS,
    UPDATE_SPECS, SpecCollector, SpecEntry, SpecsState, _major_minor, _modifier, _State,
    _ms, _noarch_python, _unmanageable, get_pinned_specs, DEPS_MODIFIERS,
)
from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "Solver",
    "SpecsState",
    "SpecEntry",
    "SolveOutcome",
    "Attempt",
    "RetryResult",
    "solve_with_retries",
    "diff_for_unlink_link_precs",
    "get_pinned_specs",
    "UPDATE_MODIFIERS",
    "DEPS_MODIFIERS",
]

@value_object(frozen=True, repr=False)  # its own __repr__ below
class SolveOutcome:
    """The result of :meth:`Solver.run_sat`: the final environment, in dependency order."""

    final_state: tuple
    final_specs: tuple = ()
    neutered_specs: tuple = ()
    neutered_for_conflicts: tuple = ()
    early_exit: str | None = None
    post_processing: tuple = ()
    stats: Any = None
    solve_seconds: float = 0.0

    def __repr__(self) -> str:
        names = ", ".join(r.dist_str() for r in self.final_state[:6])
        more = f", … {len(self.final_state) - 6} more" if len(self.final_state) > 6 else ""
        extra = f", early_exit={self.early_exit!r}" if self.early_exit else ""
        return f"SolveOutcome({len(self.final_state)} records: {names}{more}{extra})"

    def summary(self) -> dict:
        stats = self.stats
        if stats is not None and callable(getattr(stats, "summary", None)):
            stats = stats.summary()
        elif stats is not None and not isinstance(stats, (dict, list, str, int, float)):
            stats = repr(stats)
        return {
            "final_state": [r.dist_str() for r in self.final_state],
            "final_specs": [str(s) for s in self.final_specs],
            "neutered_specs": [str(s) for s in self.neutered_specs],
            "neutered_for_conflicts": [str(s) for s in self.neutered_for_conflicts],
            "early_exit": self.early_exit,
            "post_processing": list(self.post_processing),
            "stats": stats,
            "solve_seconds": self.solve_seconds,
        }


# ------------------------------------------------------------------------------------------------
# the Solver
# ------------------------------------------------------------------------------------------------
class Solver(SpecCollector):
    """conda's classic Solver. ``channels`` in priority order; ``index`` an already fetched
    :class:`~conda_deepdive.index.index.Index` (fetched on demand when ``None``)."""

    def __init__(self, prefix: str, channels: Iterable[Any] = (), subdirs: Iterable[str] = (),
                 specs_to_add: Iterable[Any] = (), specs_to_remove: Iterable[Any] = (),
                 repodata_fn: str = REPODATA_FN, command: str = "install", context: Any = None,
                 index: Any = None, reporter: Reporter | None = None):
        from conda_deepdive.models import MatchSpec

        if context is None:
            from conda_deepdive.config.context import Context

            context = Context.load()
        self.context = context
        self.prefix = os.fspath(prefix)
        self.reporter = reporter or Reporter()
        self.index = index
        chans = list(channels or ()) or list(getattr(index, "channels", ()) or ()) or list(context.channels)
        self.channels = self._as_channels(chans)
        self.subdirs = tuple(subdirs or context.subdirs)
        self.specs_to_add = tuple(MatchSpec.merge(_ms(s) for s in specs_to_add))
        self.specs_to_add_names = frozenset(s.name for s in self.specs_to_add)
        self.specs_to_remove = tuple(MatchSpec.merge(_ms(s) for s in specs_to_remove))
        self.neutered_specs: tuple = ()
        self.repodata_fn = repodata_fn
        self.command = command
        self.last_outcome: SolveOutcome | None = None
        self.last_specs_state: SpecsState | None = None
        self._state: _State | None = None
        self._collected_key: tuple | None = None
        self._prepared_specs: Any = None
        self._r: Any = None
        self._index_map: dict | None = None
        self._priority_report: Any = None

    def __repr__(self) -> str:
        add = ", ".join(str(s) for s in self.specs_to_add)
        rm = ", ".join(str(s) for s in self.specs_to_remove)
        return (f"Solver(prefix={self.prefix!r}, command={self.command!r}, add=[{add}], "
                f"remove=[{rm}], channels={[getattr(c, 'name', str(c)) for c in self.channels]}, "
                f"repodata_fn={self.repodata_fn!r})")

    def _as_channels(self, chans: list) -> list:
        from conda_deepdive.models import Channel

        config = getattr(self.context, "channel_config", None)
        out: list = []
        for c in chans:
            ch = c if isinstance(c, Channel) else Channel(c, config=config)
            if ch not in out:
                out.append(ch)
        return out

    # -- helpers ---------------------------------------------------------------------------------
    def channel_urls(self) -> list[str]:
        """The URLs conda prints under "Current channels" (every channel × subdir)."""
        urls: list[str] = []
        for ch in self.channels:
            try:
                found = ch.urls(with_credentials=False, subdirs=self.subdirs)
            except TypeError:
                found = ch.urls(False, self.subdirs)
            for url in found:
                if url not in urls:
                    urls.append(url)
        return urls

    def _not_found(self, exc: Exception) -> PackagesNotFoundError:
        """conda.cli.install turns Resolve's ``ResolvePackageNotFound`` (dependency chains that
        lead nowhere) into ``PackagesNotFoundError(chains, channel_urls)``."""
        chains = getattr(exc, "_formatted_chains", None)
        if chains is None:
            bad = getattr(exc, "bad_deps", None) or ()
            chains = tuple(" -> ".join(str(x) for x in (c if isinstance(c, (list, tuple)) else (c,)))
                           for c in bad)
        return PackagesNotFoundInChannelsError(tuple(chains), self.channel_urls())

    def _resolve_call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ResolvePackageNotFound as exc:
            raise self._not_found(exc) from None

    def _load_index(self) -> Any:
        if self.index is None:
            from conda_deepdive.index.index import fetch_index

            self.index = fetch_index(self.context, channels=self.channels, subdirs=self.subdirs,
                                     repodata_fn=self.repodata_fn, reporter=self.reporter)
        return self.index

    # -- phase: channel priority -----------------------------------------------------------------
    def apply_channel_priority(self) -> Any:
        """Which channel may supply which name under ``channel_priority`` (a report; the
        priority itself is applied inside Resolve)."""
        from conda_deepdive.solve.channel_priority import apply_channel_priority

        index = self._load_index()
        self._priority_report = apply_channel_priority(
            index, self.channels, str(self.context.channel_priority),
            getattr(self.context, "channel_config", None), self.reporter)
        return self._priority_report

    # -- phase: reduce ---------------------------------------------------------------------------
    def reduce(self) -> Any:
        """The reduced index Resolve will build its clauses for (display only: ``run_sat`` lets
        ``Resolve.solve`` reduce again, with its cache)."""
        if self.last_specs_state is None:
            self.collect_specs()
        ssc = self._state
        if ssc is None or ssc.r is None:
            return None
        specs = tuple((*ssc.specs_map.values(), *ssc.track_features_specs))
        reduced = self._resolve_call(ssc.r.get_reduced_index, specs)
        self.reporter.event(STAGE, "reduced", records=len(reduced))
        return reduced

    # -- phase: SAT ------------------------------------------------------------------------------
    def run_sat(self) -> SolveOutcome:
        """Phase 4: neuter conflicting targets, call SAT, post-process; sets ``last_outcome``."""
        if self.last_specs_state is None:
            self.collect_specs()
        ssc = self._state
        started = time.perf_counter()
        self._collected_key = None  # the collected state is consumed by this solve
        if self.last_specs_state.early_exit:
            from conda_deepdive.models.prefix_graph import PrefixGraph

            final = PrefixGraph(ssc.early_solution).records
            outcome = SolveOutcome(final, early_exit=self.last_specs_state.early_exit,
                                   solve_seconds=time.perf_counter() - started)
        else:
            outcome = self._sat_and_post(ssc, started)
        self.last_outcome = outcome
        self.reporter.event(STAGE, "solved", records=len(outcome.final_state),
                            early_exit=outcome.early_exit, solve_seconds=outcome.solve_seconds)
        return outcome

    def _sat_and_post(self, ssc: _State, started: float) -> SolveOutcome:
        from conda_deepdive.models.prefix_graph import PrefixGraph

        before = ssc.pre_sat_solution
        neutered_conflicts = self._run_sat(ssc)
        if ssc.add_back_map:
            names = {p.name for p in ssc.solution_precs}
            orphans = set(before) - set(ssc.solution_precs) - set(ssc.add_back_map)
            ssc.solution_precs = list(ssc.solution_precs) + [
                p for p in orphans if p.name not in ssc.specs_map and p.name not in names]
        post = self._post_sat_handling(ssc)
        final = PrefixGraph(ssc.solution_precs).records
        ssc.solution_precs = final
        stats = getattr(ssc.r, "last_solve", None)
        return SolveOutcome(final, tuple(ssc.final_environment_specs or ()), self.neutered_specs,
                            neutered_conflicts, None, post, stats, time.perf_counter() - started)

    def _run_sat(self, ssc: _State) -> tuple:
        from conda_deepdive.models import MatchSpec

        r = ssc.r
        final_specs = list(dict.fromkeys((*ssc.specs_map.values(), *ssc.track_features_specs)))
        has_match = getattr(r, "has_match", None) or (lambda s: bool(r.find_matches(s)))
        absent = [s for s in ssc.specs_map.values() if not has_match(s)]
        if absent:
            raise PackagesNotFoundInChannelsError(tuple(absent), self.channel_urls())
        neutered: list = []
        conflicting = set(self._conflicting(r, final_specs, self.specs_to_add))
        while conflicting:
            in_map = set(ssc.specs_map.values())
            pinned_conflicts = [s for s in conflicting if MatchSpec(s, optional=True) in ssc.pinned_specs]
            if pinned_conflicts:
                requested = ({s for s in conflicting if s in in_map} | set(self.specs_to_add)) - set(pinned_conflicts)
                raise SpecsConfigurationConflictError(sorted(str(s) for s in requested),
                                                      sorted(str(s) for s in set(pinned_conflicts)),
                                                      self.prefix)
            modified = False
            for spec in conflicting:
                if spec.target and not spec.optional:
                    modified = True
                    final_specs.remove(spec)
                    new = MatchSpec(spec.name, version=spec.version) if spec.get("version") else MatchSpec(spec.name)
                    final_specs.append(new)
                    ssc.set(spec.name, new, "neutered: its target conflicted with the request")
                    neutered.append(new)
            if not modified:
                break
            conflicting = set(self._conflicting(r, final_specs, self.specs_to_add))
        self.reporter.event(STAGE, "final_specs", specs=[str(s) for s in final_specs],
                            neutered=[str(s) for s in neutered])
        if conflicting and not getattr(self.context, "unsatisfiable_hints", True):
            raise UnsatisfiableError({})
        history = ssc.specs_from_history_map
        ssc.solution_precs = self._resolve_call(
            r.solve, tuple(final_specs), specs_to_add=self.specs_to_add, history_specs=history,
            should_retry_solve=ssc.should_retry_solve)
        self.neutered_specs = tuple(v for k, v in ssc.specs_map.items()
                                    if k in history and v.strictness < history[k].strictness)
        for name, (prec, spec) in ssc.add_back_map.items():
            if not spec:
                ssc.solution_precs = [p for p in ssc.solution_precs if p.name != name] + [prec]
        ssc.final_environment_specs = tuple(final_specs)
        return tuple(neutered)

    def _post_sat_handling(self, ssc: _State) -> tuple:
        from conda_deepdive.models import MatchSpec
        from conda_deepdive.models.prefix_graph import PrefixGraph

        done: list[str] = []
        if ssc.deps_modifier == NO_DEPS:
            keep = [p for p in ssc.prefix_data.iter_records()
                    if not any(s.match(p) for s in self.specs_to_remove)]
            added = [p for p in ssc.solution_precs if any(s.match(p) for s in self.specs_to_add)]
            added_names = {p.name for p in added}
            ssc.solution_precs = [p for p in keep if p.name not in added_names] + added
            done.append("no_deps: only the requested packages change")
        elif ssc.deps_modifier == ONLY_DEPS and ssc.update_modifier != UPDATE_DEPS:
            graph = PrefixGraph(ssc.solution_precs, self.specs_to_add)
            removed = graph.remove_youngest_descendant_nodes_with_specs()
            extra = [MatchSpec(d) for p in removed for d in p.depends if MatchSpec(d).name not in ssc.specs_map]
            self.specs_to_add = tuple(dict.fromkeys((*self.specs_to_add, *extra)))
            rm_names = {s.name for s in self.specs_to_remove}
            add_back = [ssc.prefix_data.get(n.name) for n in removed if n.name not in rm_names]
            ssc.solution_precs = PrefixGraph((*graph.records, *filter(None, add_back))).records
            done.append("only_deps: requested packages removed, their dependencies kept")
        elif ssc.update_modifier == UPDATE_DEPS:
            graph = PrefixGraph(ssc.solution_precs)
            names: set = set()
            for spec in self.specs_to_add:
                node = graph.get_node_by_name(spec.name)
                if node is not None:
                    names.update(a.name for a in graph.all_ancestors(node))
            specs_map = {n: MatchSpec(n) for n in names}
            for pin in ssc.pinned_specs:
                specs_map.pop(pin.name, None)
            if "python" in specs_map:
                py = ssc.prefix_data.get("python")
                if py is not None:
                    specs_map["python"] = MatchSpec(name="python", version=_major_minor(py.version) + ".*")
            specs_map.update({s.name: s for s in self.specs_to_add})
            self.specs_to_add = tuple(specs_map.values())
            ssc.solution_precs = self.solve_final_state(
                update_modifier=UPDATE_SPECS, deps_modifier=ssc.deps_modifier, prune=ssc.prune,
                ignore_pinned=ssc.ignore_pinned, force_remove=ssc.force_remove)
            ssc.prune = False
            done.append("update_deps: solved again with every dependency of the request as a spec")
        if ssc.prune:
            graph = PrefixGraph(ssc.solution_precs, ssc.final_environment_specs or ())
            pruned = graph.prune()
            ssc.solution_precs = graph.records
            done.append(f"prune: dropped {len(pruned)} records nothing needs")
        return tuple(done)

    # -- the public API --------------------------------------------------------------------------
    def solve_final_state(self, update_modifier: Any = None, deps_modifier: Any = None,
                          prune: bool = False, ignore_pinned: bool | None = None,
                          force_remove: bool | None = None, should_retry_solve: bool = False) -> tuple:
        """The records of the solved environment, dependencies first."""
        self.collect_specs(update_modifier, deps_modifier, prune, ignore_pinned, force_remove,
                           should_retry_solve)
        return self.run_sat().final_state

    def solve_for_diff(self, update_modifier: Any = None, deps_modifier: Any = None, prune: bool = False,
                       ignore_pinned: bool | None = None, force_remove: bool | None = None,
                       force_reinstall: bool | None = None, should_retry_solve: bool = False) -> tuple:
        """``(unlink_precs, link_precs)``: what leaves the prefix (dependents first) and what
        enters it (dependencies first)."""
        final = self.solve_final_state(update_modifier, deps_modifier, prune, ignore_pinned,
                                       force_remove, should_retry_solve)
        if force_reinstall is None:
            force_reinstall = bool(getattr(self.context, "force_reinstall", False))
        unlink, link = diff_for_unlink_link_precs(self.prefix, final, self.specs_to_add, force_reinstall,
                                                  getattr(self.context, "channel_config", None))
        bad = [p for p in unlink if _unmanageable(p)]
        if bad:
            raise CondaError("Cannot unlink unmanageable packages:"
                             + "".join(f"\n  - {p.record_id()}" for p in bad))
        self.reporter.event(STAGE, "diff", unlink=[p.dist_str() for p in unlink],
                            link=[p.dist_str() for p in link])
        return unlink, link


def diff_for_unlink_link_precs(prefix: str, final_precs: Iterable[Any], specs_to_add: Iterable[Any] = (),
                               force_reinstall: bool = False, channel_config: Any = None) -> tuple:
    """Compare the solution with ``conda-meta``: ``(unlink, link)`` tuples in dependency order.

    Also relinks every ``noarch: python`` package when python's minor version changes (their
    ``.py`` files live under ``lib/pythonX.Y``), and the requested ones on ``--force-reinstall``.
    ``channel_config`` (the Context's) names the installed records' channels as the index does,
    so an installed record equals the same build in the index.
    """
    from conda_deepdive.index.prefix_data import PrefixData
    from conda_deepdive.models.prefix_graph import PrefixGraph

    final = tuple(final_precs)
    previous = PrefixGraph(PrefixData(prefix, channel_config).iter_records()).records
    prev_set, final_set = set(previous), set(final)
    unlink = prev_set - final_set
    link = final_set - prev_set

    def relink(rec: Any) -> None:
        link.add(rec)
        if rec in prev_set:
            unlink.add(rec)

    if force_reinstall:
        for spec in specs_to_add:
            rec = next((p for p in final if spec.match(p)), None)
            if rec is not None:
                relink(rec)
    old_py = next((p for p in previous if p.name == "python"), None)
    new_py = next((p for p in final if p.name == "python"), None)
    if old_py is not None and new_py is not None and _major_minor(old_py.version) != _major_minor(new_py.version):
        for rec in final:
            if _noarch_python(rec):
                relink(rec)
    prev_pos = {r: i for i, r in enumerate(previous)}
    final_pos = {r: i for i, r in enumerate(final)}
    unlink_sorted = tuple(sorted(unlink, key=lambda r: prev_pos.get(r, -1), reverse=True))
    link_sorted = tuple(sorted(link, key=lambda r: final_pos.get(r, -1)))
    return unlink_sorted, link_sorted


# ------------------------------------------------------------------------------------------------
# conda.cli.install's retry loop
# ------------------------------------------------------------------------------------------------
@value_object(frozen=True, repr=False)  # its own __repr__ below
class Attempt:
    """One try: which repodata file, which update modifier, and how it ended."""

    repodata_fn: str
    update_modifier: str
    outcome: str
    message: str = ""

    def summary(self) -> dict:
        return {"repodata_fn": self.repodata_fn, "update_modifier": self.update_modifier,
                "outcome": self.outcome, "message": self.message}

    def __repr__(self) -> str:
        return f"Attempt({self.repodata_fn}, {self.update_modifier} → {self.outcome})"


@value_object
class RetryResult:
    """What :func:`solve_with_retries` returns: the winning solver, its diff and every attempt."""

    solver: Solver
    unlink_precs: tuple
    link_precs: tuple
    attempts: list = field(default_factory=list)

    def summary(self) -> dict:
        return {"attempts": [a.summary() for a in self.attempts],
                "unlink": [p.dist_str() for p in self.unlink_precs],
                "link": [p.dist_str() for p in self.link_precs]}


def attempt_repodata_fns(command: str, context: Any, repodata_fns: Iterable[str] = ()) -> list[str]:
    """The repodata files conda's loop goes through (``conda remove`` reads only the full one)."""
    if command == "remove":
        return [REPODATA_FN]
    fns = list(repodata_fns or getattr(context, "repodata_fns", ()) or ())
    if REPODATA_FN not in fns:
        fns.append(REPODATA_FN)
    return fns


def first_attempt(command: str, context: Any, repodata_fns: Iterable[str] = (),
                  args_update_modifier: Any = None) -> tuple[str, str]:
    """``(repodata_fn, update_modifier)`` of the loop's first try: ``install`` without an explicit
    update modifier starts frozen (``freeze_installed``); everything else uses the context's."""
    context_um = _modifier(getattr(context, "update_modifier", None), UPDATE_MODIFIERS, UPDATE_SPECS)
    fn = attempt_repodata_fns(command, context, repodata_fns)[0]
    if command == "install" and args_update_modifier is None:
        return fn, FREEZE_INSTALLED
    return fn, context_um


def solve_with_retries(prefix: str, channels: Iterable[Any], subdirs: Iterable[str] = (),
                       specs_to_add: Iterable[Any] = (), specs_to_remove: Iterable[Any] = (), *,
                       command: str = "install", context: Any = None, repodata_fns: Iterable[str] = (),
                       args_update_modifier: Any = None, index_for: Any = None,
                       force_reinstall: bool | None = None, force_remove: bool | None = None,
                       reporter: Reporter | None = None, solver_for: Any = None) -> RetryResult:
    """conda's loop in ``conda.cli.install.install`` (and the single solve of ``conda remove``).

    For each repodata file (``repodata_fns`` + ``repodata.json`` if missing), one Solver:
    ``install`` without an explicit update modifier first solves with ``freeze_installed``;
    on ``UnsatisfiableError``/``SpecsConfigurationConflictError`` the *same* Solver (keeping its
    working state) retries with ``update_specs`` — unless this is ``create`` or the user chose
    ``--freeze-installed``/``--update-specs``. A not-found error moves to the next repodata file
    (without the unfrozen retry). The error of the last repodata file is raised. Note conda's
    quirk, kept here: a successful *unfrozen retry* does not stop the loop; the next repodata file
    is still tried, and its result wins if it succeeds.

    ``args_update_modifier``: the update modifier given on the command line, or ``None``.
    ``index_for(repodata_fn)``: returns the Index for that file (default: fetch it).
    ``solver_for(repodata_fn)``: returns the Solver to use for that file, or ``None`` for a new
    one (the Session hands back the solver whose phases it already ran as stages 4–5b).
    """
    reporter = reporter or Reporter()
    if context is None:
        from conda_deepdive.config.context import Context

        context = Context.load()
    attempts: list[Attempt] = []

    def make(fn: str, adds=specs_to_add, removes=specs_to_remove) -> Solver:
        ready = solver_for(fn) if solver_for is not None else None
        if ready is not None:
            return ready
        index = index_for(fn) if index_for is not None else None
        return Solver(prefix, channels, subdirs, adds, removes, repodata_fn=fn, command=command,
                      context=context, index=index, reporter=reporter)

    def record(fn: str, um: str, outcome: str, message: str = "") -> None:
        attempts.append(Attempt(fn, um, outcome, message))
        reporter.event(STAGE, "attempt", **attempts[-1].summary())

    if command == "remove":
        solver = make(REPODATA_FN, (), specs_to_remove)
        um = _modifier(getattr(context, "update_modifier", None), UPDATE_MODIFIERS, UPDATE_SPECS)
        try:
            unlink, link = solver.solve_for_diff(force_remove=force_remove, force_reinstall=force_reinstall)
        except CondaError as exc:
            record(REPODATA_FN, um, type(exc).__name__, str(exc))
            raise
        record(REPODATA_FN, um, "ok")
        return RetryResult(solver, unlink, link, attempts)

    fns = attempt_repodata_fns(command, context, repodata_fns)
    args_um = None if args_update_modifier is None else _modifier(args_update_modifier, UPDATE_MODIFIERS, "")
    newenv = command == "create"
    retry_unfrozen = (args_um is None or args_um not in (FREEZE_INSTALLED, UPDATE_SPECS)) and not newenv
    deps_modifier = getattr(context, "deps_modifier", None)
    result: RetryResult | None = None
    for fn in fns:
        last = fn == fns[-1]
        solver = make(fn)
        um = first_attempt(command, context, fns, args_um)[1]
        try:
            unlink, link = solver.solve_for_diff(um, deps_modifier, force_reinstall=force_reinstall,
                                                 should_retry_solve=retry_unfrozen or not last)
            record(fn, um, "ok")
            return RetryResult(solver, unlink, link, attempts)
        except (ResolvePackageNotFound, PackagesNotFoundError) as exc:
            exc = solver._not_found(exc) if isinstance(exc, ResolvePackageNotFound) else exc
            record(fn, um, type(exc).__name__, str(exc))
            if last:
                raise exc from None
        except (UnsatisfiableError, SpecsConfigurationConflictError) as exc:
            record(fn, um, type(exc).__name__, str(exc))
            if retry_unfrozen:
                try:
                    unlink, link = solver.solve_for_diff(UPDATE_SPECS, deps_modifier,
                                                         force_reinstall=force_reinstall,
                                                         should_retry_solve=not last)
                    record(fn, UPDATE_SPECS, "ok")
                    result = RetryResult(solver, unlink, link, attempts)
                except (UnsatisfiableError, SpecsConfigurationConflictError) as exc2:
                    record(fn, UPDATE_SPECS, type(exc2).__name__, str(exc2))
                    if last:
                        raise
            elif last:
                raise
    if result is None:  # pragma: no cover - the loop always returns or raises on the last fn
        raise CondaError("no repodata file produced a solution")
    return result
