"""Stage 6 (engine): the classic solver's ``Resolve`` — records in, SAT problem, best solution out.

This is conda's ``conda/resolve.py``. ``Solver`` (``solve.py``, like ``conda/core/solve.py``)
decides *which specs* to solve for; ``Resolve`` decides *which records* satisfy them:

1. **Index** — ``groups`` (records per name, best first by :meth:`Resolve.version_key`) and
   ``trackers`` (records per ``track_features`` entry). Under strict priority, the records a
   better channel masks may arrive unbuilt (:class:`MaskedTail`): they are built only when
   something conda does would read them.
2. **Reduce** — :meth:`get_reduced_index` keeps only what the specs can reach (``reduction.py``).
3. **Clauses** — :meth:`gen_clauses` builds the SAT problem on the reduced index: one variable per
   record, "exactly one record per name, or none", and "a record implies each of its
   dependencies" (a dependency spec becomes a named OR over the records it matches, see
   :meth:`push_MatchSpec`). ``constrains`` arrive as *optional* dependency specs: "if that package
   is installed at all, it must match".
4. **Optimise** — :meth:`solve` asks for any solution, then minimises a list of objectives one
   after the other (lexicographically), each as an :class:`OptimisationPass`:
   removals, requested packages' channel rank and version, track_features count, misfeatures,
   requested build numbers, arch-over-noarch, optional installs, dependency updates, all other
   packages' channel/version/build/noarch, package count, and — only if still ambiguous —
   timestamps.

What to notice: the "preferences" you may know from conda ("newest version", "highest
channel") are nothing but integer weights per record, derived from the sorted order of the
group (:meth:`generate_version_metrics`): the best record weighs 0, the next distinct version 1…
Order matters: the *requested* packages' versions are optimised before dependency versions, and
the channel rank before the version (unless channel priority is disabled).
"""

from __future__ import annotations

import time
from itertools import compress
from collections.abc import Iterable, Mapping

# imported here, not in the methods that use them: an import statement costs ~0.7 µs each time
# it runs, and version_key / ms_depends / parse_spec run thousands of times a solve
from conda_deepdive.models.match_spec import MatchSpec, combined_depends
from conda_deepdive.models.version import VersionOrder
from conda_deepdive.solve.channel_priority import (
    MAX_CHANNEL_PRIORITY,
    UNLISTED_RANK,
    channel_name,
    make_channel_priorities,
    strict_channel_name,
)
from conda_deepdive.reporting import Reporter
from conda_deepdive.solve.resolve_clauses import ClauseBuilding
from conda_deepdive.solve.resolve_details import OptimisationPass, SolveDetails
from conda_deepdive.solve.resolve_install import EnvironmentOps, toposort

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Resolve", "OptimisationPass", "SolveDetails", "toposort"]


def _ptype(prec: Any) -> Any:
    """A record's package type without the cost of the derived property when it is unset."""
    pt = getattr(prec, "_package_type", _UNSET)
    return getattr(prec, "package_type", None) if pt is _UNSET else pt


_UNSET = object()
_NVB = frozenset(("name", "version", "build"))


def _order_free_key(specs: tuple, strict: bool, exit_on_conflict: bool) -> tuple | None:
    """A cache key for a reduction that ignores the order of ``specs``, or None when the order
    could matter: two specs with the same text (a repeated spec, or two that print alike) would
    tie in the exactness sort, and a stable sort would then keep the caller's order.

    Why reusing is safe: ``get_reduced_index`` (with ``sort_by_exactness``) sorts the specs by
    (exactness, text) before anything else, its pruning pass reads no state left by earlier
    reductions, and the ``valid2`` memo it shares with them holds, for every (record,
    dependency) the first computation asked about, the verdict that computation used; a
    second computation asks the same questions and gets the same answers.
    """
    if len({str(s) for s in specs}) != len(specs):
        return None
    return strict, frozenset(specs), bool(exit_on_conflict)


class MaskedTail:
    """The records of one package name that strict channel priority will mask — those of every
    channel ranked below the best channel offering the name — not built yet.

    The name closure (``solve_specs.py``) hands these to :class:`Resolve` in place of the
    records. conda builds them, sorts them and, in the reduction, crosses them out ("removed due
    to strict channel priority") the first time it prunes the name. If nothing looks at them
    before that, nothing ever does: ``Resolve`` builds a tail only when something asks for the
    whole group (``groups[name]``, ``find_matches``, ``index``), and the reduction asks only
    while the name is not yet pruned. Answers are conda's; only the work is saved (most of it
    when many channels repeat the same names).
    """

    __slots__ = ("name", "count", "features", "_sources", "_records")

    def __init__(self, name: str, sources: Iterable[Any], count: int,
                 features: Iterable[str] = ()) -> None:
        self.name = name
        self.count = count  # records in the tail (entries of the repodata files)
        self.features = tuple(dict.fromkeys(features))  # what its records have (not track)
        self._sources = tuple(sources)  # objects with ``records_for(name)`` (SubdirData)
        self._records: tuple | None = None

    @property
    def built(self) -> bool:
        return self._records is not None

    def records(self) -> tuple:
        """The tail's records, built on the first call."""
        if self._records is None:
            out: list = []
            for source in self._sources:
                out.extend(source.records_for(self.name))
            self._records = tuple(out)
        return self._records

    def __repr__(self) -> str:
        state = "built" if self.built else "not built"
        return f"<MaskedTail {self.name}: {self.count} records of lower-ranked channels, {state}>"


class _LazyIndex(Mapping):
    """``Resolve.index`` while masked tails are unbuilt: asking about a record builds the tail
    of that record's name (so ``rec in index`` and ``index[rec]`` answer as the full index
    would); walking it, or asking its length, builds every tail and hands over to the full
    index, in conda's order."""

    def __init__(self, r: "Resolve") -> None:
        self._r = r
        known: dict = {}
        for item in r._given:
            if type(item) is not MaskedTail:
                known[item] = item
        self._known = known  # the records given, plus every tail built so far

    def _add(self, records: Iterable[Any]) -> None:
        for prec in records:
            self._known[prec] = prec

    def _full(self) -> Mapping:
        r = self._r
        r.build_masked()
        return r.index

    def __getitem__(self, key: Any) -> Any:
        known = self._known.get(key, _UNSET)
        if known is not _UNSET:  # a tail's records are another channel's: never equal to these
            return known
        r = self._r
        name = getattr(key, "name", None)
        if type(name) is str and name in r._pending:
            r.groups.get(name)  # builds that name's tail (added to _known)
        return self._known[key]

    def __contains__(self, key: object) -> bool:
        try:
            self[key]
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(self):
        return iter(self._full())

    def __len__(self) -> int:
        return len(self._full())


class _SortedGroups(dict):
    """``{name: [records]}`` whose lists are sorted best-first the first time they are read.

    A name with a :class:`MaskedTail` in ``pending`` gets the tail's records added then."""

    def __init__(self, groups: dict, key, dedupe: bool = False, pending: dict | None = None,
                 on_built: Any = None) -> None:
        super().__init__(groups)
        self._key = key
        self._dedupe = dedupe
        self._done: set[str] = set()
        self._pending = pending if pending is not None else {}
        self._on_built = on_built

    def _sorted(self, name: str) -> list:
        group = dict.__getitem__(self, name)
        if name not in self._done:
            tail = self._pending.pop(name, None)
            if tail is not None:
                group.extend(tail.records())
                if self._on_built is not None:
                    self._on_built(tail)
            if self._dedupe:  # equal records collapse, as in a dict: first place, last object
                group[:] = {p: p for p in group}.values()
            group.sort(key=self._key, reverse=True)
            self._done.add(name)
        return group

    def __getitem__(self, name: str) -> list:
        return self._sorted(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self._sorted(name) if dict.__contains__(self, name) else default

    def values(self):
        return [self._sorted(n) for n in dict.keys(self)]

    def items(self):
        return [(n, self._sorted(n)) for n in dict.keys(self)]


class Resolve(ClauseBuilding, EnvironmentOps):
    """conda's ``Resolve`` over a set of records (see the module docstring).

    ``Resolve(records, channels=(), channel_priority="flexible", reporter=None)``: ``records`` is
    an iterable of ``PackageRecord`` (or conda's ``{record: record}`` index); ``channels`` the
    configured channels in priority order (``Channel`` objects or strings).
    """

    def __init__(
        self,
        records: Any,
        channels: Iterable[Any] = (),
        channel_priority: str = "flexible",
        reporter: Reporter | None = None,
        *,
        solver_ignore_timestamps: bool = False,
        unsatisfiable_hints: bool = True,
        unsatisfiable_hints_check_depth: int = 2,
        channel_config: Any = None,
        _ranks: Mapping[str, int] | None = None,
        _parent: "Resolve | None" = None,
    ) -> None:
        # conda's index is a dict: equal records (same channel, subdir, name, version, build
        # number and build) collapse into one entry, the last one given winning. Hashing 40k
        # records costs time, so for a plain list we collapse per name, when a name is first
        # read, and build the dict only if someone asks for ``index``.
        if isinstance(records, Mapping):
            self._index: Mapping | None = records
            given = list(records.values())
        else:
            self._index = None
            given = list(records)
            if any(type(p) is MaskedTail for p in given):  # a tail needs its head (or is built)
                heads = {p.name for p in given if type(p) is not MaskedTail}
                given = [x for p in given
                         for x in ((p,) if type(p) is not MaskedTail or p.name in heads else p.records())]
        self._given = given
        # names whose masked records are not built yet (MaskedTail); see MaskedTail
        self._pending: dict[str, MaskedTail] = {}
        self._heads: dict[str, list] = {}  # name -> its best channel's records, sorted
        self._head_matches: dict[Any, tuple] = {}
        self._head_runs: dict[str, list] = {}
        self._lazy_index: _LazyIndex | None = None
        self._records_cache: list | None = None
        self.channels = tuple(channels)
        self.channel_priority = str(getattr(channel_priority, "value", channel_priority))
        self.reporter = reporter or Reporter()
        self.solver_ignore_timestamps = solver_ignore_timestamps
        self.unsatisfiable_hints = unsatisfiable_hints
        self.unsatisfiable_hints_check_depth = unsatisfiable_hints_check_depth
        self.channel_config = channel_config
        if _ranks is not None:
            self._channel_priorities_map = dict(_ranks)
        else:
            self._channel_priorities_map = (
                make_channel_priorities(self.channels, channel_config) if self.channels else {}
            )

        from conda_deepdive.models.enums import PackageType

        unmanageable = PackageType.unmanageable_package_types()
        groups: dict[str, list] = {}
        special: set[str] = set()  # names with an unmanageable (e.g. virtual) record
        for prec in given:
            if type(prec) is MaskedTail:
                if self._index is not None:
                    raise TypeError("a MaskedTail can only stand in a list of records")
                self._pending[prec.name] = prec
                continue
            group = groups.get(prec.name)
            if group is None:
                groups[prec.name] = [prec]
            else:
                group.append(prec)
            # the stated package type is enough: derived types (noarch) are never unmanageable
            pt = getattr(prec, "_package_type", _UNSET)
            if pt is _UNSET:
                pt = getattr(prec, "package_type", None)
            if pt in unmanageable:
                special.add(prec.name)
        trackers: dict[str, list] = {}
        for name, group in groups.items():
            if name in special:  # an unmanageable package can only stay as it is
                groups[name] = group = [p for p in group if _ptype(p) in unmanageable]
            for prec in group:
                for feat in prec.track_features or ():
                    trackers.setdefault(feat, []).append(prec)
        if self._index is None:
            trackers = {f: list({p: p for p in lst}.values()) for f, lst in trackers.items()}
        # caches shared with the parent Resolve (the one over the full index), if any
        self._parent = _parent
        self._vkey_cache: dict[Any, tuple] = _parent._vkey_cache if _parent else {}
        self._deps_cache: dict[tuple, list] = _parent._deps_cache if _parent else {}
        self._required_cache: dict[int, tuple] = _parent._required_cache if _parent else {}
        # sorted best-first by version_key on first access of each name (same result as
        # conda's sorting of every group up front, without paying for names never reached)
        self.groups = _SortedGroups(groups, self.version_key, dedupe=self._index is None,
                                    pending=self._pending, on_built=self._tail_built)
        self.trackers = trackers
        self._system_precs = {
            p for name in special for p in self.groups[name] if str(_ptype(p)) == "virtual_system"
        }
        self._cached_find_matches: dict[Any, tuple] = {}
        self._group_sets: dict[str, set] = {}  # name -> set(group), for sub-index matching
        self._runs_cache: dict[str, list] = {}  # name -> runs of equal versions (find_matches)
        self.ms_depends_: dict[Any, list] = {}
        self.required_by_record: dict[Any, tuple] = {}  # record -> required_deps(record)
        self._reduced_index_cache: dict[Any, Any] = {}
        self._reduced_by_spec_set: dict[Any, Any] = {}
        self._conflicts_memo: dict[frozenset, bool] = {}  # spec set -> satisfiable (conflicts)
        self._clause_templates: dict[int, tuple] = {}  # id(ReducedIndex) -> (it, Clauses)
        self._strict_channel_cache: dict[str, str | None] = {}
        self._strict_split_cache: dict[str, int | None] = {}
        self._rank_counts: dict[int, int] | None = None
        self._valid_spec_memo: dict[Any, bool] = {}
        self._sat_name_cache: dict[Any, str] = {}
        self._feature_records: dict[str, Any] = {}
        self.last_solve: SolveDetails | None = None

    @property
    def index(self) -> Mapping:
        """conda's ``{record: record}`` index (while masked tails are unbuilt, a mapping that
        builds a name's tail when asked about that name, and every tail when walked)."""
        if self._index is None:
            if self._pending:
                if self._lazy_index is None:
                    self._lazy_index = _LazyIndex(self)
                return self._lazy_index
            index: dict = {}
            for item in self._given:
                if type(item) is MaskedTail:
                    for prec in item.records():
                        index[prec] = prec
                else:
                    index[item] = item
            self._index = index
        return self._index

    # ------------------------------------------------------------- masked tails (strict)
    def _tail_built(self, tail: MaskedTail) -> None:
        if self._lazy_index is not None:
            self._lazy_index._add(tail.records())

    def build_masked(self) -> None:
        """Build every masked tail still pending (what walking the whole index needs)."""
        for name in list(self._pending):
            self.groups.get(name)

    def has_pending(self, name: str | None = None) -> bool:
        """Is ``name``'s masked tail still unbuilt (any name's, without one)?"""
        return bool(self._pending) if name is None else name in self._pending

    def head_group(self, name: str) -> list | None:
        """The records of ``name``'s best-ranked channel, sorted best-first: the front of its
        group, known without building its :class:`MaskedTail`. ``None`` for a name that never
        had a tail pending when first asked."""
        head = self._heads.get(name)
        if head is None:
            if name not in self._pending:
                return None
            group = dict.__getitem__(self.groups, name)  # not sorted yet: the tail is not in it
            if self.groups._dedupe:
                group = list({p: p for p in group}.values())
            head = self._heads[name] = sorted(group, key=self.version_key, reverse=True)
        return head

    def group_size(self, name: str) -> int:
        """How many records ``name`` has (counting an unbuilt tail's entries, building nothing)."""
        tail = self._pending.get(name)
        if tail is not None:
            return len(self.head_group(name)) + tail.count
        return len(self.groups.get(name, ()))

    def head_matches(self, spec: Any) -> tuple:
        """``find_matches`` over :meth:`head_group` only (the front of the full answer)."""
        res = self._head_matches.get(spec)
        if res is None:
            name = spec.get_exact_value("name")
            res = self._match_group(spec, name, self.head_group(name) or (), self._head_runs)
            self._head_matches[spec] = res
        return res

    def live_matches(self, spec: Any, masked: set) -> Any:
        """The reduction's ``find_matches``: for a name whose unbuilt tail it has crossed out
        (``masked``), only the best channel's matches (every other match is out); for a name
        with a tail still pending, those first and the rest only if the caller reads on."""
        name = spec.get_exact_value("name")
        if name is not None:
            if name in masked:
                return self.head_matches(spec)
            if name in self._pending:
                return self._head_then_rest(spec)
        return self.find_matches(spec)

    def has_match(self, spec: Any) -> bool:
        """``bool(find_matches(spec))``, building a masked tail only if its head matches nothing."""
        for _ in self.live_matches(self.parse_spec(spec), ()):
            return True
        return False

    def _head_then_rest(self, spec: Any):
        head = self.head_matches(spec)
        yield from head
        yield from self.find_matches(spec)[len(head):]  # builds the tail

    @property
    def _records(self) -> list:
        """The distinct records, in index order."""
        if self._records_cache is None:
            self._records_cache = list(self.index.values())
        return self._records_cache

    def __repr__(self) -> str:
        return (
            f"<Resolve {len(self._records)} records, {len(self.groups)} names, "
            f"channel_priority={self.channel_priority}>"
        )

    def _derive(self, index: Any) -> "Resolve":
        """A Resolve over ``index`` with the same settings (conda: ``Resolve(reduced, True, channels)``)."""
        return Resolve(
            index,
            self.channels,
            self.channel_priority,
            self.reporter,
            solver_ignore_timestamps=self.solver_ignore_timestamps,
            unsatisfiable_hints=self.unsatisfiable_hints,
            unsatisfiable_hints_check_depth=self.unsatisfiable_hints_check_depth,
            channel_config=self.channel_config,
            _ranks=self._channel_priorities_map,
            _parent=self,
        )

    # ----------------------------------------------------------------------- small helpers
    @staticmethod
    def parse_spec(spec: Any):
        """A ``MatchSpec`` from a string or MatchSpec (strings are parsed once and interned)."""
        return spec if isinstance(spec, MatchSpec) else MatchSpec(spec)

    @staticmethod
    def channel_of(prec: Any) -> str:
        return channel_name(prec)

    @staticmethod
    def is_track_features_spec(ms: Any) -> bool:
        return "track_features" in ms

    def feature_record(self, feature: str):
        """conda's ``make_feature_record``: the pseudo-package ``<feature>@`` tracking a feature."""
        rec = self._feature_records.get(feature)
        if rec is None:
            from conda_deepdive.models.records import PackageRecord

            rec = PackageRecord(
                name=f"{feature}@",
                version="0",
                build="0",
                build_number=0,
                channel="@",
                subdir="noarch",
                fn=f"{feature}@-0-0.tar.bz2",
                track_features=(feature,),
            )
            self._feature_records[feature] = rec
        return rec

    @staticmethod
    def _make_channel_priorities(channels: Iterable[Any]) -> dict[str, int]:
        return make_channel_priorities(channels)

    def version_key(self, prec: Any, vtype: Any = None) -> tuple:
        """How good a record is within its name; larger is better (conda's ``version_key``).

        ``(valid, -channel rank, version, build_number, -noarch, timestamp, build)``; with
        ``channel_priority: disabled`` the version comes before the channel rank.
        """
        key = self._vkey_cache.get(prec)
        if key is not None:
            return key
        rank = self._channel_priorities_map.get(self.channel_of(prec), UNLISTED_RANK)
        valid = 1 if rank < MAX_CHANNEL_PRIORITY else 0
        version = VersionOrder(prec.version or "")
        build_number = prec.build_number or 0
        noarch = -int(prec.subdir == "noarch")
        if self.channel_priority != "disabled":
            head: tuple = (valid, -rank, version, build_number, noarch)
        else:
            head = (valid, version, -rank, build_number, noarch)
        if self.solver_ignore_timestamps:
            key = head + (prec.build,)
        else:
            key = head + (getattr(prec, "timestamp", 0) or 0, prec.build)
        self._vkey_cache[prec] = key
        return key

    def to_sat_name(self, val: Any) -> str:
        """A record's variable name is its dist string; a spec's is ``@s@<spec>`` (``?`` if optional)."""
        name = self._sat_name_cache.get(val)
        if name is None:
            if hasattr(val, "dist_str") and hasattr(val, "build_number"):
                name = val.dist_str()
            else:
                name = "@s@" + str(val) + ("?" if val.optional else "")
            self._sat_name_cache[val] = name
        return name

    @staticmethod
    def to_feature_metric_id(prec_dist_str: str, feat: str) -> str:
        return f"@fm@{prec_dist_str}@{feat}"

    # -------------------------------------------------------------------- matching records
    def find_matches(self, spec: Any) -> tuple:
        """Records matching ``spec`` (cached per spec; name-only specs are the whole group)."""
        res = self._cached_find_matches.get(spec)
        if res is not None:
            return res
        spec = self.parse_spec(spec)
        name = spec.get_exact_value("name")
        if name:
            candidates = self.groups.get(name, ())
            parent = self._parent
            if not spec._is_single() and parent is not None and spec in parent._cached_find_matches:
                # a sub-index: filter the parent's answer instead of matching again (same order,
                # since both groups are sorted by the same key)
                mine = self._group_sets.get(name)
                if mine is None:
                    mine = self._group_sets[name] = set(candidates)
                res = tuple(p for p in parent._cached_find_matches[spec] if p in mine)
            else:
                res = self._match_group(spec, name, candidates, self._runs_cache)
        elif spec.get_exact_value("track_features"):
            feats = spec.get_exact_value("track_features")
            res = tuple(p for f in feats for p in self.trackers.get(f, ()) if spec.match(p))
        else:
            res = tuple(p for p in self._records if spec.match(p))
        self._cached_find_matches[spec] = res
        return res

    def _match_group(self, spec: Any, name: str, candidates: Any, runs_cache: dict) -> tuple:
        """The records of ``candidates`` (one name's group, sorted) that ``spec`` matches."""
        if spec._is_single():
            return tuple(candidates)
        comps = getattr(spec, "_match_components", None)
        if comps is not None and "version" in comps and set(comps) <= _NVB:
            # name + version (+ build): most dependency specs. Many builds share a version
            # string, so decide the version once per string; the build is a cheap test.
            # a group is sorted by channel, then version: builds of one version sit side by
            # side, in runs. Decide each distinct version once, then visit only the runs of
            # the versions that match (a group of four channels has four times the runs). The
            # verdicts are kept per version spec (interned): builds pinned exactly (numpy's
            # ``numpy-base 1.15.2 py37h8a80b8c_1``, one per numpy build) share them.
            vspec = comps["version"]
            run_versions, run_bounds, distinct, by_vspec = self._version_runs(name, candidates, runs_cache)
            flags = by_vspec.get(vspec)
            if flags is None:
                vmatch = vspec.match
                verdict = {v: bool(vmatch(v)) for v in distinct}
                flags = by_vspec[vspec] = list(map(verdict.__getitem__, run_versions))
            matching = compress(run_bounds, flags)
            out = []
            if "build" in comps:  # then each build of a matching version (py36_0, …)
                exact = getattr(comps["build"], "exact_value", None)
                if type(exact) is str:  # no glob, no regex: the build string itself
                    for start, stop in matching:
                        out += [p for p in candidates[start:stop] if p.build == exact]
                    return tuple(out)
                bmatch = comps["build"].match
                bverdicts: dict[str, bool] = {}
                for start, stop in matching:
                    for i in range(start, stop):
                        p = candidates[i]
                        ok = bverdicts.get(p.build)
                        if ok is None:
                            ok = bverdicts[p.build] = bool(bmatch(p.build))
                        if ok:
                            out.append(p)
            else:
                for start, stop in matching:
                    out += candidates[start:stop]
            return tuple(out)
        return tuple(p for p in candidates if spec.match(p))

    def _version_runs(self, name: str, group: list, runs_cache: dict | None = None) -> tuple:
        """``([version of each run], [(start, stop) of each run], [distinct versions],
        {version spec: [does it match each run]})``: the runs of equal version strings in a
        sorted group (the last part is filled by ``_match_group``)."""
        if runs_cache is None:
            runs_cache = self._runs_cache
        runs = runs_cache.get(name)
        if runs is None:
            versions, bounds = [], []
            prev, start = None, 0
            for i, version in enumerate([p.version for p in group]):
                if version != prev:
                    if i:
                        versions.append(prev)
                        bounds.append((start, i))
                    prev, start = version, i
            if group:
                versions.append(prev)
                bounds.append((start, len(group)))
            runs = runs_cache[name] = (versions, bounds, list(dict.fromkeys(versions)), {})
        return runs

    def match_any(self, mss: Iterable[Any], prec: Any) -> bool:
        return any(ms.match(prec) for ms in mss)

    def ms_depends(self, prec: Any) -> list:
        """The record's dependencies as MatchSpecs: depends + constrains (optional) + features."""
        deps = self.ms_depends_.get(prec)
        if deps is None:
            # many builds share the very same metadata: parse each distinct one once
            key = (prec.depends, prec.constrains, prec.features)
            deps = self._deps_cache.get(key)
            if deps is None:
                deps = [self.parse_spec(d) for d in combined_depends(prec)]
                deps.extend(MatchSpec(track_features=feat) for feat in prec.features or ())
                self._deps_cache[key] = deps
            self.ms_depends_[prec] = deps
        return deps

    def required_deps(self, prec: Any) -> tuple:
        """``((spec, name), ...)`` for the non-optional dependencies (a hot path of reduction:
        the answer is kept per record in ``required_by_record`` for direct lookups)."""
        found = self.required_by_record.get(prec)
        if found is not None:
            return found
        deps = self.ms_depends(prec)
        entry = self._required_cache.get(id(deps))
        if entry is None or entry[0] is not deps:
            entry = (deps, tuple((ms, ms.name) for ms in deps if not ms.optional))
            self._required_cache[id(deps)] = entry
        self.required_by_record[prec] = entry[1]
        return entry[1]

    @staticmethod
    def features(prec: Any) -> set[str]:
        """The features a record *has* (``features``, the counterpart of ``track_features``)."""
        return set(prec.features or ())

    def get_pkgs(self, ms: Any, emptyok: bool = False) -> list:
        precs = self.find_matches(self.parse_spec(ms))
        if not precs and not emptyok:
            from conda_deepdive.solve.resolve_conflicts import resolve_package_not_found

            raise resolve_package_not_found([(self.parse_spec(ms),)])
        return sorted(precs, key=self.version_key)

    # --------------------------------------------------------------- validity and filtering
    def default_filter(self, features: Iterable[str] | None = None, filter: dict | None = None) -> dict:
        """``{feature record: allowed}``: every tracked feature off, except the requested ones."""
        if filter is None:
            filter = {}
        else:
            filter.clear()
        filter.update({self.feature_record(f): False for f in self.trackers})
        for f in features or ():
            filter[self.feature_record(f)] = True
        return filter

    def valid(self, spec_or_prec: Any, filter: dict, optional: bool = True) -> bool:
        """Can this spec/record have all its dependencies met (cycles count as met)?"""
        def v_ms(ms):
            return (optional and ms.optional) or any(v_prec(p) for p in self.find_matches(ms))

        def v_prec(prec):
            val = filter.get(prec)
            if val is None:
                filter[prec] = True  # optimistic while we look (cycles)
                val = filter[prec] = all(v_ms(ms) for ms in self.ms_depends(prec))
            return val

        return v_ms(spec_or_prec) if isinstance(spec_or_prec, MatchSpec) else v_prec(spec_or_prec)

    def valid2(self, spec_or_prec: Any, filter_out: dict, optional: bool = True) -> bool:
        """Like :meth:`valid` but over ``filter_out`` (record -> False or the reason it is out).

        A quirk of conda kept on purpose: conda memoises "does this dependency have a valid
        candidate?" *on the dependency's MatchSpec object* (auxlib's ``memoizemethod`` stores the
        answer on its first argument), and each record has its own dependency objects for the
        life of the Resolve. The verdict is therefore remembered per (record, dependency) across
        every later reduction on this Resolve, even when ``filter_out`` differs: a dependency
        found dead while solving with a history spec (``python=3.6``) stays dead in the final
        solve with a name-only ``python``. We key the memo the same way — by the record and the
        dependency's position — never by the spec's text (equal specs of different records get
        separate verdicts, as in conda).
        """
        if not isinstance(spec_or_prec, MatchSpec):  # the common case: a record already judged
            val = filter_out.get(spec_or_prec)
            if val is not None:
                return not val
            return self.judge(filter_out, optional)[1](spec_or_prec)
        return self.judge(filter_out, optional)[0](spec_or_prec)

    def judge(self, filter_out: dict, optional: bool = True) -> tuple:
        """``(spec_ok, prec_ok)``: :meth:`valid2` for a spec and for a record, over ``filter_out``.

        The reduction judges thousands of records against one ``filter_out``: it takes these
        once instead of calling ``valid2`` for each. The loops are conda's ``all``/``any``
        written out (same order, same short cuts, same memo entries): only calls are saved.
        """
        memo = self._valid_spec_memo
        memo_get = memo.get
        judged = filter_out.get
        ms_depends = self.ms_depends
        masked = getattr(filter_out, "masked", None)  # a reduction's: names whose tail is out
        if masked is None:
            find_matches = self.find_matches
        else:  # live_matches is find_matches once nothing of the name is left unbuilt
            def find_matches(ms, _live=self.live_matches):
                return _live(ms, masked)

        # The candidate that last made a spec true. The candidates before it were all judged
        # out then, for good (an "out" verdict never changes, and this filter's masked names
        # are settled before the reduction judges anything). While it still counts as valid
        # (for good, or optimistically while it is being looked at), conda's scan would stop
        # at it again: the answer is True, with nothing new written.
        witness: dict = {}

        def spec_ok(ms) -> bool:
            if optional and ms.optional:
                return True
            w = witness.get(ms)
            if w is not None and judged(w) is False:
                return True
            for p in find_matches(ms):
                val = judged(p)
                if val is None:
                    if prec_ok(p):
                        witness[ms] = p
                        return True
                elif not val:
                    witness[ms] = p
                    return True
            return False

        def prec_ok(prec) -> bool:
            val = judged(prec)
            if val is not None:
                return not val
            filter_out[prec] = False  # optimistic while we look (cycles)
            ok = True
            for i, ms in enumerate(ms_depends(prec)):
                key = (prec, i)
                val = memo_get(key)
                if val is None:
                    val = memo[key] = spec_ok(ms)
                if not val:
                    ok = False
                    break
            filter_out[prec] = False if ok else "invalid depends specs"
            return ok

        return spec_ok, prec_ok

    def invalid_chains(self, spec: Any, filter: dict, optional: bool = True):
        """Chains ``(requested spec, dep, dep…)`` ending at something that cannot be satisfied."""
        def chains(ms, names):
            if ms.name in names:
                return
            names.add(ms.name)
            if self.valid(ms, filter, optional):
                return
            found = False
            conflict_deps = set()
            for prec in self.find_matches(ms):
                for m2 in self.ms_depends(prec):
                    for x in chains(m2, names):
                        found = True
                        yield (ms,) + x
                    else:
                        conflict_deps.add(m2)
            if not found:
                by_name: dict[str, list] = {}
                for d in conflict_deps:
                    by_name.setdefault(d.name, []).append(d)
                for group in by_name.values():
                    yield (ms,) + MatchSpec.union(group)

        return chains(spec, set())

    def verify_specs(self, specs: Iterable[Any]) -> tuple[tuple, set]:
        """Split off ``track_features`` specs; raise ResolvePackageNotFound for specs matching nothing."""
        non_tf = []
        features: set[str] = set()
        for ms in specs:
            feats = ms.get_exact_value("track_features")
            if feats:
                features.update(feats)
            else:
                non_tf.append(ms)
        bad = [(ms,) for ms in non_tf if not ms.optional and not self.has_match(ms)]
        if bad:
            from conda_deepdive.solve.resolve_conflicts import resolve_package_not_found

            raise resolve_package_not_found(bad)
        return tuple(non_tf), features

    def _get_strict_channel(self, package_name: str) -> str | None:
        try:
            return self._strict_channel_cache[package_name]
        except KeyError:
            result = None
            if package_name in self.groups:
                if self.strict_split(package_name) is not None:  # the first record's channel
                    front = self.head_group(package_name) or self.groups[package_name]
                    result = self.channel_of(front[0])
                else:
                    result = strict_channel_name(self.groups[package_name], self._channel_priorities_map)
                self._strict_channel_cache[package_name] = result
            return result

    def strict_split(self, name: str) -> int | None:
        """How many records at the front of ``name``'s sorted group are the strict channel's —
        all of its records, the rest being masked — or None when that cannot be read off the order.

        A group is sorted best-first by :meth:`version_key`, which (unless priority is disabled)
        starts with the channel rank: the best-ranked channel's records come first, and a binary
        search finds where they end without looking at the masked ones. When that rank is shared
        by another channel (an unlisted channel has rank 1, like the second listed one), the
        front could mix channels, and the caller must look at every record.
        """
        split = self._strict_split_cache.get(name, _UNSET)
        if split is not _UNSET:
            return split
        head = self.head_group(name)
        if head is not None:
            # a tail's channels are all listed (the closure made sure): rank 1 is no tie here
            split = self._best_front(head, listed=True)
            if split == len(head):  # the tail's channels all rank below: the head is the front
                self._strict_split_cache[name] = split
                return split
        split = self._best_front(self.groups.get(name))
        self._strict_split_cache[name] = split
        return split

    def _best_front(self, group: Any, listed: bool = False) -> int | None:
        split = None
        if group and self.channel_priority != "disabled":
            if self._rank_counts is None:
                counts: dict[int, int] = {}
                for rank in self._channel_priorities_map.values():
                    counts[rank] = counts.get(rank, 0) + 1
                self._rank_counts = counts
            key = self.version_key
            first = key(group[0])
            rank = -first[1]
            sure = rank != UNLISTED_RANK or (
                listed and self.channel_of(group[0]) in self._channel_priorities_map)
            if first[0] == 1 and sure and self._rank_counts.get(rank, 0) == 1:
                lo, hi = 1, len(group)
                while lo < hi:  # the last record of that rank
                    mid = (lo + hi) // 2
                    if key(group[mid])[1] == first[1]:
                        lo = mid + 1
                    else:
                        hi = mid
                split = lo
        return split

    def find_matches_with_strict(self, ms: Any, strict_channel_priority: bool) -> tuple:
        matches = self.find_matches(ms)
        if not strict_channel_priority:
            return matches
        keep = self._get_strict_channel(ms.name)
        return tuple(p for p in matches if self.channel_of(p) == keep)

    def _report_reuse(self, specs: tuple, reduced: Any) -> None:
        # The order the specs come in is often a set's iteration order, which changes with
        # PYTHONHASHSEED; and whether it equals the first call's order (conda's own cache hit) or
        # not (our order-free reuse) changes with it too. So both hits report the same event, with
        # the specs sorted: a trace of the same command is the same under any hash seed.
        self.reporter.event("reduce", "reduced_index_reused", specs=sorted(str(s) for s in specs),
                            records=len(reduced), same_as=[str(s) for s in reduced.specs])

    def get_reduced_index(self, explicit_specs, sort_by_exactness: bool = True, exit_on_conflict: bool = False):
        """The :class:`~conda_deepdive.solve.reduction.ReducedIndex` for these specs (cached)."""
        from conda_deepdive.solve.reduction import get_reduced_index

        specs = tuple(self.parse_spec(s) for s in explicit_specs)
        strict = self.channel_priority == "strict"
        key = (strict, specs)  # conda's key: the specs *in the order given*
        cached = self._reduced_index_cache.get(key)
        if cached is not None:
            self._report_reuse(specs, cached)
            return cached
        # conda's callers often pass the same specs in another order (a set's iteration order),
        # which misses its cache and reduces again. With ``sort_by_exactness`` the reduction sorts
        # the specs first, so the order given cannot change the answer: reuse it (and say so).
        set_key = _order_free_key(specs, strict, exit_on_conflict) if sort_by_exactness else None
        reduced = self._reduced_by_spec_set.get(set_key) if set_key is not None else None
        if reduced is not None:
            self._reduced_index_cache[key] = reduced
            self._report_reuse(specs, reduced)
            return reduced
        reduced = get_reduced_index(self, specs, sort_by_exactness, exit_on_conflict)
        self._reduced_index_cache[key] = reduced
        if set_key is not None:
            self._reduced_by_spec_set[set_key] = reduced
        if reduced.strict:
            masked = {
                name: why["removed due to strict channel priority"]
                for name, why in reduced.reasons.items()
                if "removed due to strict channel priority" in why
            }
            if masked:
                self.reporter.event("priority", "strict_filter", masked=masked)
        self.reporter.event(
            "reduce",
            "reduced_index",
            specs=[str(s) for s in specs],
            records=len(reduced),
            names=len(reduced.after),
            records_before=reduced.total_before,
            reduce_seconds=reduced.seconds,
        )
        return reduced

    def priority_report(self):
        """The :class:`~conda_deepdive.solve.channel_priority.PriorityReport` of this index."""
        from conda_deepdive.solve.channel_priority import apply_channel_priority

        return apply_channel_priority(
            self._records, self.channels, self.channel_priority, self.channel_config, self.reporter
        )

    def _get_package_pool(self, specs: Iterable[Any]) -> dict[str, set]:
        pool: dict[str, set] = {}
        for prec in self.get_reduced_index(tuple(specs)):
            pool.setdefault(prec.name, set()).add(prec)
        return pool

    # --------------------------------------------------------------------------- solving
    def solve(
        self,
        specs,
        returnall: bool = False,
        _remove: bool = False,
        specs_to_add=None,
        history_specs=None,
        should_retry_solve: bool = False,
    ) -> list:
        """The final set of records for ``specs``, sorted by name (see the module docstring).

        Raises ResolvePackageNotFound (a spec matches nothing) or UnsatisfiableError.
        ``self.last_solve`` keeps a :class:`SolveDetails` of the run.
        """
        from conda_deepdive.exceptions import UnsatisfiableError

        t_start = time.perf_counter()
        specs = [self.parse_spec(s) for s in specs]
        specs = list(dict.fromkeys(specs))  # conda uses a set; keep the order readable
        len0 = len(specs)
        details = self.last_solve = SolveDetails(tuple(specs))
        reporter = self.reporter
        if not specs:
            return []
        reporter.event("solve", "solve_started", specs=[str(s) for s in specs])

        t0 = time.perf_counter()
        reduced_index = self.get_reduced_index(specs, exit_on_conflict=not self.unsatisfiable_hints)
        details.reduced_index = reduced_index
        details.reduce_seconds = time.perf_counter() - t0
        if not reduced_index:
            # something is intrinsically unsatisfiable: not found, or not the right version
            not_found, wrong_version = [], []
            for s in specs:
                if not self.find_matches(s):
                    (wrong_version if s.name in self.groups else not_found).append(s)
            # (the conflict reports' module is imported only when there is one to report)
            from conda_deepdive.solve.resolve_conflicts import resolve_package_not_found, unsatisfiable_error

            if not_found:
                raise resolve_package_not_found([(s,) for s in not_found])
            if wrong_version:
                raise unsatisfiable_error([[d] for d in wrong_version], chains=False)
            if should_retry_solve:
                raise UnsatisfiableError("")  # the caller retries before explaining
            self.find_conflicts(specs, specs_to_add, history_specs)

        t0 = time.perf_counter()
        r2 = self._derive(reduced_index)
        C = r2.gen_clauses()
        details.gen_clauses_seconds = time.perf_counter() - t0
        details.stats = C.stats

        def mysat(sp, add_if=False):
            return C.sat(r2.generate_spec_constraints(C, sp), add_if)

        def clean(sol):
            return [q for q in (C.from_index(s) for s in sol) if q and q[0] != "!" and "@" not in q]

        # conda iterates a set here (its order changes with the hash seed); ours is the order
        # get_conflicting_specs uses for the same question, so the same problem is not solved twice
        solution = mysat(sorted(specs, key=self.to_sat_name), True)
        details.variables, details.clauses = C.m, C.get_clause_count()
        reporter.event("solve", "clauses", variables=C.m, clauses=C.get_clause_count(), satisfiable=bool(solution))
        if not solution:
            if should_retry_solve:
                raise UnsatisfiableError("")
            self.find_conflicts(specs, specs_to_add, history_specs)

        speco: list = []  # optional specs that match something
        specr: list = []  # requested specs
        speca: list = []  # everything else
        specm = dict.fromkeys(r2.groups)  # names not mentioned by any spec
        for k, s in enumerate(specs):
            specm.pop(s.name, None)
            if not s.optional:
                (speca if s.target or k >= len0 else specr).append(s)
            elif any(r2.find_matches(s)):
                s = MatchSpec(s.name, optional=True, target=s.target)
                speco.append(s)
                speca.append(s)
        speca.extend(MatchSpec(s) for s in specm)

        def run_pass(name, make_objective, trymax=False):
            nonlocal solution
            g0 = time.perf_counter()
            calls0 = len(C.stats)
            objective = make_objective()
            generate = time.perf_counter() - g0
            solution, bound = C.minimize(objective, solution, trymax=trymax, label=name)
            info = C.last_minimization
            p = OptimisationPass(
                name=name,
                objective_size=info.objective_size,
                bound=bound,
                clauses_added=info.clauses_added,
                variables_added=info.variables_added,
                sat_calls=len(C.stats) - calls0,
                generate_seconds=generate,
                minimize_seconds=info.seconds,
            )
            details.passes.append(p)
            reporter.event("solve", "optimisation_pass", **p.summary())
            return bound

        if _remove:
            run_pass("removal_count", lambda: r2.generate_removal_count(C, speco))
        req = r2.generate_version_metrics(C, specr)
        run_pass("requested_channel", lambda: req[0])
        run_pass("requested_version", lambda: req[1])
        run_pass("track_feature_count", lambda: r2.generate_feature_count(C))
        run_pass("feature_metric", lambda: r2.generate_feature_metric(C))
        run_pass("requested_build_number", lambda: req[2])
        run_pass("requested_noarch", lambda: req[3])
        if not _remove:
            run_pass("optional_install_count", lambda: r2.generate_install_count(C, speco))
        run_pass("update_count", lambda: r2.generate_update_count(C, speca))
        dep = r2.generate_version_metrics(C, speca)
        run_pass("dependency_channel", lambda: dep[0])
        run_pass("dependency_version", lambda: dep[1])
        run_pass("dependency_build_number", lambda: dep[2])
        run_pass("dependency_noarch", lambda: dep[3])
        run_pass("package_count", lambda: r2.generate_package_count(C, specm), trymax=True)

        # converged = no other solution exists once the current one is excluded
        psolution = clean(solution)
        nclause = tuple(C.Not(C.from_name(q)) for q in psolution)
        details.converged = C.sat((nclause,), includeIf=False) is None
        if not details.converged:
            run_pass("timestamp", lambda: {**dep[4], **req[4]})

        # conda then enumerates up to 10 alternative solutions to warn about ambiguity
        psolutions = [clean(solution)]
        nsol = 1
        # If the convergence check just proved the solution unique, conda's first probe below
        # would repeat that very question on the very same clauses (same answer: UNSAT). We skip
        # that one redundant pycosat call; everything else is conda's sequence of calls.
        while not details.converged:
            nclause = tuple(C.Not(C.from_name(q)) for q in psolutions[-1])
            alt = C.sat((nclause,), True)
            if alt is None:
                break
            nsol += 1
            if nsol > 10:
                break
            psolutions.append(clean(alt))
        details.solutions_found = nsol
        if nsol > 1:
            common = set.intersection(*map(set, psolutions))
            diffs = [sorted(set(s) - common) for s in psolutions]
            reporter.warning(
                "solve",
                f"{'>10' if nsol > 10 else nsol} possible package resolutions "
                f"(only showing differing packages): {diffs}",
            )

        by_sat_name = {r2.to_sat_name(p): p for p in r2._records}
        result = sorted((by_sat_name[n] for n in psolutions[0]), key=lambda p: p.name)
        details.result = tuple(result)
        details.final_variables, details.final_clauses = C.m, C.get_clause_count()
        details.solve_seconds = time.perf_counter() - t_start
        reporter.event(
            "solve",
            "solve_finished",
            packages=len(result),
            pycosat_calls=len(C.stats),
            solutions_found=nsol,
            solve_seconds=details.solve_seconds,
        )
        if returnall and len(psolutions) > 1:
            raise RuntimeError("returnall with several solutions is not supported (as in conda)")
        return result

    # ------------------------------------------------------------------------ conflicts
    def find_conflicts(self, specs, specs_to_add=None, history_specs=None):
        """Explain an unsatisfiable request: always raises UnsatisfiableError."""
        from conda_deepdive.solve.resolve_conflicts import build_conflict_map, unsatisfiable_error

        specs = [self.parse_spec(s) for s in specs]
        bad_deps = build_conflict_map(self, specs, specs_to_add, history_specs) if self.unsatisfiable_hints else {}
        self.reporter.event(
            "solve", "conflicts", classes={k: len(v) for k, v in bad_deps.items()} if bad_deps else {}
        )
        raise unsatisfiable_error(bad_deps, strict=self.channel_priority == "strict")

    def build_conflict_map(self, specs, specs_to_add=None, history_specs=None) -> dict:
        from conda_deepdive.solve.resolve_conflicts import build_conflict_map

        return build_conflict_map(self, [self.parse_spec(s) for s in specs], specs_to_add, history_specs)
