"""Stage 5: index reduction — keep only what the specs can reach (``Resolve.get_reduced_index``).

The full index can hold tens of thousands of records; a SAT problem over all of them would be
slow. Before building clauses, conda prunes the index in two phases:

1. **Pruning** (``filter_group``). Starting from each requested spec, a package name's records
   are crossed out (``filter_out[prec] = reason``) when they do not match the specs for that
   name, when they lie outside what the *explicit* spec for that name allows, when one of their
   dependencies has no surviving candidate, or — under strict channel priority — when a
   better-ranked channel offers the same name. Then the same is done to the dependencies that
   *every* surviving record of the group shares, recursively. The whole pass runs twice
   ("double elimination"), so a removal found late gets a second chance to propagate.
2. **Expansion**. From each explicit spec's surviving matches, walk the dependency graph and
   collect every valid record reached. Two rules keep the graph small: a dependency that is
   *broader* (less strict) than the explicit spec for that name is not followed, and
   ``track_features`` dependencies never pull packages in (a feature is a soft requirement).

What to notice: the result can be much smaller than the index (39k → a few hundred records), and
the *reasons* records were dropped are kept: ``ReducedIndex.reasons`` tells you, per name,
how many records fell to "strict channel priority", "unsatisfiable dependencies", ….
An empty reduced index is not an error by itself: ``Resolve.solve`` then looks for the culprit.

Under strict priority, notice also what the pruning never reads: once a name is pruned, the
records of every lower-ranked channel are out for good, and the walk only skips them from then
on. So we cross them out *unbuilt* — one ``_TailOut`` entry where conda writes one per record —
and build them only if the walk reaches them before their name is pruned
(``resolve.MaskedTail``). The counts and reasons stay conda's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

# ``r`` below is the Resolve; it is passed in, never imported: resolve.py builds on this module.
__all__ = ["ReducedIndex", "get_reduced_index", "exactness_and_number_of_deps"]


class ReducedIndex(Mapping):
    """The records the solver will look at: a read-only ``{record: record}`` mapping (like conda's
    frozendict) plus what was kept and dropped per package name, and why."""

    def __init__(
        self,
        records: dict,
        *,
        specs: tuple = (),
        features: frozenset = frozenset(),
        strict: bool = False,
        before: Mapping[str, int] | None = None,
        reasons: Mapping[str, Mapping[str, int]] | None = None,
        seconds: float = 0.0,
        unbuilt: int = 0,
    ) -> None:
        self._records = dict(records)
        self.specs = tuple(specs)
        self.features = frozenset(features)
        self.strict = strict
        after: dict[str, int] = {}
        for prec in self._records:
            after[prec.name] = after.get(prec.name, 0) + 1
        self.after = after
        self.before = dict(before or {})
        self.reasons = {k: dict(v) for k, v in (reasons or {}).items()}
        self.seconds = seconds
        # masked records crossed out without ever being built (strict priority: MaskedTail)
        self.unbuilt = unbuilt

    # Mapping protocol: iterate records in the order conda would (insertion order)
    def __getitem__(self, key: Any) -> Any:
        return self._records[key]

    def __iter__(self) -> Iterator:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    # the dict's own views: Mapping's would look every record up again (and hash it) per item
    def keys(self) -> Any:
        return self._records.keys()

    def values(self) -> Any:
        return self._records.values()

    def items(self) -> Any:
        return self._records.items()

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Mapping) and dict(self.items()) == dict(other.items()))

    @property
    def records(self) -> tuple:
        return tuple(self._records)

    @property
    def total_before(self) -> int:
        return sum(self.before.values())

    def counts(self) -> dict[str, tuple[int, int]]:
        """``{name: (records before, records after)}`` for every name the reduction touched."""
        names = dict.fromkeys(list(self.before) + list(self.after))
        return {n: (self.before.get(n, 0), self.after.get(n, 0)) for n in names}

    def __repr__(self) -> str:
        specs = ", ".join(str(s) for s in self.specs[:4]) + (" …" if len(self.specs) > 4 else "")
        mode = " strict" if self.strict else ""
        return (
            f"<ReducedIndex{mode} [{specs}]: {len(self)} records in {len(self.after)} names "
            f"(from {self.total_before} records of the names reached)>"
        )

    def summary(self) -> dict:
        return {
            "specs": [str(s) for s in self.specs],
            "features": sorted(self.features),
            "strict": self.strict,
            "records": len(self),
            "names": len(self.after),
            "records_before": self.total_before,
            "counts": {n: {"before": b, "after": a} for n, (b, a) in sorted(self.counts().items())},
            "reasons": {n: r for n, r in sorted(self.reasons.items())},
            "reduce_seconds": self.seconds,
        }


def exactness_and_number_of_deps(r: Any, ms: Any) -> int:
    """conda's sort key for explicit specs: exact specs (and those with strict deps) first."""
    if ms.strictness == 3:
        value = 3
        for first in r.live_matches(ms, ()):  # only the first match is read
            for dep in first.depends:
                value += r.parse_spec(dep).strictness
            break
        return value
    return ms.strictness


STRICT_REASON = "removed due to strict channel priority"


class _FilterOut(dict):
    """conda's ``filter_out`` (record -> False or the reason it is out), plus ``masked``: the
    names whose unbuilt masked tail (``resolve.MaskedTail``) was crossed out as a whole."""

    __slots__ = ("masked",)


class _TailOut:
    """Stands in ``filter_out`` for an unbuilt masked tail crossed out by strict channel
    priority: where conda puts one entry per record, this puts one for all ``count`` of them."""

    __slots__ = ("name", "count")

    def __init__(self, name: str, count: int) -> None:
        self.name, self.count = name, count

    def __repr__(self) -> str:
        return f"<{self.count} masked records of {self.name}, not built>"


def _reason_kind(reason: str) -> str:
    # collapse "unsatisfiable dependencies foo >=1" to its kind for the per-name tally
    for kind in ("incompatible with required spec", "unsatisfiable dependencies", "invalid"):
        if reason.startswith(kind):
            return kind
    return reason


def get_reduced_index(
    r: Any, explicit_specs, sort_by_exactness: bool = True, exit_on_conflict: bool = False
) -> ReducedIndex:
    """Run conda's two-phase reduction for ``explicit_specs`` over ``r``'s index."""
    t0 = time.perf_counter()
    strict = r.channel_priority == "strict"
    explicit_specs = tuple(r.parse_spec(s) for s in explicit_specs)
    explicit_specs, features = r.verify_specs(explicit_specs)
    filter_out = _FilterOut(
        (prec, False if ok else "feature not enabled") for prec, ok in r.default_filter(features).items()
    )
    masked_tails: set[str] = set()  # names whose unbuilt tail was crossed out whole (_TailOut)
    tail_outs: list = []  # those _TailOut entries
    filter_out.masked = masked_tails
    snames: set[str] = set()
    cp_filter_applied: set[str] = set()
    if sort_by_exactness:
        explicit_specs = tuple(
            sorted(
                explicit_specs,
                key=lambda s: (exactness_and_number_of_deps(r, s), str(s)),
                reverse=True,
            )
        )
    # conda's explicit_spec_package_pool: {name: every record an explicit spec matches}. It is
    # read only for the records still in play when that name is pruned, so each set is made
    # then: a masked tail crossed out unbuilt is never in play, and needs none of its matches.
    pool_specs: dict[str, list] = {}
    for s in explicit_specs:
        pool_specs.setdefault(s.name, []).append(s)
    pool: dict[str, set] = {}

    def pool_for(name: str) -> set | None:
        found = pool.get(name)
        if found is None:
            specs = pool_specs.get(name)
            if specs is None:
                return None
            found = pool[name] = set()
            for s in specs:
                found.update(find_matches(s))
            if not found and name in masked_tails:
                # only its emptiness matters now, and the crossed-out records could change it
                for s in specs:
                    found.update(r.find_matches(s))
        return found

    groups = r.groups
    if r.has_pending():
        live_matches = r.live_matches

        def find_matches(ms):
            # conda's find_matches, except that the records of an unbuilt masked tail are
            # looked at only when conda's loop would reach them while they still count
            return live_matches(ms, masked_tails)
    else:  # nothing unbuilt (and nothing ever will be): conda's own
        find_matches = r.find_matches

    ms_depends = r.ms_depends
    required_deps = r.required_deps
    required_of = r.required_by_record.get  # filled by required_deps
    # ``ms.match(prec)`` for a record of ms's own name is ``prec in find_matches(ms)``: a set of
    # those matches per spec turns the per-record test into a hash lookup
    match_sets: dict = {}

    def matching(ms) -> set:
        found = match_sets.get(ms)
        if found is None:
            found = match_sets[ms] = set(find_matches(ms))
        return found

    def filter_group(specs_for_name) -> bool | None:
        """Cross out records of one name; recurse into dependencies all survivors share.

        Returns True if something was removed, False if not, None on a dead end (nothing left).
        """
        name = next(iter(specs_for_name)).name
        if name in masked_tails:  # crossed out before, tail and all: only the head is left
            group = live = r.head_group(name)
        elif strict and r.has_pending(name) and r.strict_split(name) is not None:
            # first pruning of a name whose masked records were never needed: cross them out
            # unbuilt, as one entry (conda writes one per record, and never looks at them again)
            group = live = r.head_group(name)
            mark = _TailOut(name, r.group_size(name) - len(group))
            filter_out[mark] = STRICT_REASON
            tail_outs.append(mark)
            masked_tails.add(name)
            cp_filter_applied.add(name)
        else:
            group = groups.get(name, ())
            live = group  # the records that may still be in: all but the masked ones
        if group and strict and name not in masked_tails:
            split = r.strict_split(name)
            if name not in cp_filter_applied:
                if split is None:
                    keep = r._get_strict_channel(name)
                    for prec in group:
                        if r.channel_of(prec) != keep:
                            filter_out[prec] = STRICT_REASON
                elif split < len(group):
                    filter_out.update(dict.fromkeys(group[split:], STRICT_REASON))
                cp_filter_applied.add(name)
            if split is not None:
                # the masked tail is crossed out for good (nothing resets a reason), so the
                # loops below would only skip it
                live = group[:split]

        nold = nnew = 0
        allowed = pool_for(name)
        match_list = [matching(ms) for ms in specs_for_name]
        # "does this dependency still have a candidate?" is the same for every record of the
        # group that shares it (unless it names this very package): remember the answers, keyed
        # by the spec object (the records' parsed dependencies are shared and live on)
        has_candidate: dict = {}
        survivors = []
        only = match_list[0] if len(match_list) == 1 else None
        for prec in live:
            if filter_out.setdefault(prec, False):
                continue
            nold += 1
            if (prec not in only if only is not None else not any(prec in m for m in match_list)) \
                    or (allowed and prec not in allowed):
                filter_out[prec] = "incompatible with required spec"
                continue
            unsat = []
            deps = required_of(prec)
            if deps is None:
                deps = required_deps(prec)
            for ms, dep_name in deps:
                ok = has_candidate.get(id(ms))
                if ok is None:
                    ok = False
                    for x in find_matches(ms):
                        if not filter_out.get(x, False):
                            ok = True
                            break
                    if dep_name != name:
                        has_candidate[id(ms)] = ok
                if not ok:
                    unsat.append(ms)
            if unsat:
                filter_out[prec] = "unsatisfiable dependencies " + " ".join(str(s) for s in unsat)
                continue
            filter_out[prec] = False
            survivors.append(prec)
            nnew += 1

        reduced = nnew < nold
        if any(ms.optional for ms in specs_for_name):
            return reduced
        if nnew == 0:
            return None  # a conflict: nothing of this name can be installed

        if reduced or name not in snames:
            snames.add(name)
            dep_specs: dict[str, list] = {}
            for prec in survivors:  # exactly the records of ``live`` now False in filter_out
                for dep, dep_name in required_of(prec):
                    lst = dep_specs.get(dep_name)
                    if lst is None:
                        dep_specs[dep_name] = [dep]
                    else:
                        lst.append(dep)
            dep_specs.pop("*", None)  # track_features specs have no name
            for deps in dep_specs.values():
                if len(deps) >= nnew:  # only dependencies every survivor has
                    res = filter_group(set(deps))
                    if res:
                        reduced = True
                    elif res is None:
                        return None
        return reduced

    pruned_to_zero = set()
    for _ in range(2):  # conda's "double elimination"
        snames.clear()
        queue = list(explicit_specs)
        i = 0
        while i < len(queue):
            s = queue[i]
            i += 1
            if filter_group([s]):
                queue.append(s)
            else:
                pruned_to_zero.add(s)

    group_size = r.group_size
    before = {n: group_size(n) for n in dict.fromkeys(p.name for p in filter_out)}
    if pruned_to_zero and exit_on_conflict:
        # conda's shortcut when unsatisfiable hints are off (as in conda, it fires whenever any
        # spec's last pass removed nothing, i.e. practically always)
        return ReducedIndex({}, specs=explicit_specs, features=features, strict=strict, before=before,
                            seconds=time.perf_counter() - t0)

    reduced: dict = {prec: prec for prec in (r.feature_record(f) for f in features)}
    seed: dict[str, list] = {}
    for s in explicit_specs:
        seed.setdefault(s.name, []).append(s)
    valid2 = r.judge(filter_out)[1]  # r.valid2(prec, filter_out), without the set-up per call
    expanded: set = set()  # dependency specs whose matches have all been judged

    for explicit_spec in explicit_specs:
        found = tuple(p for p in find_matches(explicit_spec) if p not in reduced and valid2(p))
        if strict and found:
            keep = r._get_strict_channel(found[0].name)
            found = tuple(p for p in found if r.channel_of(p) == keep)
        for p in found:
            reduced[p] = p
        for pkg in found:
            # The "broader" test is scoped to the dependencies below one explicit package.
            seen: set = set()
            specs_by_name = {k: list(v) for k, v in seed.items()}
            todo: dict = dict.fromkeys(ms_depends(pkg))  # an ordered set, popped LIFO
            for dep in todo:
                lst = specs_by_name.get(dep.name, [])
                if dep not in lst and (not lst or dep.strictness >= lst[0].strictness):
                    lst.insert(0, dep)
                specs_by_name[dep.name] = lst
            while todo:
                ms, _ = todo.popitem()
                seen.add(ms)
                if ms in expanded:
                    # an earlier walk already judged every match of this spec: each is now in
                    # the reduced index or out for good, so conda's loop would change nothing
                    continue
                expanded.add(ms)
                for dep_pkg in find_matches(ms):
                    if dep_pkg in reduced:
                        continue
                    out = filter_out.get(dep_pkg)  # valid2's own first test, without the call
                    if out if out is not None else not valid2(dep_pkg):
                        continue
                    if strict and r._get_strict_channel(dep_pkg.name) != r.channel_of(dep_pkg):
                        continue
                    reduced[dep_pkg] = dep_pkg
                    for new_ms in ms_depends(dep_pkg):
                        if new_ms in seen:
                            continue
                        first = specs_by_name.get(new_ms.name)
                        broader = bool(first) and new_ms.strictness < first[0].strictness
                        if r.is_track_features_spec(new_ms) or broader:
                            seen.add(new_ms)
                        else:
                            todo[new_ms] = None

    reasons: dict[str, dict[str, int]] = {}
    kinds: dict[str, str] = {}  # a handful of distinct reason texts among thousands of records
    for prec, why in filter_out.items():
        if why and prec not in reduced:
            kind = kinds.get(why)
            if kind is None:
                kind = kinds[why] = _reason_kind(why)
            tally = reasons.get(prec.name)
            if tally is None:
                tally = reasons[prec.name] = {}
            tally[kind] = tally.get(kind, 0) + (prec.count if type(prec) is _TailOut else 1)
    for p in reduced:
        before.setdefault(p.name, group_size(p.name))
    return ReducedIndex(
        reduced,
        specs=explicit_specs,
        features=features,
        strict=strict,
        before=before,
        reasons=reasons,
        seconds=time.perf_counter() - t0,
        unbuilt=sum(t.count for t in tail_outs if r.has_pending(t.name)),
    )
