"""The decisions ``conda.cli.install.install()`` makes around the solver.

Before and around the solve, conda's install command decides a few things that are easy to miss:

* **which prefix** (``-p``, ``-n``, or the active environment) and whether it must exist
  (``install``/``update``/``remove``) or must not be an environment yet (``create``);
* **which specs**: the command-line packages, plus ``create_default_packages`` for ``create``;
* **the retry loop**: for each repodata file in ``repodata_fns`` (``current_repodata.json`` then
  ``repodata.json`` by default), ``install`` first tries a fast solve with the installed packages
  frozen (``FREEZE_INSTALLED``) and, if that is unsatisfiable, tries again unfrozen
  (``UPDATE_SPECS``); when a repodata file gives no answer, it moves on to the next one.

This module holds those decisions so :mod:`conda_deepdive.pipeline` can show every attempt.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from conda_deepdive.exceptions import (
    CondaError,
    CondaValueError,
    DirectoryNotACondaEnvironmentError,
    EnvironmentLocationNotFound,
    PackageNotInstalledError,
    PackagesNotFoundError,
    ResolvePackageNotFound,
    SpecsConfigurationConflictError,
    UnsatisfiableError,
)

if TYPE_CHECKING:  # pragma: no cover
    from conda_deepdive.pipeline import Session, SolveStageResult

REPODATA_FN = "repodata.json"

#: what conda's loop in ``conda.cli.install.install`` catches and may retry
RETRIABLE_ERRORS = (ResolvePackageNotFound, PackagesNotFoundError, UnsatisfiableError,
                    SpecsConfigurationConflictError)


def target_prefix_for(command: str, args: Any, context: Any) -> str:
    """Where the command acts: ``-p``, ``-n`` (under the first envs dir) or the active env."""
    prefix = getattr(args, "prefix", None)
    name = getattr(args, "name", None)
    if prefix:
        return os.path.abspath(os.path.expanduser(prefix))
    if name:
        if os.sep in name:
            return os.path.abspath(os.path.expanduser(name))
        for envs_dir in context.envs_dirs:
            candidate = os.path.join(envs_dir, name)
            if os.path.isdir(candidate):
                return candidate
        return os.path.join(context.envs_dirs[0], name)
    if context.target_prefix:
        return context.target_prefix
    raise CondaValueError(
        f"no target environment for 'conda {command}': pass -p PREFIX or -n NAME "
        "(conda-deepdive never changes the Python it runs in)"
    )


def check_prefix(command: str, args: Any, prefix: str) -> None:
    """conda's checks on the target prefix before anything is solved."""
    has_history = os.path.isfile(os.path.join(prefix, "conda-meta", "history"))
    if command == "create":
        if os.pathsep in prefix:
            raise CondaValueError(
                f"Cannot create a conda environment with '{os.pathsep}' in the prefix. Aborting."
            )
        if " " in os.path.basename(prefix):
            raise CondaValueError(
                f"Environment names cannot contain spaces (' '): {os.path.basename(prefix)!r}"
            )
        if os.path.exists(prefix) and os.path.isdir(os.path.join(prefix, "conda-meta")):
            raise CondaValueError(f"prefix already exists: {prefix}")
        return
    if os.path.isdir(prefix):
        if not has_history and os.listdir(prefix) and not os.path.isdir(os.path.join(prefix, "conda-meta")):
            raise DirectoryNotACondaEnvironmentError(
                f"The target directory exists, but it is not a conda environment: {prefix}"
            )
        return
    raise EnvironmentLocationNotFound(prefix)


def requested_specs(command: str, args: Any, context: Any) -> list[str]:
    """The command line's package specs (plus ``create_default_packages`` for ``create``)."""
    from conda_deepdive.models import MatchSpec

    packages = [s.strip("\"'") for s in (getattr(args, "packages", None) or [])]
    for path in getattr(args, "file", None) or []:
        packages.extend(_specs_from_file(path))
    if command == "create" and not getattr(args, "no_default_packages", False):
        names = {MatchSpec(p).name for p in packages}
        packages += [p for p in context.create_default_packages if MatchSpec(p).name not in names]
    if command == "install" and not packages:
        raise CondaValueError(
            "too few arguments, must supply one of command line packages, --file or --revision"
        )
    if command == "update" and not packages and context.update_modifier != "update_all":
        raise CondaValueError("no package names supplied\n# Example: conda update -n myenv scipy\n")
    specs = [MatchSpec(p) for p in packages]
    if command == "update" and context.update_modifier != "update_all":
        from conda_deepdive.prefix_data import PrefixData

        prefix_data = PrefixData(context.target_prefix)
        for spec in specs:
            if not spec.is_name_only_spec:
                raise CondaError(f"Invalid spec for 'conda update': {spec}\nUse 'conda install' instead.")
            if prefix_data.get(spec.name, None) is None:
                raise PackageNotInstalledError(context.target_prefix, spec.name)
    return packages


def remove_specs(args: Any) -> list[str]:
    """``conda remove``'s positional arguments (argparse dest ``package_names``)."""
    names = getattr(args, "package_names", None) or getattr(args, "packages", None) or []
    return [s.strip("\"'") for s in names]


def _specs_from_file(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [line.split("#", 1)[0].strip() for line in fh]
    except OSError as exc:
        raise CondaError(f"cannot read spec file {path}: {exc.strerror}") from None
    return [line for line in lines if line]


def _args_update_modifier(args: Any) -> str | None:
    value = getattr(args, "update_modifier", None)
    return None if value in (None, "", "NULL") else str(value)


def attempt_plan(command: str, args: Any, context: Any, repodata_fns: list[str]) -> list[tuple[str, str]]:
    """The (repodata_fn, update_modifier) pairs conda would try, in order, if each one failed."""
    fns = list(repodata_fns)
    if REPODATA_FN not in fns:
        fns.append(REPODATA_FN)
    first = _first_update_modifier(command, args, context)
    plan: list[tuple[str, str]] = []
    for fn in fns:
        plan.append((fn, first))
        if _should_retry_unfrozen(command, args) and first != "update_specs":
            plan.append((fn, "update_specs"))
    return plan


def _first_update_modifier(command: str, args: Any, context: Any) -> str:
    if command in ("install", "remove") and _args_update_modifier(args) is None:
        return "freeze_installed"
    return str(context.update_modifier)


def _should_retry_unfrozen(command: str, args: Any) -> bool:
    set_by_args = _args_update_modifier(args)
    return command != "create" and set_by_args not in ("freeze_installed", "update_specs")


def _deps_modifier(command: str, context: Any) -> Any:
    if command == "update":
        return context.deps_modifier or "update_specs"
    return context.deps_modifier


def make_solver(command: str, args: Any, context: Any, repodata_fn: str, index: Any, reporter: Any) -> Any:
    """A :class:`conda_deepdive.solve.Solver` for one attempt."""
    from conda_deepdive.solve import Solver

    specs = requested_specs(command, args, context) if command != "remove" else []
    removes = remove_specs(args) if command == "remove" else []
    return Solver(
        context.target_prefix,
        index.channels,
        context.subdirs,
        specs_to_add=specs,
        specs_to_remove=removes,
        repodata_fn=repodata_fn,
        command=command,
        context=context,
        index=index,
        reporter=reporter,
    )


def _index_for(session: "Session", repodata_fn: str) -> Any:
    index = session.results["index"]
    if getattr(index, "repodata_fn", repodata_fn) == repodata_fn:
        return index
    from conda_deepdive.index import fetch_index

    cache = session.__dict__.setdefault("_indexes", {})
    if repodata_fn not in cache:
        cache[repodata_fn] = fetch_index(session.context, repodata_fn=repodata_fn,
                                         reporter=session.reporter)
    return cache[repodata_fn]


def solve_attempts(session: "Session") -> "SolveStageResult":
    """Run conda's solve loop, reusing the first attempt's already-run stages."""
    from conda_deepdive.pipeline import Attempt, SolveStageResult

    command, args, context = session.command, session.args, session.context
    plan = attempt_plan(command, args, context, session._repodata_fns())
    attempts: list[Attempt] = []
    deps_modifier = _deps_modifier(command, context)
    force_remove = bool(getattr(context, "force_remove", False) or getattr(args, "force_remove", False))
    last_fn = plan[-1][0]
    skip_fn: str | None = None
    for number, (fn, modifier) in enumerate(plan):
        if fn == skip_fn:
            continue
        solver = session._first_solver() if number == 0 else session._solver_for(fn, _index_for(session, fn))
        retry_unfrozen_left = any(f == fn and m == "update_specs" for f, m in plan[number + 1:])
        try:
            if number == 0 and session._deferred is not None:
                raise session._deferred  # an earlier stage of this attempt already failed
            unlink, link = solver.solve_for_diff(
                update_modifier=modifier,
                deps_modifier=deps_modifier,
                force_remove=force_remove,
                should_retry_solve=retry_unfrozen_left or fn != last_fn,
            )
        except (ResolvePackageNotFound, PackagesNotFoundError) as exc:
            attempts.append(Attempt(fn, modifier, type(exc).__name__, str(exc)))
            session._event("solve", "attempt", **attempts[-1].summary())
            if fn == last_fn:
                raise
            skip_fn = fn  # a missing package is not cured by unfreezing: next repodata file
            continue
        except (UnsatisfiableError, SpecsConfigurationConflictError) as exc:
            attempts.append(Attempt(fn, modifier, type(exc).__name__, str(exc)))
            session._event("solve", "attempt", **attempts[-1].summary())
            if number == len(plan) - 1:
                raise
            continue
        attempts.append(Attempt(fn, modifier, "ok"))
        session._event("solve", "attempt", **attempts[-1].summary())
        return SolveStageResult(
            outcome=getattr(solver, "last_outcome", None),
            unlink_precs=tuple(unlink),
            link_precs=tuple(link),
            attempts=attempts,
            solver=solver,
        )
    raise AssertionError("attempt plan was empty")  # pragma: no cover - plan always has one entry
