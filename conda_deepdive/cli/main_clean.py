"""``conda clean``: what the fetch stage (8) leaves behind in the package caches.

conda counterpart: ``conda.cli.main_clean`` (``find_tarballs``, ``find_pkgs``,
``find_index_cache``, ``find_tempfiles``, ``find_logfiles``, ``rm_pkgs``, ``rm_items``).

Every install leaves three kinds of things in a writable package cache (``context.pkgs_dirs``):

* **tarballs** — the downloaded ``.conda`` / ``.tar.bz2`` files (``--tarballs``);
* **extracted packages** — ``<pkgs_dir>/<name>-<version>-<build>/`` with an ``info/`` directory,
  the source every environment hard-links its files from (``--packages``);
* **the index cache** — ``<pkgs_dir>/cache``, the repodata stage 3 fetched (``--index-cache``).

What to notice: ``--packages`` only removes *unused* packages, and conda decides "unused" without
reading any environment: a package one of whose files has a link count above 1 is hard-linked
into some environment, so it is kept (and, as conda warns, a package an environment reaches
through *symlinks* looks unused). Also: ``--all`` does not include ``--force-pkgs-dirs``, and
``--dry-run`` lists what would go, then ends with ``DryRunExit`` (exit 0).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable, Mapping

from conda_deepdive.cli.main_info import swallow_broken_pipe

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["execute", "find_pkgs_dirs", "find_tarballs", "find_pkgs", "find_index_cache",
           "find_tempfiles", "find_logfiles", "clean"]

PACKAGE_EXTENSIONS = (".conda", ".tar.bz2")
PARTIAL_EXTENSION = ".partial"
TEMP_EXTENSIONS = (".c~", ".trash")  # conda's CONDA_TEMP_EXTENSIONS
LOGS_DIR = ".logs"


class _InUse(Exception):
    """A file with more than one hard link: an environment uses it (conda raises NotImplementedError)."""


def _get_size(path: str, warnings: list[str]) -> int:
    try:
        st = os.lstat(path)
    except OSError as exc:
        warnings.append(f"WARNING: {path}: {exc}")
        raise _InUse from exc
    if st.st_nlink > 1:
        raise _InUse
    return st.st_size


def _result(warnings: list[str], pkg_sizes: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {
        "warnings": warnings,
        "pkg_sizes": pkg_sizes,
        "pkgs_dirs": {d: list(pkgs) for d, pkgs in pkg_sizes.items()},
        "total_size": sum(sum(p.values()) for p in pkg_sizes.values()),
    }


def find_pkgs_dirs(context: Any) -> list[str]:
    """The writable package caches that exist (conda: ``PackageCacheData.writable_caches()``)."""
    from conda_deepdive.fetch.package_cache import PackageCacheData

    caches = (PackageCacheData(d) for d in context.pkgs_dirs)
    return [c.pkgs_dir for c in caches if os.path.isdir(c.pkgs_dir) and c.is_writable]


def find_tarballs(context: Any) -> dict[str, Any]:
    warnings: list[str] = []
    pkg_sizes: dict[str, dict[str, int]] = {}
    for pkgs_dir in find_pkgs_dirs(context):
        for name in sorted(os.listdir(pkgs_dir)):
            full = os.path.join(pkgs_dir, name)
            package = name[:-len(PARTIAL_EXTENSION)] if name.endswith(PARTIAL_EXTENSION) else name
            if not os.path.isfile(full) or not package.endswith(PACKAGE_EXTENSIONS):
                continue
            try:
                pkg_sizes.setdefault(pkgs_dir, {})[name] = _get_size(full, warnings)
            except _InUse:
                pass
    return _result(warnings, pkg_sizes)


def find_pkgs(context: Any) -> dict[str, Any]:
    warnings: list[str] = []
    pkg_sizes: dict[str, dict[str, int]] = {}
    for pkgs_dir in find_pkgs_dirs(context):
        for name in sorted(os.listdir(pkgs_dir)):
            full = os.path.join(pkgs_dir, name)
            if not os.path.isdir(os.path.join(full, "info")):
                continue
            try:
                size = sum(_get_size(os.path.join(root, f), warnings)
                           for root, _dirs, files in os.walk(full) for f in files)
            except _InUse:
                continue  # hard-linked into an environment: in use
            pkg_sizes.setdefault(pkgs_dir, {})[name] = size
    return _result(warnings, pkg_sizes)


def find_index_cache(context: Any) -> list[str]:
    return [os.path.join(d, "cache") for d in find_pkgs_dirs(context)
            if os.path.isdir(os.path.join(d, "cache"))]


def find_tempfiles(paths: Iterable[str]) -> list[str]:
    found: list[str] = []
    for path in sorted(set(paths)):
        for root, _dirs, files in os.walk(path):
            found.extend(os.path.join(root, f) for f in files if f.endswith(TEMP_EXTENSIONS))
    return found


def find_logfiles(context: Any) -> list[str]:
    found: list[str] = []
    for pkgs_dir in find_pkgs_dirs(context):
        logs = os.path.join(pkgs_dir, LOGS_DIR)
        if os.path.isdir(logs):
            found.extend(os.path.join(logs, f) for f in sorted(os.listdir(logs))
                         if os.path.isfile(os.path.join(logs, f)))
    return found


# ------------------------------------------------------------------------------------------
# removing
# ------------------------------------------------------------------------------------------

def human_bytes(n: int) -> str:
    from conda_deepdive.transaction.package_plan import human_bytes as hb

    return hb(n)


def _confirm(context: Any) -> None:
    """conda's ``confirm_yn()`` (``-y`` skips it; "no" ends with ``CondaSystemExit``)."""
    from conda_deepdive.exceptions import CondaSystemExit

    if context.always_yes:
        return
    choices = {"": "yes", "y": "yes", "yes": "yes", "n": "no", "no": "no"}
    while True:
        sys.stdout.write("Proceed ([y]/n)? ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:  # end of input: no answer is a "no"
            sys.stdout.write("\n")
            raise CondaSystemExit("Exiting.")
        answer = line.strip().lower()
        if answer in choices:
            sys.stdout.write("\n")
            if choices[answer] == "no":
                raise CondaSystemExit("Exiting.")
            return
        print(f"Invalid choice: {answer}")


def _rm_rf(path: str, *, quiet: bool, verbose: bool, reporter: Any) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError as exc:
        if not quiet:
            print(f"WARNING: cannot remove, file permissions: {path}\n{exc!r}")
        return
    reporter.event("clean", "removed", path=path)
    if not quiet and verbose:
        print(f"Removed {path}")


def rm_pkgs(found: Mapping[str, Any], *, name: str, context: Any, quiet: bool, verbose: bool,
            dry_run: bool, reporter: Any) -> None:
    if not quiet:
        for warning in found["warnings"]:
            print(warning)
    pkg_sizes = found["pkg_sizes"]
    if not any(pkgs for pkgs in pkg_sizes.values()):
        if not quiet:
            print(f"There are no unused {name} to remove.")
        return
    if not quiet:
        if verbose:
            print(f"Will remove the following {name}:")
            for pkgs_dir, pkgs in pkg_sizes.items():
                print(f"  {pkgs_dir}")
                print(f"  {'-' * len(pkgs_dir)}")
                for pkg, size in pkgs.items():
                    print(f"  - {pkg:<40} {human_bytes(size):>10}")
                print()
            print("-" * 17)
            print(f"Total: {human_bytes(found['total_size']):>10}")
            print()
        else:
            count = sum(len(pkgs) for pkgs in pkg_sizes.values())
            print(f"Will remove {count} ({human_bytes(found['total_size'])}) {name}.")
    if dry_run:
        return
    _confirm(context)
    for pkgs_dir, pkgs in pkg_sizes.items():
        for pkg in pkgs:
            _rm_rf(os.path.join(pkgs_dir, pkg), quiet=quiet, verbose=verbose, reporter=reporter)


def rm_items(items: list[str], *, name: str, context: Any, quiet: bool, verbose: bool,
             dry_run: bool, reporter: Any) -> None:
    if not items:
        if not quiet:
            print(f"There are no {name} to remove.")
        return
    if not quiet:
        if verbose:
            print(f"Will remove the following {name}:")
            for item in items:
                print(f"  - {item}")
            print()
        else:
            print(f"Will remove {len(items)} {name}.")
    if dry_run:
        return
    _confirm(context)
    for item in items:
        _rm_rf(item, quiet=quiet, verbose=verbose, reporter=reporter)


def clean(args: Any, context: Any, reporter: Any = None) -> dict[str, Any]:
    """conda's ``_execute``: find and (unless ``--dry-run``) remove; returns the JSON result."""
    from conda_deepdive.exceptions import ArgumentError
    from conda_deepdive.reporting import Reporter

    reporter = reporter or Reporter()
    flag = lambda name: bool(getattr(args, name, None))  # noqa: E731
    kwargs = dict(context=context, quiet=bool(context.json or context.quiet),
                  verbose=bool(context.verbosity), dry_run=bool(context.dry_run), reporter=reporter)
    result: dict[str, Any] = {"success": True}
    tempfiles = getattr(args, "tempfiles", None)
    if flag("force_pkgs_dirs"):
        result["pkgs_dirs"] = dirs = find_pkgs_dirs(context)
        rm_items(dirs, name="package cache(s)", **kwargs)
        return result
    if not (flag("all") or flag("tarballs") or flag("index_cache") or flag("packages")
            or tempfiles is not None or flag("logfiles")):
        raise ArgumentError("At least one removal target must be given. See 'conda clean --help'.")
    if flag("tarballs") or flag("all"):
        result["tarballs"] = found = find_tarballs(context)
        rm_pkgs(found, name="tarball(s)", **kwargs)
    if flag("index_cache") or flag("all"):
        cache = find_index_cache(context)
        result["index_cache"] = {"files": cache}
        rm_items(cache, name="index cache(s)", **kwargs)
    if flag("packages") or flag("all"):
        result["packages"] = found = find_pkgs(context)
        rm_pkgs(found, name="package(s)", **kwargs)
    if tempfiles is not None or flag("all"):
        # `-c` alone (or --all) means the base environment, as conda's const=sys.prefix
        result["tempfiles"] = temps = find_tempfiles(tempfiles or [context.root_prefix])
        rm_items(temps, name="tempfile(s)", **kwargs)
    if flag("logfiles") or flag("all"):
        result["logfiles"] = logs = find_logfiles(context)
        rm_items(logs, name="logfile(s)", **kwargs)
    return result


@swallow_broken_pipe
def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None,
            reporter: Any = None) -> int:
    """Run ``clean``; ``--json`` prints conda's result document; ``--dry-run`` ends in DryRunExit."""
    from conda_deepdive.config.context import Context
    from conda_deepdive.exceptions import DryRunExit

    context = Context.load(args=args, env=dict(os.environ if env is None else env))
    result = clean(args, context, reporter)
    if context.json:
        sys.stdout.write(json.dumps(result, indent=2))
        sys.stdout.flush()
    if context.dry_run:
        raise DryRunExit()
    return 0
