"""The SAT encoding of the classic solver: clauses and objectives (part of ``conda.resolve.Resolve``).

:class:`ClauseBuilding` holds the ``Resolve`` methods that turn records into a formula:

* :meth:`~ClauseBuilding.push_MatchSpec` — a named variable ``@s@<spec>`` that is true iff some
  record matching the spec is installed (an OR over the records' variables). A spec matching a
  whole group reuses the group variable; an *optional* spec (``constrains``) is also satisfied by
  "nothing of that name installed".
* :meth:`~ClauseBuilding.gen_clauses` — one variable per record, one per name; "exactly one
  record of a name, or none"; "a record implies each of its dependency specs".
* the ``generate_*`` objectives — ``{variable name: weight}`` dicts for ``Clauses.minimize``.

What to notice: preferences are weights. :meth:`~ClauseBuilding.generate_version_metrics` walks a
name's records best-first (by ``version_key``) and gives each the number of "steps down" it is
from the best at that level (channel, version, build number, noarch, timestamp).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from conda_deepdive.models.match_spec import MatchSpec
from conda_deepdive.solve.logic import FALSE, TRUE, Clauses
from conda_deepdive.solve.reduction import ReducedIndex

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["ClauseBuilding"]


class ClauseBuilding:
    """Mixin of :class:`~conda_deepdive.solve.resolve.Resolve`: building clauses and objectives."""

    # ------------------------------------------------------------------------- clauses
    def push_MatchSpec(self, C: Clauses, spec: Any) -> str:
        """Name a variable that is true iff some record matching ``spec`` is installed."""
        spec = self.parse_spec(spec)
        sat_name = self.to_sat_name(spec)
        m = C.from_name(sat_name)
        if m is not None:
            return sat_name  # already built
        simple = spec._is_single()
        nm = spec.get_exact_value("name")
        tf = frozenset(t for t in (f.strip() for f in spec.get_exact_value("track_features") or ()) if t)
        if nm:
            tgroup = libs = self.groups.get(nm, [])
        elif tf:
            assert len(tf) == 1, spec
            tgroup = libs = self.trackers.get(next(iter(tf)), [])
        else:
            tgroup = libs = list(self._records)
            simple = False
        if not simple:
            libs = list(self.find_matches(spec)) if nm else [p for p in tgroup if spec.match(p)]
        if len(libs) == len(tgroup):
            # matches the whole group: reuse the group variable (or TRUE for optional specs)
            if spec.optional:
                m = TRUE
            elif not simple:
                broad = MatchSpec(track_features=tf) if tf else MatchSpec(nm)
                m = C.from_name(self.push_MatchSpec(C, broad))
        if m is None:
            names = [self.to_sat_name(p) for p in libs]
            if spec.optional:
                # "not installed at all" also satisfies an optional spec (a constrains entry)
                broad = MatchSpec(track_features=tf) if tf else MatchSpec(nm)
                names.append("!" + self.to_sat_name(broad))
            m = C.Any(names)
        C.name_var(m, sat_name)
        return sat_name

    def gen_clauses(self) -> Clauses:
        """The base SAT problem: one-per-name and dependency implications."""
        t0 = time.perf_counter()
        template = self._clause_template()
        if template is not None:
            C = template.copy()
            self.reporter.event("solve", "gen_clauses", records=len(self._records), variables=C.m,
                                clauses=C.get_clause_count(), reused=True,
                                gen_clauses_seconds=time.perf_counter() - t0)
            return C
        C = Clauses()
        clauses = C._clauses
        for name, group in self.groups.items():
            lits = [C.new_var(self.to_sat_name(p)) for p in group]
            m = C.new_var(self.to_sat_name(MatchSpec(name)))
            # exactly one of the records, or the name variable is false (nothing installed):
            # C.Require(C.ExactlyOne, names + [C.Not(m)]), without the layers in between. For
            # two or more literals that is the BDD of "1 <= sum <= 1" over the literals sorted
            # (Clauses._lb_preprocess with unit weights), asserted; a constant leaves no clauses.
            lits.append(-m)
            lits.sort()
            saved = len(clauses)
            x = C._bdd_positive(lits, (1,) * len(lits), len(lits), 1, 1)
            if x == TRUE or x == FALSE:
                del clauses[saved:]
            C._eval_into(x, True)
        # "a record implies each of its dependencies": C.Require(C.Or, -record, spec) per
        # dependency, tens of thousands of times in a big solve. Written out below with the
        # same clauses in the same order: a spec's variable is looked up once per spec object
        # (the records' parsed dependencies are shared), and the two-literal clause is built
        # here the way Clauses._or builds it (smaller literal first).
        names = C.names
        sat_name, push, ms_depends = self.to_sat_name, self.push_MatchSpec, self.ms_depends
        spec_lit: dict[int, int | None] = {}  # id(spec) -> its literal; None: a virtual package
        for prec in self._records:
            not_prec = -names[sat_name(prec)]
            for ms in ms_depends(prec):
                lit = spec_lit.get(id(ms), 0)
                if lit == 0:
                    if ms.name.startswith("__"):  # virtual packages are never installed
                        lit = spec_lit[id(ms)] = None
                    else:
                        lit = spec_lit[id(ms)] = names[push(C, ms)]
                if lit is None:
                    continue
                if lit == TRUE or lit == -not_prec:
                    continue  # the clause is always true
                if lit == FALSE or lit == not_prec:
                    C._eval_into(not_prec, True)  # what Or reduces to: the record is out
                else:
                    clauses.append((not_prec, lit) if not_prec < lit else (lit, not_prec))
        self.reporter.event(
            "solve",
            "gen_clauses",
            records=len(self._records),
            variables=C.m,
            clauses=C.get_clause_count(),
            gen_clauses_seconds=time.perf_counter() - t0,
        )
        self._keep_clause_template(C)
        return C

    # conda builds a fresh Resolve over the reduced index, and its clauses, each time it checks
    # the specs for conflicts and again to solve: three times over the same reduced index in a
    # plain ``create``. The clauses depend only on that index, so the parent Resolve keeps one
    # pristine copy per ReducedIndex and hands out copies (the callers add to theirs).
    def _clause_template(self) -> Clauses | None:
        parent, index = self._parent, self._index
        if parent is None or not isinstance(index, ReducedIndex):
            return None
        hit = parent._clause_templates.get(id(index))
        return hit[1] if hit is not None and hit[0] is index else None

    def _keep_clause_template(self, C: Clauses) -> None:
        parent, index = self._parent, self._index
        if parent is not None and isinstance(index, ReducedIndex):
            parent._clause_templates[id(index)] = (index, C.copy())

    def generate_spec_constraints(self, C: Clauses, specs: Iterable[Any]) -> list[tuple[str]]:
        return [(self.push_MatchSpec(C, ms),) for ms in specs]

    generate_spec_constraint = generate_spec_constraints  # the brief's spelling

    def generate_feature_count(self, C: Clauses) -> dict[str, int]:
        return {self.push_MatchSpec(C, MatchSpec(track_features=name)): 1 for name in self.trackers}

    def generate_update_count(self, C: Clauses, specs: Iterable[Any]) -> dict[str, int]:
        return {"!" + ms.target: 1 for ms in specs if ms.target and C.from_name(ms.target)}

    def generate_feature_metric(self, C: Clauses) -> dict[str, int]:
        """Weigh 1 each installed record *lacking* a feature some sibling has, when it is tracked."""
        eq: dict[str, int] = {}
        if not self.trackers:
            return eq  # no record tracks a feature: no feature is ever active below
        for name, group in self.groups.items():
            if not any(p.features for p in group):
                continue  # nothing of this name has a feature: none can be active below
            prec_feats = {self.to_sat_name(p): set(p.features or ()) for p in group}
            active = set().union(*prec_feats.values()).intersection(self.trackers)
            for feat in active:
                tracker = self.push_MatchSpec(C, MatchSpec(track_features=feat))
                for sat_name, feats in prec_feats.items():
                    if feat not in feats:
                        fm_id = self.to_feature_metric_id(sat_name, feat)
                        C.name_var(C.And(sat_name, tracker), fm_id)
                        eq[fm_id] = 1
        return eq

    def generate_removal_count(self, C: Clauses, specs: Iterable[Any]) -> dict[str, int]:
        return {"!" + self.push_MatchSpec(C, ms.name): 1 for ms in specs}

    def generate_install_count(self, C: Clauses, specs: Iterable[Any]) -> dict[str, int]:
        return {self.push_MatchSpec(C, ms.name): 1 for ms in specs if ms.optional}

    def generate_package_count(self, C: Clauses, missing: Iterable[str]) -> dict[str, int]:
        return {self.push_MatchSpec(C, nm): 1 for nm in missing}

    def generate_version_metrics(self, C: Clauses, specs: Iterable[Any], include0: bool = False):
        """Five objectives (channel, version, build, noarch, timestamp) for the named packages.

        Walk each group best-first; every time the key changes at some level, that level's
        counter goes up and the lower levels reset. So the best record weighs 0 everywhere and
        the second-newest version weighs 1 in the version objective, whatever its build.
        """
        eqc: dict[str, int] = {}
        eqv: dict[str, int] = {}
        eqb: dict[str, int] = {}
        eqa: dict[str, int] = {}
        eqt: dict[str, int] = {}
        names = dict.fromkeys(self.parse_spec(s).name for s in specs)
        ts_level = not self.solver_ignore_timestamps
        for name in names:
            pkey = None
            ic = iv = ib = ia = it = 0
            for prec in self.groups.get(name, []):
                vkey = self.version_key(prec)
                if pkey is None:
                    ic = iv = ib = ia = it = 0
                elif pkey[0] != vkey[0] or pkey[1] != vkey[1]:
                    ic += 1
                    iv = ib = it = ia = 0
                elif pkey[2] != vkey[2]:
                    iv += 1
                    ib = it = ia = 0
                elif pkey[3] != vkey[3]:
                    ib += 1
                    it = ia = 0
                elif pkey[4] != vkey[4]:
                    ia += 1
                    it = 0
                elif ts_level and pkey[5] != vkey[5]:
                    it += 1
                sat_name = self.to_sat_name(prec)
                if ic or include0:
                    eqc[sat_name] = ic
                if iv or include0:
                    eqv[sat_name] = iv
                if ib or include0:
                    eqb[sat_name] = ib
                if ia or include0:
                    eqa[sat_name] = ia
                if it or include0:
                    eqt[sat_name] = it
                pkey = vkey
        return eqc, eqv, eqb, eqa, eqt
