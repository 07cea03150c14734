"""Stage 5-6: the Solver — from "what you typed" to "what the environment will hold"
(``conda.core.solve.Solver``, the classic solver).

``Resolve`` (:mod:`conda_deepdive.resolve`) answers a pure SAT question: *given these specs, which
records?* The Solver decides **which specs to ask about**, and that is where most of conda's
behaviour lives. It merges four sources:

1. what is installed (``conda-meta/*.json``, :class:`~conda_deepdive.prefix_data.PrefixData`);
2. what you asked for before (``conda-meta/history``, :class:`~conda_deepdive.history.History`);
3. configuration: pins (``pinned_packages``, ``conda-meta/pinned``), ``aggressive_update_packages``,
   the virtual packages of this machine;
4. the request itself (``specs_to_add`` / ``specs_to_remove``) and its *modifiers*:
   ``update_modifier`` (``freeze_installed``, ``update_specs``, ``update_deps``, ``update_all``,
   ``specs_satisfied_skip_solve``) and ``deps_modifier`` (``no_deps``, ``only_deps``).

The phases can be run one at a time (the Session does this):

* :meth:`Solver.collect_specs` → :class:`SpecsState` — the final spec list, *with the reason each
  spec is there* (history? frozen because installed? a target to keep? a pin? python kept at its
  minor version?);
* :meth:`Solver.apply_channel_priority` → ``PriorityReport`` (:mod:`~conda_deepdive.channel_priority`);
* :meth:`Solver.reduce` → the reduced index Resolve will build clauses for;
* :meth:`Solver.run_sat` → :class:`SolveOutcome` — conflicts neutered, SAT solved, post-processing
  (``--no-deps``, ``--only-deps``, ``--update-deps``, ``--prune``) applied.

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
from dataclasses import dataclass, field
from typing import Any, Iterable

from conda_deepdive.exceptions import (
    CondaError,
    PackagesNotFoundError,
    PackagesNotFoundInChannelsError,
    PackagesNotFoundInPrefixError,
    ResolvePackageNotFound,
    SpecsConfigurationConflictError,
    UnsatisfiableError,
)
from conda_deepdive.reporting import Reporter

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

REPODATA_FN = "repodata.json"
SPECS_SATISFIED_SKIP_SOLVE = "specs_satisfied_skip_solve"
FREEZE_INSTALLED = "freeze_installed"
UPDATE_DEPS = "update_deps"
UPDATE_SPECS = "update_specs"
UPDATE_ALL = "update_all"
UPDATE_MODIFIERS = (SPECS_SATISFIED_SKIP_SOLVE, FREEZE_INSTALLED, UPDATE_DEPS, UPDATE_SPECS, UPDATE_ALL)
NOT_SET = "not_set"
NO_DEPS = "no_deps"
ONLY_DEPS = "only_deps"
UPDATE_DEPS_ONLY_DEPS = "update_deps_only_deps"
DEPS_MODIFIERS = (NOT_SET, NO_DEPS, ONLY_DEPS, UPDATE_DEPS, UPDATE_DEPS_ONLY_DEPS)
# packages conda keeps even when no history mentions them (old installers did not record them)
_ALWAYS_KEEP = ("anaconda", "conda", "conda-build", "python.app", "console_shortcut",
                "powershell_shortcut")
STAGE = "solve"


def _modifier(value: Any, allowed: tuple, default: str) -> str:
    """Accept an enum, a string or None and return conda's lower-case value."""
    if value is None or value == "" or value == "NULL":
        return default
    value = str(getattr(value, "value", value)).lower()
    return value if value in allowed else default


def _ms(spec: Any) -> Any:
    from conda_deepdive.models import MatchSpec

    return spec if isinstance(spec, MatchSpec) else MatchSpec(spec)


def _exact_spec(prec: Any) -> Any:
    """The spec that matches only this record (conda's ``PackageRecord.to_match_spec``)."""
    to_ms = getattr(prec, "to_match_spec", None)
    if callable(to_ms):
        return to_ms()
    from conda_deepdive.models import MatchSpec

    return MatchSpec(channel=prec.channel, subdir=prec.subdir, name=prec.name,
                     version=prec.version, build=prec.build)


def _major_minor(version: str) -> str:
    parts = str(version).split(".")
    return ".".join(parts[:2])


def _unmanageable(prec: Any) -> bool:
    ptype = str(getattr(getattr(prec, "package_type", None), "value",
                        getattr(prec, "package_type", None)) or "")
    return ptype in ("virtual_python_egg_unmanageable", "virtual_python_egg_link", "virtual_system")


def _noarch_python(prec: Any) -> bool:
    return str(getattr(getattr(prec, "noarch", None), "value", getattr(prec, "noarch", None))) == "python"


def get_pinned_specs(prefix: str, context: Any) -> tuple:
    """Pins from ``pinned_packages`` and ``<prefix>/conda-meta/pinned``, all *optional* specs
    (a pin constrains a package only if something brings it in)."""
    from conda_deepdive.models import MatchSpec

    from_file: list[str] = []
    path = os.path.join(prefix, "conda-meta", "pinned")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            from_file = [ln for ln in fh.read().strip().splitlines() if ln and not ln.strip().startswith("#")]
    configured = tuple(getattr(context, "pinned_packages", ()) or ())
    return tuple(MatchSpec(_ms(s), optional=True) for s in (*configured, *from_file))


# ------------------------------------------------------------------------------------------------
# inspectable results
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpecEntry:
    """One spec of the final list and why it is there."""

    name: str
    spec: str
    reason: str

    def __repr__(self) -> str:
        return f"{self.spec!s:<40} ← {self.reason}"


@dataclass(frozen=True)
class SpecsState:
    """The result of :meth:`Solver.collect_specs` (conda's ``SolverStateContainer`` after
    ``_remove_specs``/``_add_specs``): the spec list handed to SAT, and the inputs it came from."""

    prefix: str
    update_modifier: str
    deps_modifier: str
    specs_to_add: tuple
    specs_to_remove: tuple
    installed: tuple
    history_specs: dict
    pinned_specs: tuple
    aggressive_update_packages: tuple
    entries: tuple
    early_exit: str | None = None
    inconsistent: tuple = ()
    conflicts: tuple = ()

    @property
    def final_specs(self) -> tuple:
        return tuple(e.spec for e in self.entries)

    def why(self, name: str) -> str | None:
        return next((e.reason for e in self.entries if e.name == name), None)

    def __repr__(self) -> str:
        head = (f"SpecsState(prefix={self.prefix!r}, update_modifier={self.update_modifier}, "
                f"deps_modifier={self.deps_modifier}, installed={len(self.installed)}, "
                f"history={len(self.history_specs)}, pins={len(self.pinned_specs)}")
        if self.early_exit:
            return head + f", early_exit={self.early_exit!r})"
        lines = "\n".join(f"  {e!r}" for e in self.entries)
        return f"{head}, {len(self.entries)} specs)\n{lines}"

    def summary(self) -> dict:
        return {
            "prefix": self.prefix,
            "update_modifier": self.update_modifier,
            "deps_modifier": self.deps_modifier,
            "specs_to_add": [str(s) for s in self.specs_to_add],
            "specs_to_remove": [str(s) for s in self.specs_to_remove],
            "installed": sorted(r.dist_str() for r in self.installed),
            "history_specs": {k: str(v) for k, v in self.history_specs.items()},
            "pinned_specs": [str(s) for s in self.pinned_specs],
            "aggressive_update_packages": [str(s) for s in self.aggressive_update_packages],
            "specs": [{"name": e.name, "spec": e.spec, "reason": e.reason} for e in self.entries],
            "early_exit": self.early_exit,
            "inconsistent": sorted(r.dist_str() for r in self.inconsistent),
            "conflicts": list(self.conflicts),
        }


@dataclass(frozen=True)
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


class _State:
    """conda's SolverStateContainer: mutable working state shared by the phases (and kept
    across the frozen → unfrozen retry, exactly as conda keeps ``self.ssc``)."""

    def __init__(self, solver: "Solver", update_modifier: str, deps_modifier: str, prune: bool,
                 ignore_pinned: bool, force_remove: bool, should_retry_solve: bool):
        from conda_deepdive.history import History
        from conda_deepdive.prefix_data import PrefixData

        self.update_modifier = update_modifier
        self.deps_modifier = deps_modifier
        self.prune = prune
        self.ignore_pinned = ignore_pinned
        self.force_remove = force_remove
        self.should_retry_solve = should_retry_solve
        self.prefix_data = PrefixData(solver.prefix)
        self.specs_from_history_map = History(solver.prefix).get_requested_specs_map()
        ctx = solver.context
        self.track_features_specs = tuple(_ms(f"{f}@") for f in getattr(ctx, "track_features", ()) or ())
        self.pinned_specs = () if ignore_pinned else get_pinned_specs(solver.prefix, ctx)
        self.index: dict | None = None
        self.r: Any = None
        self.specs_map: dict = {}
        self.why: dict[str, str] = {}
        self.solution_precs: Any = () if prune else tuple(self.prefix_data.iter_records())
        self.add_back_map: dict = {}
        self.final_environment_specs: Any = None
        self.conflicts: tuple = ()
        self.inconsistent: tuple = ()

    def set(self, name: str, spec: Any, why: str) -> None:
        self.specs_map[name] = spec
        self.why[name] = why


# ------------------------------------------------------------------------------------------------
# the Solver
# ------------------------------------------------------------------------------------------------
class Solver:
    """conda's classic Solver. ``channels`` in priority order; ``index`` an already fetched
    :class:`~conda_deepdive.index.Index` (fetched on demand when ``None``)."""

    def __init__(self, prefix: str, channels: Iterable[Any] = (), subdirs: Iterable[str] = (),
                 specs_to_add: Iterable[Any] = (), specs_to_remove: Iterable[Any] = (),
                 repodata_fn: str = REPODATA_FN, command: str = "install", context: Any = None,
                 index: Any = None, reporter: Reporter | None = None):
        from conda_deepdive.models import MatchSpec

        if context is None:
            from conda_deepdive.context import Context

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
            from conda_deepdive.index import fetch_index

            self.index = fetch_index(self.context, channels=self.channels, subdirs=self.subdirs,
                                     repodata_fn=self.repodata_fn, reporter=self.reporter)
        return self.index

    # -- phase: channel priority -----------------------------------------------------------------
    def apply_channel_priority(self) -> Any:
        """Which channel may supply which name under ``channel_priority`` (a report; the
        priority itself is applied inside Resolve)."""
        from conda_deepdive.channel_priority import apply_channel_priority

        index = self._load_index()
        self._priority_report = apply_channel_priority(
            index.records, self.channels, str(self.context.channel_priority),
            getattr(self.context, "channel_config", None), self.reporter)
        return self._priority_report

    # -- phase: metadata (conda's _collect_all_metadata / _prepare) ------------------------------
    def _prepare(self, prepared_specs: set) -> None:
        if self._r is not None and prepared_specs == self._prepared_specs:
            return
        from conda_deepdive.resolve import Resolve

        index = self._load_index()
        records = self._name_closure(index, prepared_specs)
        self._index_map = {rec: rec for rec in records}
        ctx = self.context
        self._r = Resolve(records, channels=self.channels,
                          channel_priority=str(getattr(ctx.channel_priority, "value", ctx.channel_priority)),
                          reporter=self.reporter,
                          unsatisfiable_hints=bool(getattr(ctx, "unsatisfiable_hints", True)),
                          channel_config=getattr(ctx, "channel_config", None))
        self._prepared_specs = prepared_specs
        self.reporter.event(STAGE, "index_prepared", records=len(records),
                            names=len({r.name for r in records}))

    def _name_closure(self, index: Any, specs: Iterable[Any]) -> list:
        """Every record reachable *by name* from the specs (conda.core.index.get_reduced_index):
        the solver never looks at packages no spec or dependency can name. Installed records,
        virtual packages and ``feature@`` records are added, as conda does."""
        by_name = index.by_name
        pending = set()
        features = set()
        for spec in specs:
            name = spec.get_raw_value("name")
            if name and name != "*":
                pending.add(name)
            features.update(spec.get_raw_value("track_features") or ())
        done: set = set()
        records: list = []
        seen_features: set = set()
        while pending or features - seen_features:
            while pending:
                name = pending.pop()
                done.add(name)
                for rec in by_name.get(name, ()):
                    records.append(rec)
                    for dep in rec.combined_depends:
                        dname = _ms(dep).get_raw_value("name")
                        if dname and dname not in done:
                            pending.add(dname)
                    features.update(rec.track_features or ())
            for feature in features - seen_features:
                seen_features.add(feature)
                for rec in index.records:
                    if feature in (rec.track_features or ()) and rec.name not in done:
                        pending.add(rec.name)
        present = set(records)
        for prec in self._state.prefix_data.iter_records() if self._state else ():
            if prec not in present:
                records.append(prec)
                present.add(prec)
        virtual = list(getattr(index, "virtual_packages", ()) or ())
        records.extend(v for v in virtual if v not in present)
        known_features = set(getattr(self.context, "track_features", ()) or ())
        for rec in records:
            known_features.update(rec.track_features or ())
            known_features.update(getattr(rec, "features", ()) or ())
        names = {r.name for r in records}
        for feature in sorted(known_features):
            if f"{feature}@" not in names:
                records.append(self._feature_record(feature))
        return records

    def _feature_record(self, feature: str) -> Any:
        # the pseudo-package ``<feature>@`` that "tracks" a feature; made by Resolve so the records
        # it adds itself while reducing are equal to ours
        from conda_deepdive.resolve import Resolve

        if not hasattr(self, "_feature_maker"):
            self._feature_maker = Resolve((), ())
        return self._feature_maker.feature_record(feature)

    def _collect_all_metadata(self, ssc: _State) -> None:
        if ssc.prune:
            prepared = {*self.specs_to_remove, *self.specs_to_add}
        else:
            for name, spec in ssc.specs_from_history_map.items():
                ssc.set(name, spec, "history: you asked for it before")
            for name in _ALWAYS_KEEP:
                if name not in ssc.specs_map and ssc.prefix_data.get(name) is not None:
                    ssc.set(name, _ms(name), "installed and always kept (conda's keep-list)")
            index = self._load_index()
            for vrec in getattr(index, "virtual_packages", ()) or ():
                if vrec.name not in ssc.specs_map:
                    ssc.set(vrec.name, _ms(vrec.name), "virtual package of this system")
            aggressive = self._aggressive()
            for prec in ssc.prefix_data.iter_records():
                if not ssc.specs_from_history_map:
                    ssc.set(prec.name, _ms(prec.name), "installed (no history: every package counts)")
                elif _ms(prec.name) in aggressive:
                    ssc.set(prec.name, _ms(prec.name), "installed and in aggressive_update_packages")
                elif prec.subdir == "pypi":
                    ssc.set(prec.name, _ms(prec.name), "installed by pip: treated as requested")
            prepared = {*self.specs_to_remove, *self.specs_to_add, *ssc.specs_from_history_map.values()}
        self._prepare(prepared)
        ssc.index, ssc.r = self._index_map, self._r

    def _aggressive(self) -> tuple:
        return tuple(_ms(s) for s in getattr(self.context, "aggressive_update_packages", ()) or ())

    # -- phase: specs ----------------------------------------------------------------------------
    def collect_specs(self, update_modifier: Any = None, deps_modifier: Any = None, prune: bool = False,
                      ignore_pinned: bool | None = None, force_remove: bool | None = None,
                      should_retry_solve: bool = False) -> SpecsState:
        """Phase 1: build the spec list (conda's SolverStateContainer + ``_remove_specs`` +
        ``_add_specs``). Returns a :class:`SpecsState` saying why each spec is there."""
        key = (update_modifier, deps_modifier, prune, ignore_pinned, force_remove, should_retry_solve)
        if self._collected_key == key and self.last_specs_state is not None:
            return self.last_specs_state
        started = time.perf_counter()
        self.reporter.event(STAGE, "collect_specs_started", update_modifier=str(update_modifier),
                            retrying=self._state is not None)
        state = self._collect(update_modifier, deps_modifier, prune, ignore_pinned, force_remove,
                              should_retry_solve)
        self._collected_key = key
        self.last_specs_state = state
        self.reporter.event(STAGE, "specs_collected", early_exit=state.early_exit,
                            specs=[e.spec for e in state.entries],
                            collect_seconds=time.perf_counter() - started)
        return state

    def _normalise(self, update_modifier, deps_modifier, prune, ignore_pinned, force_remove):
        if prune and _modifier(update_modifier, UPDATE_MODIFIERS, "") == FREEZE_INSTALLED:
            update_modifier = None
        ctx = self.context
        um = _modifier(update_modifier, UPDATE_MODIFIERS,
                       _modifier(getattr(ctx, "update_modifier", None), UPDATE_MODIFIERS, UPDATE_SPECS))
        dm = _modifier(deps_modifier, DEPS_MODIFIERS,
                       _modifier(getattr(ctx, "deps_modifier", None), DEPS_MODIFIERS, NOT_SET))
        ip = bool(getattr(ctx, "ignore_pinned", False)) if ignore_pinned is None else bool(ignore_pinned)
        fr = bool(getattr(ctx, "force_remove", False)) if force_remove is None else bool(force_remove)
        return um, dm, bool(prune), ip, fr

    def _collect(self, update_modifier, deps_modifier, prune, ignore_pinned, force_remove,
                 should_retry_solve) -> SpecsState:
        um, dm, prune, ip, fr = self._normalise(update_modifier, deps_modifier, prune, ignore_pinned,
                                                force_remove)
        if self._state is None:
            ssc = self._state = _State(self, um, dm, prune, ip, fr, should_retry_solve)
        else:  # a retry: conda keeps the working state of the failed attempt
            ssc = self._state
            ssc.update_modifier, ssc.deps_modifier = um, dm
            ssc.should_retry_solve = should_retry_solve
        ssc.early_solution = None
        early = None
        if self.specs_to_remove and fr:
            if self.specs_to_add:
                raise CondaError("force_remove cannot be combined with packages to add")
            early = "force_remove"
            ssc.early_solution = tuple(p for p in ssc.solution_precs
                                       if not any(s.match(p) for s in self.specs_to_remove))
        elif um == SPECS_SATISFIED_SKIP_SOLVE and not self.specs_to_remove and not prune:
            if all(next(ssc.prefix_data.query(s), None) is not None for s in self.specs_to_add):
                early = "specs_satisfied"
                ssc.early_solution = tuple(ssc.solution_precs)
        if early is None:
            if ssc.r is None:
                self._collect_all_metadata(ssc)
            self._remove_specs(ssc)
            self._add_specs(ssc)
            ssc.pre_sat_solution = tuple(ssc.solution_precs)
            self._find_inconsistent_packages(ssc)
        return self._snapshot(ssc, early)

    def _snapshot(self, ssc: _State, early: str | None) -> SpecsState:
        entries = tuple(SpecEntry(name, str(spec), ssc.why.get(name, "")) for name, spec in ssc.specs_map.items())
        entries += tuple(SpecEntry(s.name, str(s), "track_features setting") for s in ssc.track_features_specs)
        return SpecsState(
            prefix=self.prefix, update_modifier=ssc.update_modifier, deps_modifier=ssc.deps_modifier,
            specs_to_add=self.specs_to_add, specs_to_remove=self.specs_to_remove,
            installed=tuple(ssc.prefix_data.iter_records()), history_specs=dict(ssc.specs_from_history_map),
            pinned_specs=ssc.pinned_specs, aggressive_update_packages=self._aggressive(),
            entries=() if early else entries, early_exit=early, inconsistent=ssc.inconsistent,
            conflicts=ssc.conflicts,
        )

    def _remove_specs(self, ssc: _State) -> None:
        if not self.specs_to_remove:
            return
        from conda_deepdive.prefix_graph import PrefixGraph

        feature_names = set()
        for spec in self.specs_to_remove:
            feature_names.update(spec.get_raw_value("track_features") or ())
        graph = PrefixGraph(ssc.solution_precs, ssc.specs_map.values())
        removed_all: list = []
        nothing_removed: list = []
        for spec in self.specs_to_remove:
            removed = graph.remove_spec(spec)
            if removed:
                removed_all.extend(removed)
            else:
                nothing_removed.append(spec)
        unmatched = tuple(s for s in nothing_removed if not any(s.match(r) for r in removed_all))
        if unmatched:
            raise PackagesNotFoundInPrefixError(tuple(sorted(str(s) for s in unmatched)), prefix=self.prefix)
        for rec in removed_all:
            has_feature = set(getattr(rec, "features", ()) or ()) & feature_names
            if has_feature and rec.name in ssc.specs_from_history_map:
                spec = ssc.specs_map.get(rec.name, _ms(rec.name))
                ssc.set(rec.name, _ms(rec.name) if not spec.get("version") else spec,
                        "history spec kept without its feature")
            else:
                ssc.specs_map.pop(rec.name, None)
        self.reporter.event(STAGE, "removed_by_graph", records=[r.dist_str() for r in removed_all])
        ssc.solution_precs = tuple(graph.records)

    def _package_pool(self, r: Any, specs: Iterable[Any]) -> dict:
        pool_fn = getattr(r, "_get_package_pool", None)
        if callable(pool_fn):
            return self._resolve_call(pool_fn, tuple(specs))
        pool: dict = {}
        for rec in self._resolve_call(r.get_reduced_index, tuple(specs)):
            pool.setdefault(rec.name, set()).add(rec)
        return pool

    def _conflicting(self, r: Any, specs: Iterable[Any], explicit: Iterable[Any]) -> tuple:
        return tuple(self._resolve_call(r.get_conflicting_specs, tuple(specs), tuple(explicit)) or ())

    def _should_freeze(self, ssc: _State, prec: Any, conflict_names: set, explicit_pool: dict) -> bool:
        if not ssc.specs_from_history_map or ssc.update_modifier != FREEZE_INSTALLED:
            return False
        name = prec.name
        return name not in conflict_names and (name not in explicit_pool or prec in explicit_pool[name])

    def _add_specs(self, ssc: _State) -> None:
        from conda_deepdive.models import MatchSpec

        r = ssc.r
        explicit_pool = self._package_pool(r, self.specs_to_add)
        installed_specs = () if ssc.prune else [_exact_spec(p) for p in ssc.prefix_data.iter_records()]
        conflict_names = {s.name for s in self._conflicting(r, installed_specs, self.specs_to_add)}
        ssc.conflicts = tuple(sorted(conflict_names))
        aggressive = self._aggressive()

        for name, spec in list(ssc.specs_map.items()):
            matches = tuple(p for p in ssc.solution_precs if spec.match(p))
            if not matches:
                continue
            if len(matches) != 1:
                raise CondaError(f"Conda encountered an error with your environment: spec {spec} "
                                 f"matches {len(matches)} installed records for {name}")
            target = matches[0]
            if _unmanageable(target):
                ssc.set(name, _exact_spec(target), "installed and unmanageable: frozen")
            elif MatchSpec(name) in aggressive:
                ssc.set(name, MatchSpec(name), "aggressive_update_packages")
            elif self._should_freeze(ssc, target, conflict_names, explicit_pool):
                ssc.set(name, _exact_spec(target), "frozen: installed, no conflict with the request")
            elif name in ssc.specs_from_history_map:
                ssc.set(name, MatchSpec(ssc.specs_from_history_map[name], target=target.dist_str()),
                        "history spec, prefer the installed record (target)")
            else:
                ssc.set(name, MatchSpec(name, target=target.dist_str()),
                        "installed, prefer to keep it (target)")

        pin_overrides = set()
        for pin in ssc.pinned_specs:
            if pin.name not in explicit_pool:
                continue
            if pin.name not in self.specs_to_add_names and not ssc.ignore_pinned:
                ssc.set(pin.name, MatchSpec(pin, optional=False), "pinned")
            elif explicit_pool[pin.name] & self._package_pool(r, [pin]).get(pin.name, set()):
                ssc.set(pin.name, MatchSpec(pin, optional=False), "pinned (compatible with the request)")
                pin_overrides.add(pin.name)
            else:
                self.reporter.warning(STAGE, f"pinned spec {pin} conflicts with explicit specs. "
                                             "Overriding pinned spec.")

        if ssc.update_modifier == FREEZE_INSTALLED:
            for prec in ssc.prefix_data.iter_records():
                if prec.name in ssc.specs_map:
                    continue
                if prec.name not in conflict_names:
                    ssc.set(prec.name, _exact_spec(prec), "frozen: installed, no conflict with the request")
                else:
                    ssc.set(prec.name, MatchSpec(prec.name, target=_exact_spec(prec), optional=True),
                            "installed but conflicts with the request: may change (optional)")

        pinned_names = {p.name for p in ssc.pinned_specs}
        if ssc.update_modifier == UPDATE_ALL:
            old = dict(ssc.specs_map)
            ssc.specs_map, ssc.why = {}, {}
            if ssc.specs_from_history_map:
                for hname in ssc.specs_from_history_map:
                    if hname in pinned_names:
                        ssc.set(hname, old[hname], "pinned (update --all)")
                    else:
                        ssc.set(hname, MatchSpec(hname), "history name, free to update (update --all)")
                for prec in ssc.prefix_data.iter_records():
                    if prec.subdir == "pypi":
                        ssc.set(prec.name, MatchSpec(prec.name), "installed by pip (update --all)")
            else:
                for prec in ssc.prefix_data.iter_records():
                    if prec.name in pinned_names:
                        ssc.set(prec.name, old[prec.name], "pinned (update --all)")
                    else:
                        ssc.set(prec.name, MatchSpec(prec.name), "installed, free to update (update --all)")
        elif ssc.update_modifier == UPDATE_SPECS:
            def skip(s: Any) -> bool:
                return ((s.name not in pin_overrides and s.name in pinned_names and not ssc.ignore_pinned)
                        or s.name in ssc.specs_from_history_map)

            to_add = tuple(self._package_has_updates(ssc, s) for s in self.specs_to_add if not skip(s))
            conflicts = self._conflicting(r, tuple(ssc.specs_map.values()), to_add)
            for c in conflicts:
                if (c.name in ssc.specs_map
                        and (MatchSpec(c, optional=True) not in ssc.pinned_specs or ssc.ignore_pinned)
                        and c.name not in ssc.specs_from_history_map):
                    ssc.set(c.name, MatchSpec(c.name), "neutered: blocked the update of a requested spec")

        self._python_rule(ssc, conflict_names)

        if not getattr(self.context, "offline", False):
            for spec in aggressive:
                if spec.name in ssc.specs_map:
                    ssc.set(spec.name, spec, "aggressive_update_packages")
        for s in self.specs_to_add:
            if s.name not in pin_overrides:
                ssc.set(s.name, s, "requested")

    def _package_has_updates(self, ssc: _State, spec: Any) -> Any:
        from conda_deepdive.models import MatchSpec

        installed = ssc.prefix_data.get(spec.name)
        if installed is None:
            return spec
        for prec in ssc.r.groups.get(spec.name, ()):
            if _vo(prec.version) > _vo(installed.version) or (
                    _vo(prec.version) == _vo(installed.version) and prec.build_number > installed.build_number):
                return MatchSpec(spec.name, version=prec.version, build_number=prec.build_number)
        return spec

    def _python_rule(self, ssc: _State, conflict_names: set) -> None:
        """Business rule: never move python to another minor version unless asked to."""
        from conda_deepdive.models import MatchSpec

        if not any(p.name == "python" for p in ssc.solution_precs):
            return
        if any(s.name == "python" for s in self.specs_to_add):
            return
        py = ssc.prefix_data.get("python")
        if py is None:
            return
        freeze = ssc.update_modifier == FREEZE_INSTALLED
        if "python" not in conflict_names and freeze:
            ssc.set("python", _exact_spec(py), "python frozen at the installed record")
            return
        python_spec = ssc.specs_map.get("python", MatchSpec("python"))
        if not python_spec.get("version"):
            python_spec = MatchSpec(python_spec, version=_major_minor(py.version) + ".*")
        spec_set = (python_spec, *self.specs_to_add)
        if self._conflicting(ssc.r, spec_set, self.specs_to_add):
            if self.command != "install" or (self.repodata_fn == REPODATA_FN
                                              and (not ssc.should_retry_solve or not freeze)):
                self._resolve_call(ssc.r.find_conflicts, spec_set)
            else:
                raise UnsatisfiableError({})
        ssc.set("python", python_spec, "python kept at its installed minor version")

    def _find_inconsistent_packages(self, ssc: _State) -> None:
        from conda_deepdive.models import MatchSpec

        bad = getattr(ssc.r, "bad_installed", None)
        if not callable(bad):
            return
        _, inconsistent = self._resolve_call(bad, ssc.solution_precs, ())
        if inconsistent:
            ssc.solution_precs = tuple(ssc.index.get(k, k) for k in ssc.solution_precs)
            _, inconsistent = self._resolve_call(bad, ssc.solution_precs, ())
        if not inconsistent:
            return
        ssc.inconsistent = tuple(inconsistent)
        self.reporter.warning(STAGE, "The environment is inconsistent, please check the package plan "
                                     "carefully. The following packages are causing the inconsistency: "
                              + ", ".join(p.dist_str() for p in inconsistent))
        for prec in inconsistent:
            spec = ssc.specs_map.pop(prec.name, None)
            ssc.add_back_map[prec.name] = (prec, spec)
            ssc.set(prec.name, MatchSpec(prec.name, target=prec.dist_str()), "inconsistent: let it float")
            if prec.name == "python" and spec:
                ssc.set("python", spec, "inconsistent python: keep its spec")
        ssc.solution_precs = tuple(p for p in ssc.solution_precs if p not in inconsistent)

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
            from conda_deepdive.prefix_graph import PrefixGraph

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
        from conda_deepdive.prefix_graph import PrefixGraph

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
        absent = [s for s in ssc.specs_map.values() if not r.find_matches(s)]
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
        from conda_deepdive.prefix_graph import PrefixGraph

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
        unlink, link = diff_for_unlink_link_precs(self.prefix, final, self.specs_to_add, force_reinstall)
        bad = [p for p in unlink if _unmanageable(p)]
        if bad:
            raise CondaError("Cannot unlink unmanageable packages:"
                             + "".join(f"\n  - {p.record_id()}" for p in bad))
        self.reporter.event(STAGE, "diff", unlink=[p.dist_str() for p in unlink],
                            link=[p.dist_str() for p in link])
        return unlink, link

    def solve_for_transaction(self, update_modifier: Any = None, deps_modifier: Any = None,
                              prune: bool = False, ignore_pinned: bool | None = None,
                              force_remove: bool | None = None, force_reinstall: bool | None = None,
                              should_retry_solve: bool = False) -> Any:
        """An :class:`~conda_deepdive.transaction.UnlinkLinkTransaction` for the solution."""
        from conda_deepdive.transaction import PrefixSetup, UnlinkLinkTransaction

        unlink, link = self.solve_for_diff(update_modifier, deps_modifier, prune, ignore_pinned,
                                           force_remove, force_reinstall, should_retry_solve)
        setup = PrefixSetup(self.prefix, unlink, link, self.specs_to_remove, self.specs_to_add,
                            self.neutered_specs)
        return UnlinkLinkTransaction(setup, context=self.context, reporter=self.reporter)


def _vo(version: str) -> Any:
    from conda_deepdive.models import VersionOrder

    return VersionOrder(version)


def diff_for_unlink_link_precs(prefix: str, final_precs: Iterable[Any], specs_to_add: Iterable[Any] = (),
                               force_reinstall: bool = False) -> tuple:
    """Compare the solution with ``conda-meta``: ``(unlink, link)`` tuples in dependency order.

    Also relinks every ``noarch: python`` package when python's minor version changes (their
    ``.py`` files live under ``lib/pythonX.Y``), and the requested ones on ``--force-reinstall``.
    """
    from conda_deepdive.prefix_data import PrefixData
    from conda_deepdive.prefix_graph import PrefixGraph

    final = tuple(final_precs)
    previous = PrefixGraph(PrefixData(prefix).iter_records()).records
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
@dataclass(frozen=True)
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


@dataclass
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


def solve_with_retries(prefix: str, channels: Iterable[Any], subdirs: Iterable[str] = (),
                       specs_to_add: Iterable[Any] = (), specs_to_remove: Iterable[Any] = (), *,
                       command: str = "install", context: Any = None, repodata_fns: Iterable[str] = (),
                       args_update_modifier: Any = None, index_for: Any = None,
                       force_reinstall: bool | None = None, force_remove: bool | None = None,
                       reporter: Reporter | None = None) -> RetryResult:
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
    """
    reporter = reporter or Reporter()
    if context is None:
        from conda_deepdive.context import Context

        context = Context.load()
    attempts: list[Attempt] = []

    def make(fn: str, adds=specs_to_add, removes=specs_to_remove) -> Solver:
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

    fns = list(repodata_fns or getattr(context, "repodata_fns", ()) or ())
    if REPODATA_FN not in fns:
        fns.append(REPODATA_FN)
    args_um = None if args_update_modifier is None else _modifier(args_update_modifier, UPDATE_MODIFIERS, "")
    newenv = command == "create"
    retry_unfrozen = (args_um is None or args_um not in (FREEZE_INSTALLED, UPDATE_SPECS)) and not newenv
    context_um = _modifier(getattr(context, "update_modifier", None), UPDATE_MODIFIERS, UPDATE_SPECS)
    deps_modifier = getattr(context, "deps_modifier", None)
    result: RetryResult | None = None
    for fn in fns:
        last = fn == fns[-1]
        solver = make(fn)
        um = FREEZE_INSTALLED if command == "install" and args_um is None else context_um
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
