"""Environments, install and remove on top of ``solve`` (part of ``conda.resolve.Resolve``).

These ``Resolve`` methods predate conda's ``Solver`` and are still used by it and by
conda-build: checking an environment's consistency (:meth:`~EnvironmentOps.bad_installed`),
finding a minimal set of conflicting specs (:meth:`~EnvironmentOps.get_conflicting_specs`, a
greedy unsatisfiable core), turning installed records into *target* specs so the solver
minimises changes (:meth:`~EnvironmentOps.install_specs`), and removal as "make these specs
optional and impossible" (:meth:`~EnvironmentOps.remove_specs`). Also the install order
(:meth:`~EnvironmentOps.dependency_sort`, dependencies first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from conda_deepdive.solve.logic import minimal_unsatisfiable_subset

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["EnvironmentOps", "toposort"]


def toposort(data: Mapping[str, Iterable[str]]) -> list[str]:
    """Dependencies first; names in a cycle are broken out one at a time (conda's safe toposort).

    Like conda, python's dependency on pip is ignored so python always comes before pip.
    """
    graph = {k: set(v) for k, v in data.items()}
    if "python" in graph:
        graph["python"].discard("pip")
    for k, deps in graph.items():
        deps.discard(k)
    for extra in set().union(*graph.values()) - set(graph) if graph else ():
        graph[extra] = set()
    out: list[str] = []
    while graph:
        ready = sorted(k for k, deps in graph.items() if not deps)
        if not ready:
            # a cycle: take the name with the fewest remaining dependencies (then by name)
            ready = [min(graph, key=lambda k: (len(graph[k]), k))]
        for k in ready:
            out.append(k)
            del graph[k]
        done = set(ready)
        for deps in graph.values():
            deps -= done
    return out


class EnvironmentOps:
    """Mixin of :class:`~conda_deepdive.solve.resolve.Resolve`: environments, install, remove, order."""

    # ------------------------------------------------------------------ ordering helpers
    def dependency_sort(self, must_have: Mapping[str, Any]) -> list:
        """Records in install order: dependencies before dependents (python before pip)."""
        assert isinstance(must_have, dict)
        digraph = {}
        for name, prec in must_have.items():
            if prec in self.index:
                digraph[name] = {ms.name for ms in self.ms_depends(prec)}
        remaining = dict(must_have)
        result = [remaining.pop(k) for k in toposort(digraph) if k in remaining]
        result.extend(remaining.values())
        return result

    # ------------------------------------------------------ environments and install/remove
    def environment_is_consistent(self, installed: Iterable[Any]) -> bool | tuple:
        from conda_deepdive.models.match_spec import MatchSpec

        installed = list(installed)
        if not installed:
            return None, []
        specs = [MatchSpec(f"{p.name} {p.version} {p.build}") for p in installed]
        r2 = self._derive({p: p for p in installed})
        C = r2.gen_clauses()
        return bool(C.sat(r2.generate_spec_constraints(C, specs)))

    def get_conflicting_specs(self, specs: Iterable[Any], explicit_specs: Iterable[Any]) -> tuple | None:
        specs = list(specs)
        if not specs:
            return ()
        explicit_specs = tuple(explicit_specs)
        all_specs = set(specs) | set(explicit_specs)
        state: dict[str, Any] = {}

        def mysat(sp, add_if=False):
            C, r2 = state["C"], state["r2"]
            return C.sat(r2.generate_spec_constraints(C, sp), add_if)

        # conda asks "can all these specs be met together?" more than once in one solve, with
        # the same set (``_add_specs``, then ``_run_sat``): over the same records the answer is
        # the same, so it is kept
        key = frozenset(all_specs)
        satisfiable = self._conflicts_memo.get(key)
        if satisfiable is None:
            reduced = self.get_reduced_index(all_specs)
            satisfiable = False
            if reduced:
                state["r2"] = self._derive(reduced)
                state["C"] = state["r2"].gen_clauses()
                # a set in conda (hash-seed order); sorted here, as Resolve.solve's first step
                # orders the same specs, so that step's identical problem is answered from memory
                satisfiable = bool(mysat(sorted(all_specs, key=self.to_sat_name), True))
            self._conflicts_memo[key] = satisfiable
        if satisfiable:
            return ()
        if not self.unsatisfiable_hints:
            return None
        state["r2"] = self._derive(self._records)
        state["C"] = state["r2"].gen_clauses()
        return tuple(minimal_unsatisfiable_subset(specs, sat=mysat, explicit_specs=explicit_specs))

    def bad_installed(self, installed: Iterable[Any], new_specs: Iterable[Any]):
        """If the installed records are inconsistent, the names to keep solving for and the rest."""
        from conda_deepdive.models.match_spec import MatchSpec

        installed = list(installed)
        if not installed:
            return None, []
        sat_name_map = {}
        specs = []
        for prec in installed:
            sat_name_map[self.to_sat_name(prec)] = prec
            specs.append(MatchSpec(f"{prec.name} {prec.version} {prec.build}"))
        new_index = {p: p for p in sat_name_map.values()}
        r2 = self._derive(new_index)
        names = {p.name for p in new_index}
        if "python" in names and "pip" not in names:
            # conda strips python's injected pip dependency when pip is not installed
            for prec in new_index:
                if prec.name == "python" and "pip" in (prec.depends or ()):
                    r2.ms_depends_[prec] = [ms for ms in r2.ms_depends(prec) if str(ms) != "pip"]
                    r2.required_by_record.pop(prec, None)  # derived from ms_depends_
        C = r2.gen_clauses()
        solution = C.sat(r2.generate_spec_constraints(C, specs))
        limit = xtra = None
        if not solution:

            def collect(name, snames):
                if name not in snames:
                    snames.add(name)
                    for fn in self.groups.get(name, []):
                        for ms in self.ms_depends(fn):
                            collect(ms.name, snames)

            snames: set[str] = set()
            eq_optional_c = r2.generate_removal_count(C, specs)
            solution, _ = C.minimize(eq_optional_c, C.sat(), label="bad_installed")
            snames.update(
                sat_name_map[n].name
                for n in (C.from_index(s) for s in solution or ())
                if n and n[0] != "!" and "@" not in n and n in sat_name_map
            )
            for spec in new_specs:
                collect(self.parse_spec(spec).name, snames)
            if len(snames) < len(sat_name_map):
                limit = snames
                xtra = [rec for rec in sat_name_map.values() if rec.name not in snames]
        return limit, xtra

    def restore_bad(self, pkgs: list, preserve: Iterable[Any] | None) -> None:
        if preserve:
            have = {p.name for p in pkgs}
            pkgs.extend(p for p in preserve if p.name not in have)

    def install_specs(self, specs: Iterable[Any], installed: Iterable[Any], update_deps: bool = True):
        from conda_deepdive.models.match_spec import MatchSpec

        specs = [self.parse_spec(s) for s in specs]
        installed = list(installed)
        snames = {s.name for s in specs}
        limit, preserve = self.bad_installed(installed, specs)
        for prec in installed:
            if prec not in self.index:
                continue
            name = prec.name
            if name in snames or (limit is not None and name not in limit):
                continue
            if update_deps:
                # a target lets the solver minimise the change instead of pinning it
                spec = MatchSpec(name=name, target=prec.dist_str())
            else:
                spec = MatchSpec(
                    name=name, version=prec.version, build=prec.build,
                    channel=getattr(prec.channel, "canonical_name", self.channel_of(prec)),
                )
            specs.insert(0, spec)
        return tuple(specs), preserve

    def install(self, specs, installed=None, update_deps: bool = True, returnall: bool = False):
        specs, preserve = self.install_specs(specs, installed or [], update_deps)
        pkgs = list(self.solve(specs, returnall=returnall, _remove=False)) if specs else []
        self.restore_bad(pkgs, preserve)
        return pkgs

    def remove_specs(self, specs, installed):
        from conda_deepdive.models.match_spec import MatchSpec

        nspecs = []
        for s in map(self.parse_spec, specs):
            # version "@" never matches: together with optional=True this forces removal
            nspecs.append(MatchSpec(s, version="@", optional=True) if s._is_single() else MatchSpec(s, optional=True))
        snames = {s.name for s in nspecs if s.name}
        installed = list(installed)
        limit, _ = self.bad_installed(installed, nspecs)
        preserve = []
        for prec in installed:
            if prec.name in snames:
                continue
            if limit is not None:
                preserve.append(prec)
            else:
                nspecs.append(
                    MatchSpec(
                        name=prec.name,
                        version=">=" + prec.version if prec.version else None,
                        optional=True,
                        target=prec.dist_str(),
                    )
                )
        return nspecs, preserve

    def remove(self, specs, installed):
        specs, preserve = self.remove_specs(specs, installed)
        pkgs = list(self.solve(specs, _remove=True))
        self.restore_bad(pkgs, preserve)
        return pkgs
