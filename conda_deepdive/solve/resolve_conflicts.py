"""Explaining "no solution": conda's conflict report (``Resolve.build_conflict_map`` + the
message of ``conda.exceptions.UnsatisfiableError``).

When the SAT problem has no solution, conda does not compute a true unsatisfiable core. It uses
a heuristic you can follow by hand:

1. For every root spec (the specs being solved, plus one spec per virtual package), build the
   dependency graph a few levels deep (``unsatisfiable_hints_check_depth``, default 2).
2. Any package *name* reached from two or more roots is a conflict suspect (so is a virtual
   package that some root needs).
3. For each suspect, find the shortest chains from the roots to it (breadth first). Chains of
   the same length to the same name are merged into one spec with the version alternatives
   joined by ``|`` — hence lines like ``c -> d[version='>=2,<3|>=3,<4']``.
4. Classify chains: ending at python (and python was pinned elsewhere), ending at a virtual
   package (``__glibc``…), conflicting with a spec from the environment's history, or "direct".

What to notice: this is a *heuristic*. It can list packages that are fine, and it finds nothing
at all when the conflict is deeper than the check depth — then conda's message is empty (shown as
``UnsatisfiableError: ``), or only the note about strict channel priority.
"""

from __future__ import annotations

from collections.abc import Iterable

from conda_deepdive.exceptions import ResolvePackageNotFound, UnsatisfiableError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

# ``r`` below is the Resolve; it is passed in, never imported: resolve.py builds on this module.
__all__ = [
    "build_conflict_map",
    "build_graph_of_deps",
    "breadth_first_search_for_dep_graph",
    "classify_bad_deps",
    "unsatisfiable_message",
    "unsatisfiable_error",
    "resolve_package_not_found",
]


def _dals(text: str) -> str:
    """Dedent and left-strip (conda's ``dals``)."""
    from textwrap import dedent  # only when an error message is written

    return dedent(text).lstrip()


def _dashlist(items: Iterable[Any], indent: int = 2) -> str:
    return "".join("\n" + " " * indent + "- " + str(x) for x in items)


def _spec(value: Any):
    from conda_deepdive.models.match_spec import MatchSpec

    return value if isinstance(value, MatchSpec) else MatchSpec(value)


def _untargeted(ms: Any):
    from conda_deepdive.models.match_spec import MatchSpec

    ms = _spec(ms)
    return MatchSpec(ms, target=None) if ms.target else ms


def build_graph_of_deps(r: Any, spec: Any) -> tuple[dict, set]:
    """``({spec: {dep: {dep of dep: {}}}}, every dep seen)``, breadth first, limited depth."""
    from conda_deepdive.models.match_spec import MatchSpec

    depth = r.unsatisfiable_hints_check_depth
    graph: dict = {spec: {}}
    all_deps: set = set()
    queue = [[spec]]
    while queue:
        path = queue.pop(0)
        sub = graph
        for p in path:
            sub = sub[p]
        for prec in r.find_matches(path[-1]):
            for dep in prec.depends or ():
                node = MatchSpec(dep)
                sub[node] = {}
                all_deps.add(node)
                if len(path) + 1 <= depth:
                    queue.append(path + [node])
    return graph, all_deps


def breadth_first_search_for_dep_graph(root: Any, target_name: str, graph: dict, num_targets: int = 1) -> list:
    """Shortest chains from ``root`` to a spec named ``target_name`` (merging equal-length ones)."""
    from conda_deepdive.models.match_spec import MatchSpec

    queue = [[root]]
    visited: list = []
    found: list[list] = []
    while queue:
        path = queue.pop(0)
        node = path[-1]
        if node in visited:
            continue
        visited.append(node)
        if node.name == target_name:
            if not found:
                found.append(path)
            if len(found[-1]) == len(path):
                # same depth as the chain we have: fold the alternatives into one spec
                found[-1][-1] = MatchSpec.union((path[-1], found[-1][-1]))[0]
            else:
                found.append(path)
            done = len(found) == num_targets and any(len(q) != len(path) for q in queue)
            if not queue or done:
                return found
        sub = graph
        for p in path[:-1]:
            sub = sub[p]
        for child in list(sub.get(node, {})):
            if len(found) < num_targets:
                queue.append(path + [child])
    return found


def build_conflict_map(r: Any, specs: Iterable[Any], specs_to_add=None, history_specs=None) -> dict:
    """conda's ``Resolve.build_conflict_map``: classified conflict chains (see module docstring)."""
    roots = list(dict.fromkeys(list(specs) + [_spec(s) for s in specs_to_add or ()]))
    roots = [s for s in roots if not s.name.startswith("__")]
    if len(roots) == 1:
        matches = r.find_matches(roots[0])
        if len(matches) == 1:
            roots = list(dict.fromkeys(r.ms_depends(matches[0])))
    for prec in sorted(r._system_precs, key=lambda p: p.name):  # a set in conda: hash order
        ms = _system_spec(prec)
        if ms not in roots:
            roots.append(ms)
    # conda reduces the index for every root here. The pools are not used below, but the call
    # matters: a root that matches nothing (say, the one dependency of the only candidate)
    # raises ResolvePackageNotFound, which the CLI reports as PackagesNotFoundError.
    for spec in roots:
        r._get_package_pool((spec,))

    graph: dict = {}
    dep_list: dict[str, list] = {}
    for spec in roots:
        sub, deps = build_graph_of_deps(r, spec)
        graph.update(sub)
        dep_list.setdefault(spec.name, []).append(spec)
        for dep in sorted(deps, key=str):
            dep_list.setdefault(dep.name, []).append(spec)

    suspects: dict[frozenset, list[str]] = {}
    order: dict[frozenset, tuple] = {}
    for name, who in dep_list.items():
        key = frozenset(who)
        if len(key) > 1:
            suspects.setdefault(key, []).append(name)
            order.setdefault(key, tuple(dict.fromkeys(who)))
        elif name.startswith("__") and any(s.name != name for s in key):
            suspects[key] = [name]
            order.setdefault(key, tuple(dict.fromkeys(who)))

    chains: list[list] = []
    for key, nodes in suspects.items():
        lroots = list(order[key])
        shortest: list = []
        shortest_node = None
        requested = frozenset(nodes) & {s.name for s in lroots}
        if requested:
            chains.append([s for s in lroots if s.name in requested])
            shortest_node = chains[-1][0]
            for root in lroots:
                if root != chains[0][0]:  # sic: conda compares with the very first chain
                    name = shortest_node.name
                    chains.extend(
                        breadth_first_search_for_dep_graph(root, name, graph, dep_list[name].count(root))
                    )
        else:
            for node in nodes:
                chain = breadth_first_search_for_dep_graph(
                    lroots[0], node, graph, dep_list[node].count(lroots[0])
                )
                chains.extend(chain)
                if not shortest or len(chain) < len(shortest):
                    shortest, shortest_node = chain, node
            for root in lroots[1:]:
                chains.extend(
                    breadth_first_search_for_dep_graph(
                        root, shortest_node, graph, dep_list[shortest_node].count(root)
                    )
                )
    return classify_bad_deps(r, chains, specs_to_add, history_specs)


def _system_spec(prec: Any):
    from conda_deepdive.models.match_spec import MatchSpec, PackageRecord, exact_spec

    if isinstance(prec, PackageRecord):
        return exact_spec(prec)
    return MatchSpec(name=prec.name, version=prec.version, build=prec.build)


class _OrderedSet(dict):
    """A set that remembers insertion order (conda uses plain sets here, so the lines of its
    message come out in hash order, different from run to run; ours are stable)."""

    def add(self, item: Any) -> None:
        self[item] = None


def classify_bad_deps(r: Any, bad_deps: list, specs_to_add=None, history_specs=None) -> dict:
    """Sort chains into conda's four kinds of explanation."""
    classes: dict[str, Any] = {
        "python": _OrderedSet(),
        "request_conflict_with_history": _OrderedSet(),
        "direct": _OrderedSet(),
        "virtual_package": _OrderedSet(),
    }
    to_add = {_spec(s) for s in specs_to_add or ()}
    history = [_spec(s) for s in history_specs or ()]
    for chain in bad_deps:
        if (
            len(chain) > 1
            and chain[-1].name == "python"
            and not any(s.name == "python" for s in to_add)
            and any(c[0] for c in bad_deps if c[0].name == "python")
        ):
            python_first = [c[0] for c in bad_deps if c[0].name == "python"]
            if python_first:
                py = python_first[0]
                if not set(r.find_matches(py)) & set(r.find_matches(chain[-1])):
                    classes["python"].add(((chain[0], chain[-1]), str(_untargeted(py))))
        elif chain[-1].name.startswith("__"):
            found = [p for p in sorted(r._system_precs, key=lambda p: p.name) if p.name == chain[-1].name]
            classes["virtual_package"].add((tuple(chain), found[0].version if found else "not available"))
        elif chain[0] in to_add:
            matched = False
            for spec in history:
                if spec.name == chain[-1].name:
                    classes["request_conflict_with_history"].add((tuple(chain), str(_untargeted(spec))))
                    matched = True
            if not matched:
                classes["direct"].add((tuple(chain), str(_untargeted(chain[0]))))
        elif len(chain) > 1 or any(len(c) >= 1 and c[0] == chain[0] for c in bad_deps):
            classes["direct"].add((tuple(chain), str(_untargeted(chain[0]))))
    if classes["python"]:
        # single-entry python conflicts are explained by the python section
        classes["direct"] = [d for d in classes["direct"] if d[1].startswith("python ") or len(d[0]) > 1]
    return classes


# conda's message texts, dedented when used (textwrap is imported only for an error)
_MESSAGES = {
    "python": (
        """

The following specifications were found
to be incompatible with the existing python installation in your environment:

Specifications:\n{specs}

Your python: {ref}

If python is on the left-most side of the chain, that's the version you've asked for.
When python appears to the right, that indicates that the thing on the left is somehow
not available for the python version you are constrained to. Note that conda will not
change your python version to a different minor version unless you explicitly specify
that.

        """
    ),
    "request_conflict_with_history": (
        """

The following specifications were found to be incompatible with a past
explicit spec that is not an explicit spec in this operation ({ref}):\n{specs}

                    """
    ),
    "direct": (
        """

The following specifications were found to be incompatible with each other:
                    """
    ),
    "virtual_package": (
        """

The following specifications were found to be incompatible with your system:\n{specs}

Your installed version is: {ref}
"""
    ),
}


def _format_chain_str(bad_deps: list[list[str]]) -> list[str]:
    """Merge chains sharing a prefix of names into ``a -> b 1.0|2.0 -> c`` lines."""
    chains: dict[tuple, Any] = {}
    for dep in sorted(bad_deps, key=len, reverse=True):
        parts = [s.partition(" ") for s in dep[1:]]
        key = (dep[0],) + tuple(p[0] for p in parts)
        vals = ("",) + tuple(p[2] for p in parts)
        found = False
        for key2, csets in chains.items():
            if key2[: len(key)] == key:
                for cset, val in zip(csets, vals):
                    cset.add(val)
                found = True
        if not found:
            chains[key] = [{v} for v in vals]
    lines = {}
    for key, csets in chains.items():
        deps = []
        for name, cset in zip(key, csets):
            if "" not in cset:
                pass
            elif len(cset) == 1:
                cset.clear()
            else:
                cset.remove("")
                cset.add("*")
            if name[0] == "@":
                name = "feature:" + name[1:]
            deps.append(f"{name} {'|'.join(sorted(cset))}" if cset else name)
        lines[key] = " -> ".join(deps)
    return [lines[k] for k in sorted(lines)]


def unsatisfiable_message(bad_deps: Any, chains: bool = True, strict: bool = False) -> tuple[str, list]:
    """conda's UnsatisfiableError text for classified ``bad_deps``; also the listed chains."""
    msg = ""
    listed: list = []
    if not isinstance(bad_deps, dict):
        # the "wrong version" shortcut: plain lists of specs, no classification
        if bad_deps:
            msg += _dals(_MESSAGES["direct"]) + _dashlist(", ".join(str(s) for s in c) for c in bad_deps)
        bad_deps = {}
    elif len(bad_deps) == 0:
        msg += (
            "\nDid not find conflicting dependencies. If you would like to know which\n"
            "packages conflict ensure that you have enabled unsatisfiable hints.\n\n"
            "conda config --set unsatisfiable_hints True\n            "
        )
    for class_name, dep_class in bad_deps.items():
        if not dep_class:
            continue
        if class_name == "direct":
            msg += _dals(_MESSAGES["direct"])
            by_last: dict[str, list] = {}
            for chain, _ref in dep_class:
                by_last.setdefault(chain[-1].name, []).append(chain)
            msg += "\nOutput in format: Requested package -> Available versions"
            for name, group in by_last.items():
                if len(group) > 1:
                    msg += f"\n\nPackage {name} conflicts for:\n"
                    msg += "\n".join(" -> ".join(str(i) for i in c) for c in group)
                    listed += [tuple(c) for c in group]
        else:
            texts = []
            ref = ""
            for dep_chain, blocker in dep_class:
                texts.append([str(_untargeted(d)) for d in dep_chain])
                ref = blocker
            formatted = _format_chain_str(texts) if texts else []
            msg += _dals(_MESSAGES[class_name]).format(specs=_dashlist(formatted), ref=ref)
    if strict:
        msg += "\nNote that strict channel priority may have removed packages required for satisfiability."
    return msg, listed


def unsatisfiable_error(bad_deps: Any, chains: bool = True, strict: bool = False) -> UnsatisfiableError:
    """An UnsatisfiableError carrying conda's message, ``.bad_deps`` and ``.unsatisfiable``."""
    msg, listed = unsatisfiable_message(bad_deps, chains, strict)
    # conda 26.7.1 reports an empty explanation as "UnsatisfiableError: " (its repr)
    err = UnsatisfiableError(msg or "UnsatisfiableError: ")
    err.unsatisfiable = listed
    err._bad_deps = bad_deps  # private: not part of conda's --json error
    return err


def resolve_package_not_found(bad_deps: Iterable[Iterable[Any]]) -> ResolvePackageNotFound:
    """conda's ResolvePackageNotFound: one ``  - a -> b`` line per chain; ``.bad_deps`` flattened."""
    bad_deps = [tuple(c) for c in bad_deps]
    formatted = [" -> ".join(str(s) for s in chain) for chain in bad_deps]
    err = ResolvePackageNotFound("\n" + "\n".join(f"  - {c}" for c in formatted))
    err.bad_deps = tuple(dep for chain in bad_deps for dep in chain if dep)
    err.formatted_chains = tuple(formatted)
    return err
