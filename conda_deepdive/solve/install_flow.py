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
from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

REPODATA_FN = "repodata.json"

#: what conda's loop in ``conda.cli.install.install`` catches and may retry (so a stage of the
#: first attempt that raises one of these is deferred to the solve stage; see pipeline.py)
RETRIABLE_ERRORS = (ResolvePackageNotFound, PackagesNotFoundError, UnsatisfiableError,
                    SpecsConfigurationConflictError)


def target_prefix_for(command: str, context: Any) -> str:
    """Where the command acts. The Context already resolved ``-p``/``-n``/``CONDA_PREFIX`` as
    conda does; the one difference is what happens when none is given (conda: its base env)."""
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
        # conda.cli.main_create: ``conda-meta/history`` marks an environment; the command line
        # asks before replacing it (existing_target / remove_environment), a dry run refuses
        if has_history and getattr(args, "dry_run", False):
            raise CondaValueError("Cannot `create --dry-run` with an existing conda environment")
        return
    if command == "remove" and os.path.isdir(prefix) and not has_history:
        # conda.cli.main_remove: PrefixData.assert_environment() (history marks an environment)
        raise DirectoryNotACondaEnvironmentError(
            "The target directory exists, but it is not a conda environment.\n"
            "Use 'conda create' to convert the directory to a conda environment.\n"
            "  target directory: %(target_directory)s\n", target_directory=prefix)
    if os.path.isdir(prefix):
        if not has_history and os.listdir(prefix) and not os.path.isdir(os.path.join(prefix, "conda-meta")):
            raise DirectoryNotACondaEnvironmentError(
                f"The target directory exists, but it is not a conda environment: {prefix}"
            )
        return
    raise EnvironmentLocationNotFound(prefix)


def existing_target(prefix: str) -> str | None:
    """What ``create`` finds at its target: ``"environment"`` (``conda-meta/history`` exists,
    conda's ``PrefixData.is_environment``), ``"directory"`` (anything else that is a directory),
    or ``None``."""
    if os.path.isfile(os.path.join(prefix, "conda-meta", "history")):
        return "environment"
    if os.path.isdir(prefix):
        return "directory"
    return None


def remove_environment(prefix: str, env: Any = None) -> None:
    """conda's ``rm_rf(prefix)`` + ``unregister_env(prefix)``: the directory goes, and its line
    in ``~/.conda/environments.txt`` (``env`` supplies HOME; default ``os.environ``)."""
    import shutil

    if os.path.islink(prefix) or os.path.isfile(prefix):
        os.unlink(prefix)
    elif os.path.isdir(prefix):
        shutil.rmtree(prefix)
    home = (env if isinstance(env, dict) else os.environ).get("HOME") or os.path.expanduser("~")
    path = os.path.join(home, ".conda", "environments.txt")
    try:
        with open(path) as fh:
            lines = [line.strip() for line in fh if line.strip() and not line.strip().startswith("#")]
    except OSError:
        return
    # conda's _clean_environments_txt: every line that is no environment (no conda-meta/history)
    # goes too, not only this prefix
    location = os.path.normpath(prefix)
    kept = [line for line in lines
            if line != location and os.path.isfile(os.path.join(line, "conda-meta", "history"))]
    if kept != lines:
        with open(path, "w") as fh:
            fh.write("\n".join(kept) + "\n")


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
        from conda_deepdive.index.prefix_data import PrefixData

        prefix_data = PrefixData(context.target_prefix)
        for spec in specs:
            if not spec.is_name_only_spec:
                from conda_deepdive.exceptions import CondaUpdatePackageError

                raise CondaUpdatePackageError(spec)
            if prefix_data.get(spec.name, None) is None:
                raise PackageNotInstalledError(context.target_prefix, spec.name)
    return packages


def check_remove_specs(args: Any, prefix: str) -> None:
    """conda.cli.main_remove: every spec must match an installed record, else
    ``PackagesNotFoundInPrefixError`` with the unmatched specs, sorted — before any solve."""
    if getattr(args, "features", None) or getattr(args, "all", None):
        return
    from conda_deepdive.index.prefix_data import PrefixData
    from conda_deepdive.models import MatchSpec

    prefix_data = PrefixData(prefix)
    specs = [MatchSpec(s) for s in remove_specs(args)]
    unmatched = [str(spec) for spec in specs if not tuple(prefix_data.query(spec))]
    if unmatched:
        raise PackagesNotFoundError(tuple(sorted(unmatched)), prefix=prefix)


#: the line that makes a --file an explicit package list (``conda list --explicit`` writes it)
EXPLICIT_MARKER = "@EXPLICIT"
#: how the trace names what an explicit install does instead of stages 3-6
NO_SOLVE = "no solve: the request names exact packages"
COMBINE_EXPLICIT = (
    "Cannot combine package names with explicit package lists. Package names (python, numpy) "
    "are resolved by the solver; explicit files and URLs are installed directly. Use only "
    "package names, or only explicit files/URLs."
)


def explicit_file_lines(path: str) -> list[str] | None:
    """The non-comment lines of ``path`` if it contains the ``@EXPLICIT`` marker, else None
    (conda: ``ExplicitSpec.can_handle`` on ``yield_lines``)."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [line.strip() for line in fh]
    except OSError as exc:
        raise CondaError(f"cannot read spec file {path}: {exc.strerror}") from None
    lines = [line for line in lines if line and not line.startswith("#")]
    return lines if EXPLICIT_MARKER in lines else None


def explicit_request(command: str, args: Any, context: Any) -> tuple[str, ...]:
    """The explicit packages of a create/install/update request: package files, URLs, and the
    lines of ``@EXPLICIT`` files (``()`` when the request is made of package names).

    conda (``Environment.from_cli_with_file_envs``) sorts every spec by one test — does its
    MatchSpec carry a ``url``? — and refuses a mix of names and explicit packages. Note that
    ``create_default_packages`` are names, so they make an explicit ``create`` a mix.
    """
    from conda_deepdive.models import MatchSpec

    specs = [s.strip("\"'") for s in (getattr(args, "packages", None) or [])]
    file_explicit: list[str] = []
    file_names: list[str] = []
    for path in getattr(args, "file", None) or []:
        lines = explicit_file_lines(path)
        if lines is None:
            file_names.extend(_specs_from_file(path))
        else:
            file_explicit.extend(line for line in lines if line != EXPLICIT_MARKER)
    if command == "create" and not getattr(args, "no_default_packages", False):
        named = {MatchSpec(s).name for s in specs + file_names}
        specs += [p for p in context.create_default_packages if MatchSpec(p).name not in named]
    cli_explicit = [s for s in specs if MatchSpec(s).get("url")]
    cli_names = [s for s in specs if not MatchSpec(s).get("url")]
    if (file_explicit or cli_explicit) and (file_names or cli_names):
        raise CondaValueError(COMBINE_EXPLICIT)
    return tuple(file_explicit + cli_explicit)


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


def args_update_modifier(args: Any) -> str | None:
    """The update modifier typed on the command line (``--freeze-installed``…), or ``None``."""
    value = getattr(args, "update_modifier", None)
    return None if value in (None, "", "NULL") else str(value)


def first_attempt(command: str, args: Any, context: Any) -> tuple[str, str]:
    """The repodata file and update modifier of the solve loop's first try."""
    from conda_deepdive.solve.solve import first_attempt as solver_first_attempt

    return solver_first_attempt(command, context, context.repodata_fns, args_update_modifier(args))


def make_solver(command: str, args: Any, context: Any, repodata_fn: str, index: Any, reporter: Any) -> Any:
    """A :class:`conda_deepdive.solve.solve.Solver` for one attempt."""
    from conda_deepdive.solve.solve import Solver

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


def solve_attempts(session: Any) -> "SolveStageResult":
    """conda's solve loop (:func:`conda_deepdive.solve.solve.solve_with_retries`), starting from the
    solver whose first phases already ran as stages 4–5b (unless one of them failed).

    ``session`` is the :class:`conda_deepdive.pipeline.Session` running the stages (passed in:
    the pipeline builds on this module, never the other way)."""
    from conda_deepdive.solve.solve import solve_with_retries

    command, args, context = session.command, session.args, session.context
    first_fn = first_attempt(command, args, context)[0]

    def index_for(fn: str) -> Any:
        index = session.results["index"]
        if getattr(index, "repodata_fn", fn) == fn:
            return index
        from conda_deepdive.index.index import fetch_index

        cache = session.__dict__.setdefault("_indexes", {})
        if fn not in cache:
            # sharded channels: the subset walk starts from the same names as stage 3's (shards.py)
            cache[fn] = fetch_index(context, repodata_fn=fn, reporter=session.reporter,
                                    root_names=getattr(session, "_root_names", None))
        return cache[fn]

    def solver_for(fn: str) -> Any:
        # reuse the staged solver for its own file, unless a stage of it already failed
        if fn == first_fn and session._deferred is None:
            return session._first_solver()
        return make_solver(command, args, context, fn, index_for(fn), session.reporter)

    force_remove = bool(getattr(args, "force_remove", None) or getattr(context, "force_remove", False))
    # conda.cli.install: ``--force`` on install/update/create means reinstall, like --force-reinstall
    force_reinstall = None if command == "remove" else bool(
        getattr(context, "force_reinstall", False) or getattr(context, "force", False))
    result = solve_with_retries(
        context.target_prefix, session.results["index"].channels, context.subdirs,
        requested_specs(command, args, context) if command != "remove" else (),
        remove_specs(args) if command == "remove" else (),
        command=command, context=context, repodata_fns=context.repodata_fns,
        args_update_modifier=args_update_modifier(args), index_for=index_for,
        force_remove=force_remove, force_reinstall=force_reinstall, reporter=session.reporter,
        solver_for=solver_for,
    )
    return SolveStageResult(
        outcome=getattr(result.solver, "last_outcome", None),
        unlink_precs=tuple(result.unlink_precs),
        link_precs=tuple(result.link_precs),
        attempts=list(result.attempts),
        solver=result.solver,
    )


@value_object(repr=False)  # its own __repr__ below
class SolveStageResult:
    """Stage 6's result: the solver's outcome plus the attempts it took to get there."""

    outcome: Any
    unlink_precs: tuple
    link_precs: tuple
    attempts: list = field(default_factory=list)  # solve.Attempt objects, in order
    solver: Any = None

    @property
    def final_state(self) -> tuple:
        return tuple(getattr(self.outcome, "final_state", ()) or ())

    def summary(self) -> dict:
        return {
            "attempts": [a.summary() for a in self.attempts],
            "unlink": sorted(r.dist_str() for r in self.unlink_precs),
            "link": sorted(r.dist_str() for r in self.link_precs),
            "outcome": _summary(self.outcome),
        }

    def __repr__(self) -> str:
        tries = ", ".join(f"{a.repodata_fn}/{a.update_modifier}:{a.outcome}" for a in self.attempts)
        return (
            f"SolveStageResult(link={len(self.link_precs)}, unlink={len(self.unlink_precs)}, "
            f"attempts=[{tries}])"
        )


def _summary(obj: Any) -> Any:
    fn = getattr(obj, "summary", None)
    return fn() if callable(fn) else repr(obj)
