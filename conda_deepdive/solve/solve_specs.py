"""Stage 5a: the Solver's first phase — *which specs* go to SAT (``conda.core.solve``:
``SolverStateContainer``, ``_collect_all_metadata``, ``_remove_specs``, ``_add_specs``,
``_find_inconsistent_packages``).

The :class:`SpecCollector` mixin holds these steps for :class:`conda_deepdive.solve.solve.Solver`; the
result is a :class:`SpecsState`, the final spec list with the reason each spec is there.

What to notice: what you typed is a small part of the list. History specs, virtual packages,
``aggressive_update_packages``, pins and the installed packages (frozen, or kept as a *target*)
all join it, and python is held at its installed minor version unless you name it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from conda_deepdive.exceptions import (
    CondaError,
    PackagesNotFoundInPrefixError,
    UnsatisfiableError,
)
from conda_deepdive.models.match_spec import MatchSpec
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["SpecCollector", "SpecsState", "SpecEntry", "get_pinned_specs", "UPDATE_MODIFIERS", "DEPS_MODIFIERS"]

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
    return spec if isinstance(spec, MatchSpec) else MatchSpec(spec)


def _exact_spec(prec: Any) -> Any:
    """The spec that matches only this record (conda's ``PackageRecord.to_match_spec``)."""
    from conda_deepdive.models.match_spec import exact_spec

    return exact_spec(prec)


def _major_minor(version: str) -> str:
    parts = str(version).split(".")
    return ".".join(parts[:2])


def _unmanageable(prec: Any) -> bool:
    ptype = str(getattr(getattr(prec, "package_type", None), "value",
                        getattr(prec, "package_type", None)) or "")
    return ptype in ("virtual_python_egg_unmanageable", "virtual_python_egg_link", "virtual_system")


def _noarch_python(prec: Any) -> bool:
    return str(getattr(getattr(prec, "noarch", None), "value", getattr(prec, "noarch", None))) == "python"


def _vo(version: str) -> Any:
    from conda_deepdive.models import VersionOrder

    return VersionOrder(version)


def get_pinned_specs(prefix: str, context: Any) -> tuple:
    """Pins from ``pinned_packages`` and ``<prefix>/conda-meta/pinned``, all *optional* specs
    (a pin constrains a package only if something brings it in)."""
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
@value_object(frozen=True, repr=False)  # its own __repr__ below
class SpecEntry:
    """One spec of the final list and why it is there."""

    name: str
    spec: str
    reason: str

    def __repr__(self) -> str:
        return f"{self.spec!s:<40} ← {self.reason}"


@value_object(frozen=True, repr=False)  # its own __repr__ below
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


class _State:
    """conda's SolverStateContainer: mutable working state shared by the phases (and kept
    across the frozen → unfrozen retry, exactly as conda keeps ``self.ssc``)."""

    def __init__(self, solver: "Solver", update_modifier: str, deps_modifier: str, prune: bool,
                 ignore_pinned: bool, force_remove: bool, should_retry_solve: bool):
        from conda_deepdive.index.history import History
        from conda_deepdive.index.prefix_data import PrefixData

        self.update_modifier = update_modifier
        self.deps_modifier = deps_modifier
        self.prune = prune
        self.ignore_pinned = ignore_pinned
        self.force_remove = force_remove
        self.should_retry_solve = should_retry_solve
        ctx = solver.context
        # installed records must name their channels as the index does (same channel config),
        # or an installed build would not equal the same build in the index
        self.prefix_data = PrefixData(solver.prefix, getattr(ctx, "channel_config", None))
        self.specs_from_history_map = History(solver.prefix).get_requested_specs_map()
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


class SpecCollector:
    """Phase 1 of :class:`~conda_deepdive.solve.solve.Solver` (mixed into it)."""

    # -- phase: metadata (conda's _collect_all_metadata / _prepare) ------------------------------
    def _prepare(self, prepared_specs: set) -> None:
        if self._r is not None and prepared_specs == self._prepared_specs:
            return
        from conda_deepdive.solve.resolve import MaskedTail, Resolve

        index = self._load_index()
        records = self._name_closure(index, prepared_specs)
        ctx = self.context
        self._r = Resolve(records, channels=self.channels,
                          channel_priority=str(getattr(ctx.channel_priority, "value", ctx.channel_priority)),
                          reporter=self.reporter,
                          unsatisfiable_hints=bool(getattr(ctx, "unsatisfiable_hints", True)),
                          channel_config=getattr(ctx, "channel_config", None))
        # conda's ``{record: record}`` index of these records: Resolve's own (with masked tails
        # unbuilt, it builds a name's tail when asked about one of its records)
        self._index_map = self._r.index
        self._prepared_specs = prepared_specs
        tails = [t for t in records if type(t) is MaskedTail]
        self.reporter.event(STAGE, "index_prepared",
                            records=len(records) - len(tails) + sum(t.count for t in tails),
                            names=len({r.name for r in records}))
        if tails:
            self.reporter.event(STAGE, "masked_tails_deferred", names=len(tails),
                                records=sum(t.count for t in tails))

    def _name_closure(self, index: Any, specs: Iterable[Any]) -> list:
        """Every record reachable *by name* from the specs (conda.core.index.get_reduced_index):
        the solver never looks at packages no spec or dependency can name. Installed records,
        virtual packages and ``feature@`` records are added, as conda does."""
        from conda_deepdive.solve.resolve import MaskedTail

        by_name = index.by_name
        split_off = self._masked_tail_finder(index)
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
        dep_names: dict[str, str] = {}
        while pending or features - seen_features:
            while pending:
                name = pending.pop()
                done.add(name)
                split = split_off(name) if split_off is not None else None
                if split is None:
                    recs, tail_deps = by_name.get(name, ()), ()
                else:
                    recs, tail, tail_deps = split
                for rec in recs:
                    records.append(rec)
                    # conda walks ``combined_depends`` (depends merged per name + constrains);
                    # only the names matter here, and they are those of the two lists
                    for dep in (*rec.depends, *rec.constrains):
                        dname = dep_names.get(dep)
                        if dname is None:
                            dname = dep_names[dep] = _ms(dep).get_raw_value("name") or ""
                        if dname and dname not in done:
                            pending.add(dname)
                    features.update(rec.track_features or ())
                if split is not None:
                    records.append(tail)
                    for dep in tail_deps:  # masked records' dependencies count too (conda has them)
                        dname = dep_names.get(dep)
                        if dname is None:
                            dname = dep_names[dep] = _ms(dep).get_raw_value("name") or ""
                        if dname and dname not in done:
                            pending.add(dname)
            for feature in features - seen_features:
                seen_features.add(feature)
                tracking = getattr(index, "names_tracking", None)
                if tracking is not None:  # an Index answers without building every record
                    pending.update(n for n in tracking(feature) if n not in done)
                    continue
                for rec in index.records:
                    if feature in (rec.track_features or ()) and rec.name not in done:
                        pending.add(rec.name)
        present = {rec for rec in records if type(rec) is not MaskedTail}
        for prec in self._state.prefix_data.iter_records() if self._state else ():
            if prec not in present:
                records.append(prec)
                present.add(prec)
        virtual = list(getattr(index, "virtual_packages", ()) or ())
        records.extend(v for v in virtual if v not in present)
        known_features = set(getattr(self.context, "track_features", ()) or ())
        for rec in records:
            if type(rec) is MaskedTail:  # its records track no features; some may have some
                known_features.update(rec.features)
                continue
            known_features.update(rec.track_features or ())
            known_features.update(getattr(rec, "features", ()) or ())
        names = {r.name for r in records}
        for feature in sorted(known_features):
            if f"{feature}@" not in names:
                records.append(self._feature_record(feature))
        return records

    def _masked_tail_finder(self, index: Any) -> Any:
        """Under strict channel priority: ``name -> None | (head records, MaskedTail, the
        tail's dependency strings)``, splitting off the records that strict priority masks
        (every channel ranked below the best one offering the name) without building them.
        ``None`` for a name that must be built whole; the finder itself is ``None`` when
        nothing can be deferred (other priority modes, an index that cannot say where a name's
        records are, ``CONDA_DEEPDIVE_DEFER_MASKED=0``).

        A name is built whole when its best rank is shared (an unlisted channel has rank 1, like
        the second listed one: then conda's choice depends on set order), when it is installed
        or virtual (those records meet the index's), when a masked record tracks features or
        states a package type (they enter ``trackers`` and the unmanageable check up front), or
        when an entry cannot be read without building it (building then says what is wrong).
        The ``features`` masked records *have* are kept: their ``feature@`` records belong in
        the index whether or not the records are ever built."""
        ctx = self.context
        mode = str(getattr(ctx.channel_priority, "value", ctx.channel_priority))
        sources_of = getattr(getattr(index, "by_name", None), "sources", None)
        if mode != "strict" or sources_of is None:
            return None
        if os.environ.get("CONDA_DEEPDIVE_DEFER_MASKED", "").strip().lower() in ("0", "false", "no"):
            return None
        sds = getattr(index, "subdir_datas", None)
        if sds is not None and len({id(sd.channel) for sd in sds}) < 2:
            return None  # one channel masks nothing
        from conda_deepdive.solve.channel_priority import (
            MAX_CHANNEL_PRIORITY, UNLISTED_RANK, make_channel_priorities)
        from conda_deepdive.solve.resolve import MaskedTail

        ranks = make_channel_priorities(self.channels, getattr(ctx, "channel_config", None))
        rank_counts: dict[int, int] = {}
        for rank in ranks.values():
            rank_counts[rank] = rank_counts.get(rank, 0) + 1
        keep_whole = {p.name for p in self._state.prefix_data.iter_records()} if self._state else set()
        keep_whole.update(v.name for v in getattr(index, "virtual_packages", ()) or ())
        add_pip = bool(getattr(ctx, "add_pip_as_python_dependency", False))
        channel_names: dict[int, str] = {}

        def channel_of(sd: Any) -> str:
            cname = channel_names.get(id(sd))
            if cname is None:
                cname = channel_names[id(sd)] = sd.records_channel().name
            return cname

        def split(name: str) -> tuple | None:
            if name in keep_whole:
                return None
            sources = sources_of(name)
            if len(sources) < 2:
                return None
            named = [(sd, count, channel_of(sd)) for sd, count in sources]
            best = min(ranks.get(cname, UNLISTED_RANK) for _, _, cname in named)
            if best >= MAX_CHANNEL_PRIORITY or rank_counts.get(best) != 1:
                return None
            # rank 1 is also every unlisted channel's: the best only if none of those is here
            if best == UNLISTED_RANK and any(cname not in ranks for _, _, cname in named):
                return None
            top = next(cname for _, _, cname in named if ranks.get(cname, UNLISTED_RANK) == best)
            n_head = 0
            while n_head < len(named) and named[n_head][2] == top:
                n_head += 1
            rest = named[n_head:]
            if not n_head or not rest or any(cname == top for _, _, cname in rest):
                return None
            deps: list = []
            feats: list = []
            for sd, _count, _cname in rest:
                found = sd.masked_dependencies(name)
                if found is None:
                    return None
                deps += found[0]
                feats += found[1]
            if add_pip and name == "python":
                deps.append("pip")
            head = [rec for sd, _count, _cname in named[:n_head] for rec in sd.records_for(name)]
            tail = MaskedTail(name, [sd for sd, _count, _cname in rest], sum(c for _, c, _ in rest),
                              features=feats)
            return head, tail, deps

        return split

    def _feature_record(self, feature: str) -> Any:
        # the pseudo-package ``<feature>@`` that "tracks" a feature; made by Resolve so the records
        # it adds itself while reducing are equal to ours
        from conda_deepdive.solve.resolve import Resolve

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
                      should_retry_solve: bool | None = None) -> SpecsState:
        """Phase 1: build the spec list (conda's SolverStateContainer + ``_remove_specs`` +
        ``_add_specs``). Returns a :class:`SpecsState` saying why each spec is there.

        Calling it again with the same modifiers before :meth:`run_sat` returns the same state
        (so a Session can show this phase, then solve). ``should_retry_solve`` (will conda try
        again if this fails?) defaults to what the first attempt of ``conda.cli.install`` uses:
        true for ``install``/``update``, false for ``create``/``remove``.
        """
        if should_retry_solve is None:
            should_retry_solve = self.command in ("install", "update")
        key = self._normalise(update_modifier, deps_modifier, prune, ignore_pinned, force_remove)
        if self._collected_key == key and self.last_specs_state is not None:
            self._state.should_retry_solve = bool(should_retry_solve)
            return self.last_specs_state
        started = time.perf_counter()
        self.reporter.event(STAGE, "collect_specs_started", update_modifier=key[0],
                            retrying=self._state is not None)
        self._collected_key = None
        state = self._collect(update_modifier, deps_modifier, prune, ignore_pinned, force_remove,
                              bool(should_retry_solve))
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
        from conda_deepdive.models.prefix_graph import PrefixGraph

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

    def _should_freeze(self, ssc: _State, prec: Any, conflict_names: set, explicit_pool: Any) -> bool:
        if not ssc.specs_from_history_map or ssc.update_modifier != FREEZE_INSTALLED:
            return False
        name = prec.name
        if name in conflict_names:
            return False
        pool = explicit_pool()
        return name not in pool or prec in pool[name]

    def _add_specs(self, ssc: _State) -> None:
        r = ssc.r
        # conda reduces the index for the requested specs here, but the answer (which records
        # each requested name could be) is read only for installed packages and pins: it is
        # worked out when first asked for (a whole reduction saved by a plain ``create``). The
        # specs are still checked now, so one that matches nothing fails here, as in conda.
        verify = getattr(r, "verify_specs", None)
        if callable(verify):
            self._resolve_call(verify, tuple(r.parse_spec(s) for s in self.specs_to_add))
        pools: list = []

        def explicit_pool() -> dict:
            if not pools:
                pools.append(self._package_pool(r, self.specs_to_add))
            return pools[0]
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
            if pin.name not in explicit_pool():
                continue
            if pin.name not in self.specs_to_add_names and not ssc.ignore_pinned:
                ssc.set(pin.name, MatchSpec(pin, optional=False), "pinned")
            elif explicit_pool()[pin.name] & self._package_pool(r, [pin]).get(pin.name, set()):
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
                        ssc.set(hname, old.get(hname, MatchSpec(hname)), "pinned (update --all)")
                    else:
                        ssc.set(hname, MatchSpec(hname), "history name, free to update (update --all)")
                for prec in ssc.prefix_data.iter_records():
                    if prec.subdir == "pypi":
                        ssc.set(prec.name, MatchSpec(prec.name), "installed by pip (update --all)")
            else:
                for prec in ssc.prefix_data.iter_records():
                    if prec.name in pinned_names:
                        ssc.set(prec.name, old.get(prec.name, MatchSpec(prec.name)), "pinned (update --all)")
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
        if not callable(getattr(ssc.r, "bad_installed", None)):
            return
        inconsistent = self._bad_installed(ssc)
        if inconsistent:
            # maybe only the installed metadata is stale: retry with the index's records
            ssc.solution_precs = tuple(ssc.index.get(k, k) for k in ssc.solution_precs)
            inconsistent = self._bad_installed(ssc)
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

    def _bad_installed(self, ssc: _State) -> tuple:
        """``Resolve.bad_installed`` on the current solution, with one side effect of conda's
        kept: when python is installed without pip, conda *edits python's record in place* to
        drop the ``pip`` dependency that ``add_pip_as_python_dependency`` injected. If that
        record is the index's own, every later solve sees python without pip."""
        precs = tuple(ssc.solution_precs)
        names = {p.name for p in precs}
        if "python" in names and "pip" not in names:
            py = next(p for p in precs if p.name == "python")
            if "pip" in (py.depends or ()):
                new = py.replace(depends=tuple(d for d in py.depends if d != "pip"))
                precs = tuple(new if p is py else p for p in precs)
                ssc.solution_precs = precs
                if ssc.index.get(py) is py:
                    self._swap_index_record(ssc, py, new)
        _, inconsistent = self._resolve_call(ssc.r.bad_installed, precs, ())
        return tuple(inconsistent or ())

    def _swap_index_record(self, ssc: _State, old: Any, new: Any) -> None:
        from conda_deepdive.solve.resolve import Resolve

        r = ssc.r
        records = [new if rec is old else rec for rec in r.index.values()]
        fresh = Resolve(records, channels=r.channels, channel_priority=r.channel_priority,
                        reporter=r.reporter, unsatisfiable_hints=r.unsatisfiable_hints,
                        channel_config=r.channel_config, _ranks=r._channel_priorities_map)
        # conda mutated the object, so dependency lists Resolve had already cached stay as they were
        fresh.ms_depends_.update(r.ms_depends_)
        # ... and so do the validity verdicts conda memoised on those dependency objects
        fresh._valid_spec_memo.update(r._valid_spec_memo)
        self._index_map = ssc.index = {rec: rec for rec in records}
        self._r = ssc.r = fresh
        self.reporter.event(STAGE, "python_pip_dependency_dropped", record=new.dist_str())
