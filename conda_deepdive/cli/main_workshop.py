"""``conda-deepdive workshop [DIR]``: copy the course notebooks into DIR and start JupyterLab there.

Not a conda command: one command for the room. The notebooks ship inside the package
(``conda_deepdive/course/notebooks/``); they are *copied* — the installed files are never opened
for writing, so every student can edit, break and re-run their own copy.

Running it again in the same folder updates the notebooks a student has not touched and keeps
the ones they edited: ``DIR/.conda-deepdive-workshop.json`` remembers the checksum of each file
as it was copied, so an edited file is told apart from an old version. An edited notebook is only
overwritten with ``--force``.

Options: ``--copy-only`` (copy, do not start JupyterLab), ``--no-browser`` and ``--port N``
(passed to JupyterLab); anything after ``--`` goes to ``jupyter lab`` unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path
from collections.abc import Sequence

MANIFEST = ".conda-deepdive-workshop.json"
DEFAULT_DIRECTORY = "conda-deepdive-workshop"
_SKIP = {".ipynb_checkpoints", "__pycache__"}


def course_directory() -> Path:
    """Where the installed course notebooks are (read only)."""
    from importlib.resources import files

    return Path(str(files("conda_deepdive.course") / "notebooks"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def course_files(source: Path) -> list[Path]:
    """Every file of the course, relative to ``source``, sorted (notebooks and what they open)."""
    out = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not (_SKIP & set(rel.parts)) and path.suffix not in (".pyc",):
            out.append(rel)
    return out


def copy_course(source: Path, target: Path, *, force: bool = False) -> dict[str, list[str]]:
    """Copy the course from ``source`` into ``target``; returns ``{"copied", "updated", "same",
    "kept"}`` lists. Raises CondaValueError (before copying anything) if a notebook the student
    edited would be overwritten and ``force`` is false."""
    from conda_deepdive.exceptions import CondaValueError

    if not source.is_dir():
        raise CondaValueError(f"the course notebooks are not installed: '{source}' is missing "
                              "(reinstall conda-deepdive)")
    if target.exists() and not target.is_dir():
        raise CondaValueError(f"cannot copy the workshop into '{target}': it is a file, not a directory")
    manifest_path = target / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    except ValueError:
        manifest = {}
    copied_as: dict = manifest.get("files", {}) if isinstance(manifest, dict) else {}
    plan: list[tuple[str, Path]] = []
    report: dict[str, list[str]] = {"copied": [], "updated": [], "same": [], "kept": []}
    edited = []
    for rel in course_files(source):
        src, dst = source / rel, target / rel
        key = rel.as_posix()
        if not dst.exists():
            plan.append(("copied", rel))
            continue
        now = _sha256(dst)
        if now == _sha256(src):
            report["same"].append(key)
        elif now == copied_as.get(key):  # untouched since we copied it: an older course version
            plan.append(("updated", rel))
        elif force:
            plan.append(("updated", rel))
        else:
            edited.append(key)
    if edited:
        raise CondaValueError(
            f"not overwriting {len(edited)} edited file(s) in '{target}': {', '.join(edited)}. "
            "Use --force to replace them with the course's version, or choose another directory.")
    target.mkdir(parents=True, exist_ok=True)
    for kind, rel in plan:
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".partial")
        shutil.copyfile(source / rel, tmp)  # contents only: the copy is the student's, writable
        os.replace(tmp, dst)                # never a half-written notebook
        report[kind].append(rel.as_posix())
    copied_as.update({rel.as_posix(): _sha256(source / rel) for _kind, rel in plan})
    for key in report["same"]:
        copied_as[key] = _sha256(target / key)
    manifest_path.write_text(json.dumps({"files": dict(sorted(copied_as.items()))}, indent=1) + "\n",
                             encoding="utf-8")
    return report


def lab_command(directory: Path, *, port: int | None = None, no_browser: bool = False,
                extra: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line the workshop runs (with this interpreter)."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={directory}"]
    if no_browser:
        cmd.append("--no-browser")
    if port is not None:
        cmd.append(f"--port={port}")
    cmd += list(extra)
    return cmd


def execute(args: Namespace, parser: ArgumentParser) -> int:
    from conda_deepdive.exceptions import CondaValueError

    target = Path(getattr(args, "directory", None) or DEFAULT_DIRECTORY).expanduser().resolve()
    source = course_directory()
    report = copy_course(source, target, force=bool(getattr(args, "force", False)))
    for kind in ("copied", "updated"):
        for name in report[kind]:
            print(f"{kind:8} {name}")
    notebooks = [n for n in course_files(source) if n.suffix == ".ipynb"]
    print(f"{len(notebooks)} notebooks in {target} ({len(report['copied'])} copied, "
          f"{len(report['updated'])} updated, {len(report['same'])} unchanged)")
    if getattr(args, "copy_only", False):
        print(f"Start it with: jupyter lab {target}")
        return 0
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        raise CondaValueError("JupyterLab is not installed: pip install 'conda-deepdive[notebook]' "
                              f"(the notebooks are already in '{target}')") from None
    cmd = lab_command(target, port=getattr(args, "port", None),
                      no_browser=bool(getattr(args, "no_browser", False)),
                      extra=getattr(args, "lab_args", None) or ())
    print("Starting JupyterLab (Ctrl-C to stop) …", flush=True)
    if os.name == "posix":
        # become JupyterLab: Ctrl-C, a terminal closing or a `kill` reach the server itself,
        # never an orphaned server left running behind a dead launcher
        os.chdir(target)
        sys.stdout.flush()
        os.execv(cmd[0], cmd)
    try:
        return subprocess.call(cmd, cwd=target)
    except KeyboardInterrupt:
        return 130
