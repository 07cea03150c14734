"""Stage 9: the PathAction tree — every change to a prefix is an object that can be undone.

conda counterpart: ``conda.core.path_actions``.

conda never writes into an environment directly. The transaction first builds a list of small
*action* objects — "hard-link this file", "write this entry point", "rename that file away" —
and only then runs them. Each action has four verbs:

``verify()``   check before anything changes (returns an exception instead of raising; a few,
               like the prefix-too-long ``PaddingError``, do raise);
``execute()``  make the change;
``reverse()``  undo it (after a failure later in the transaction — the *rollback*);
``cleanup()``  forget the undo information (after the whole transaction succeeded).

The class tree (``class_tree()`` returns it as a nested dict)::

    PathAction
    ├── PrefixPathAction
    │   ├── CreateInPrefixPathAction
    │   │   ├── LinkPathAction ── PrefixReplaceLinkAction
    │   │   ├── MakeMenuAction, CreateNonadminAction        (Windows only: no-ops here)
    │   │   ├── CreatePythonEntryPointAction
    │   │   ├── CreatePrefixRecordAction                    conda-meta/<dist>.json
    │   │   └── UpdateHistoryAction                         conda-meta/history
    │   └── RemoveFromPrefixPathAction
    │       ├── UnlinkPathAction ── RemoveLinkedPackageRecordAction
    │       └── RemoveMenuAction
    ├── MultiPathAction ── CompileMultiPycAction ── AggregateCompileMultiPycAction
    ├── RegisterEnvironmentLocationAction, UnregisterEnvironmentLocationAction

What to notice: removal is a *rename* to ``<path>.c~`` (cheap to reverse); the ``.c~`` files are
deleted only in ``cleanup()``. Where conda cannot undo something (a clobbered file, a
``__pycache__`` directory, an empty directory it created) conda-deepdive does, so a rolled-back
prefix is byte-identical to what it was — the docstrings say where that differs from conda.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from typing import Any

from conda_deepdive.entry_points import (
    BIN_DIRECTORY,
    noarch_python_target_path,
    parse_entry_point_def,
    pyc_path,
    python_short_path,
    write_entry_point,
)
from conda_deepdive.link import LinkType, PathData, get_leaf_directories
from conda_deepdive.package_cache import record_dump
from conda_deepdive.prefix_replace import PaddingTooShort, update_prefix_bytes

HOLD = ".c~"  # conda's CONDA_TEMP_EXTENSION

__all__ = [
    "PathAction", "PrefixPathAction", "CreateInPrefixPathAction", "LinkPathAction",
    "PrefixReplaceLinkAction", "MakeMenuAction", "CreateNonadminAction", "MultiPathAction",
    "CompileMultiPycAction", "AggregateCompileMultiPycAction", "CreatePythonEntryPointAction",
    "CreatePrefixRecordAction", "UpdateHistoryAction", "RegisterEnvironmentLocationAction",
    "RemoveFromPrefixPathAction", "UnlinkPathAction", "RemoveMenuAction",
    "RemoveLinkedPackageRecordAction", "UnregisterEnvironmentLocationAction", "class_tree",
    "sha256_file",
]


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _rm(path: str) -> None:
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def _makedirs_tracking(path: str) -> list[str]:
    """``mkdir -p`` that returns the directories it really created (outermost first)."""
    missing = []
    probe = path
    while not os.path.lexists(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    for d in reversed(missing):
        os.mkdir(d)
    return list(reversed(missing))


def _remove_empty_dirs(dirs, stop_at: str) -> None:
    for d in sorted(dirs, key=len, reverse=True):
        if os.path.abspath(d) == os.path.abspath(stop_at):
            continue
        try:
            if os.path.isdir(d) and not os.path.islink(d) and not os.listdir(d):
                os.rmdir(d)
        except OSError:
            pass


def _ctx(tc: dict, name: str, default: Any = None) -> Any:
    context = tc.get("context")
    value = getattr(context, name, default) if context is not None else default
    return default if value is None else value


# =============================================================================================
# base classes


class PathAction(ABC):
    """Something a transaction will do to the disk, with the four verbs ``verify``,
    ``execute``, ``reverse``, ``cleanup``."""

    _verified = False
    _execute_successful = False
    _REPR_SKIP = ("transaction_context", "package_info", "hold_path", "linked_package_data")

    @abstractmethod
    def verify(self) -> BaseException | None: ...

    @abstractmethod
    def execute(self) -> None: ...

    @abstractmethod
    def reverse(self) -> None: ...

    @abstractmethod
    def cleanup(self) -> None: ...

    @property
    def verified(self) -> bool:
        return self._verified

    @property
    def executed(self) -> bool:
        return self._execute_successful

    @property
    def package_name(self) -> str | None:
        info = getattr(self, "package_info", None)
        if info is not None:
            return info.name
        linked = getattr(self, "linked_package_data", None)
        return linked.get("name") if isinstance(linked, dict) else None

    @property
    def target_label(self) -> str | None:
        return getattr(self, "target_short_path", None) or getattr(self, "target_prefix", None)

    def describe(self) -> dict:
        """JSON data for the tracer: which action, on what path, for which package."""
        out = {"action": type(self).__name__, "target": self.target_label, "package": self.package_name}
        link_type = getattr(self, "link_type", None)
        if link_type is not None:
            out["link_type"] = LinkType(link_type).name
        return out

    def __repr__(self) -> str:
        fields = []
        for key, value in vars(self).items():
            if key in self._REPR_SKIP or key.startswith("_") or value is None:
                continue
            if key in ("source_path_data", "prefix_path_data", "all_link_path_actions", "prefix_paths_data"):
                continue
            if isinstance(value, LinkType):
                value = value.name
            fields.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(fields)})"


class PrefixPathAction(PathAction, ABC):
    """An action on one path inside the target prefix."""

    def __init__(self, transaction_context: dict, target_prefix: str, target_short_path: str | None):
        self.transaction_context = transaction_context
        self.target_prefix = target_prefix
        self.target_short_path = target_short_path

    @property
    def target_short_paths(self) -> tuple:
        return (self.target_short_path,)

    @property
    def target_full_path(self) -> str | None:
        if self.target_prefix is None or self.target_short_path is None:
            return None
        return os.path.join(self.target_prefix, self.target_short_path)


# =============================================================================================
# creating paths


class CreateInPrefixPathAction(PrefixPathAction, ABC):
    """Creates one new path in the prefix, from a source path (or from nothing)."""

    def __init__(self, transaction_context, package_info, source_prefix, source_short_path,
                 target_prefix, target_short_path):
        super().__init__(transaction_context, target_prefix, target_short_path)
        self.package_info = package_info
        self.source_prefix = source_prefix
        self.source_short_path = source_short_path

    @property
    def source_full_path(self) -> str | None:
        if not self.source_prefix or not self.source_short_path:
            return None
        return os.path.join(self.source_prefix, self.source_short_path)

    def verify(self):
        self._verified = True
        return None

    def cleanup(self) -> None:
        pass


class LinkPathAction(CreateInPrefixPathAction):
    """Place one file of a package into the prefix: hard link, symlink, copy — or create a
    directory (``link_type == directory``)."""

    @classmethod
    def create_file_link_actions(cls, tc: dict, package_info, target_prefix: str, requested_link_type):
        actions = []
        for spd in package_info.paths_data:
            if package_info.noarch == "python":
                sp = tc.get("target_site_packages_short_path")
                if sp is None:
                    from conda_deepdive.exceptions import CondaError

                    raise CondaError(
                        "Unable to determine python site-packages dir in target_prefix!\n"
                        f"Please make sure python is installed in {target_prefix}"
                    )
                target = noarch_python_target_path(spd.path, sp)
            else:
                target = spd.path
            if spd.path_type == "softlink":
                link_type, placeholder = LinkType.copy, None  # symlinks are re-created as symlinks
            elif spd.prefix_placeholder:
                link_type, placeholder = LinkType.copy, spd.prefix_placeholder
            elif spd.no_link:
                link_type, placeholder = LinkType.copy, None
            else:
                link_type, placeholder = requested_link_type, None
            if placeholder:
                actions.append(PrefixReplaceLinkAction(
                    tc, package_info, package_info.extracted_package_dir, spd.path, target_prefix,
                    target, requested_link_type, placeholder, spd.file_mode or "text", spd))
            else:
                actions.append(cls(tc, package_info, package_info.extracted_package_dir, spd.path,
                                   target_prefix, target, link_type, spd))
        return tuple(actions)

    @classmethod
    def create_directory_actions(cls, tc, package_info, target_prefix, requested_link_type, file_link_actions):
        leaves = get_leaf_directories(a.target_short_path for a in file_link_actions)
        return tuple(cls(tc, package_info, None, None, target_prefix, d, LinkType.directory, None) for d in leaves)

    def __init__(self, transaction_context, package_info, extracted_package_dir, source_short_path,
                 target_prefix, target_short_path, link_type, source_path_data):
        super().__init__(transaction_context, package_info, extracted_package_dir, source_short_path,
                         target_prefix, target_short_path)
        self.link_type = LinkType(link_type)
        self.source_path_data = source_path_data
        self.prefix_path_data: PathData | None = None
        self._created_dirs: list[str] = []
        self._clobber_hold: str | None = None

    def verify(self):
        from conda_deepdive.exceptions import CondaVerificationError, SafetyError

        if self.link_type == LinkType.directory:
            self._verified = True
            return None
        name = self.package_info.name
        if not os.path.lexists(self.source_full_path):
            return CondaVerificationError(
                f"The package for {name} located at {self.package_info.extracted_package_dir}\n"
                f"appears to be corrupted. The path '{self.source_short_path}'\n"
                f"specified in the package manifest cannot be found."
            )
        spd = self.source_path_data
        if self.link_type == LinkType.softlink or spd.path_type == "softlink":
            self.prefix_path_data = spd.replace(path_type="softlink", sha256_in_prefix=None)
        elif spd.path_type == "hardlink":
            if spd.size_in_bytes is not None and not os.path.islink(self.source_full_path):
                actual = os.path.getsize(self.source_full_path)
                if actual != spd.size_in_bytes:
                    return SafetyError(
                        f"The package for {name} located at {self.package_info.extracted_package_dir}\n"
                        f"appears to be corrupted. The path '{self.source_short_path}'\n"
                        f"has an incorrect size.\n  reported size: {spd.size_in_bytes} bytes\n"
                        f"  actual size: {actual} bytes"
                    )
                if spd.sha256 and _ctx(self.transaction_context, "extra_safety_checks", False):
                    actual_sha = sha256_file(self.source_full_path)
                    if actual_sha != spd.sha256:
                        return SafetyError(
                            f"The package for {name} located at {self.package_info.extracted_package_dir}\n"
                            f"appears to be corrupted. The path '{self.source_short_path}'\n"
                            f"has a sha256 mismatch.\n  reported sha256: {spd.sha256}\n"
                            f"  actual sha256: {actual_sha}"
                        )
            self.prefix_path_data = spd.replace(path_type="hardlink", sha256_in_prefix=spd.sha256)
        else:
            self.prefix_path_data = spd
        self._verified = True
        return None

    def _hold_existing(self) -> None:
        # conda's default path_conflict=clobber overwrites an existing file; we keep it aside
        # so that a rollback can put it back (conda cannot)
        target = self.target_full_path
        if os.path.lexists(target) and not (self.link_type == LinkType.directory and os.path.isdir(target)):
            self._clobber_hold = target + HOLD
            if os.path.lexists(self._clobber_hold):
                _rm(self._clobber_hold)
            os.replace(target, self._clobber_hold)
            self.transaction_context.setdefault("clobbered", []).append(self.target_short_path)

    def _place(self, source: str, link_type: LinkType) -> None:
        target = self.target_full_path
        if link_type == LinkType.hardlink:
            os.link(source, target)
        elif link_type == LinkType.softlink:
            os.symlink(source, target)
        elif os.path.islink(source):
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)

    def execute(self) -> None:
        target = self.target_full_path
        if self.link_type == LinkType.directory:
            self._created_dirs = _makedirs_tracking(target)
            self._execute_successful = True
            return
        self._created_dirs = _makedirs_tracking(os.path.dirname(target))
        self._hold_existing()
        self._place(self.source_full_path, self.link_type)
        self._execute_successful = True

    def reverse(self) -> None:
        if not self._execute_successful:
            return
        target = self.target_full_path
        if self.link_type != LinkType.directory and os.path.lexists(target):
            _rm(target) if not os.path.isdir(target) or os.path.islink(target) else None
        if self._clobber_hold and os.path.lexists(self._clobber_hold):
            os.replace(self._clobber_hold, target)
        _remove_empty_dirs(self._created_dirs, self.target_prefix)
        self._execute_successful = False

    def cleanup(self) -> None:
        if self._clobber_hold and os.path.lexists(self._clobber_hold):
            _rm(self._clobber_hold)


class PrefixReplaceLinkAction(LinkPathAction):
    """A file containing the build prefix: copied to ``<prefix>/.condatmp/<uuid>``, rewritten
    there during ``verify()`` (so a too-long prefix fails before anything is linked), then
    hard-linked (or copied) into place."""

    def __init__(self, transaction_context, package_info, extracted_package_dir, source_short_path,
                 target_prefix, target_short_path, link_type, prefix_placeholder, file_mode,
                 source_path_data):
        link_type = LinkType.copy if link_type == LinkType.copy else LinkType.hardlink
        super().__init__(transaction_context, package_info, extracted_package_dir, source_short_path,
                         target_prefix, target_short_path, link_type, source_path_data)
        self.prefix_placeholder = prefix_placeholder
        self.file_mode = file_mode
        self.intermediate_path: str | None = None

    def verify(self):
        from conda_deepdive.exceptions import PaddingError

        error = super().verify()
        if error:
            return error
        temp_dir = self.transaction_context["temp_dir"]
        os.makedirs(temp_dir, exist_ok=True)
        self.intermediate_path = os.path.join(temp_dir, str(uuid.uuid4()))
        shutil.copy2(self.source_full_path, self.intermediate_path)
        os.chmod(self.intermediate_path, os.stat(self.intermediate_path).st_mode | 0o200)
        new_prefix = _ctx(self.transaction_context, "target_prefix_override", "") or self.target_prefix
        with open(self.intermediate_path, "rb") as fh:
            data = fh.read()
        try:
            new = update_prefix_bytes(data, new_prefix, self.prefix_placeholder, self.file_mode)
        except PaddingTooShort:
            # conda raises (does not return) this one: verification stops here
            raise PaddingError(
                f"Placeholder of length '{len(self.prefix_placeholder)}' too short in package "
                f"{self.target_full_path}.\nThe package must be rebuilt with conda-build > 2.0."
            ) from None
        if new != data:
            with open(self.intermediate_path, "wb") as fh:
                fh.write(new)
        self.prefix_path_data = self.source_path_data.replace(
            path_type="hardlink", prefix_placeholder=self.prefix_placeholder, file_mode=self.file_mode,
            sha256_in_prefix=hashlib.sha256(new).hexdigest(),
        )
        self._verified = True
        return None

    def execute(self) -> None:
        if not self._verified:
            error = self.verify()
            if error:
                raise error
        self._created_dirs = _makedirs_tracking(os.path.dirname(self.target_full_path))
        self._hold_existing()
        self._place(self.intermediate_path or self.source_full_path, self.link_type)
        self._execute_successful = True


class MakeMenuAction(CreateInPrefixPathAction):
    """Start-menu shortcuts (menuinst). conda creates them on Windows; on Linux this stage
    creates no actions at all, which is what conda 26.7.1 did for the observed packages."""

    @classmethod
    def create_actions(cls, tc, package_info, target_prefix, requested_link_type):
        return ()

    def __init__(self, transaction_context, package_info, target_prefix, target_short_path):
        super().__init__(transaction_context, package_info, None, None, target_prefix, target_short_path)

    def execute(self) -> None:
        self._execute_successful = True  # nothing to do on Linux

    def reverse(self) -> None:
        self._execute_successful = False


class CreateNonadminAction(CreateInPrefixPathAction):
    """Windows only: touches ``<prefix>/.nonadmin`` when the root prefix has one. No-op here."""

    @classmethod
    def create_actions(cls, tc, package_info, target_prefix, requested_link_type):
        return ()

    def __init__(self, transaction_context, package_info, target_prefix):
        super().__init__(transaction_context, package_info, None, None, target_prefix, ".nonadmin")

    def execute(self) -> None:
        self._execute_successful = True

    def reverse(self) -> None:
        self._execute_successful = False


class MultiPathAction(PathAction, ABC):
    """An action on several paths at once (only pyc compilation is one)."""


_NOARCH_PY = re.compile(r"^site-packages[/\\][^\t\n\r\f\v]+\.py$")


class CompileMultiPycAction(MultiPathAction):
    """Byte-compile the ``.py`` files of one ``noarch: python`` package (recorded as ``pyc_file``)."""

    @classmethod
    def create_actions(cls, tc, package_info, target_prefix, requested_link_type, file_link_actions):
        if package_info.noarch != "python":
            return ()
        py_version = tc["target_python_version"]
        py_files = tuple(a.target_short_path for a in file_link_actions
                         if a.source_short_path and _NOARCH_PY.match(a.source_short_path))
        pyc_files = tuple(pyc_path(p, py_version) for p in py_files)
        return (cls(tc, package_info, target_prefix, py_files, pyc_files),)

    def __init__(self, transaction_context, package_info, target_prefix, source_short_paths, target_short_paths):
        self.transaction_context = transaction_context
        self.package_info = package_info
        self.target_prefix = target_prefix
        self.source_short_paths = tuple(source_short_paths)
        self.target_short_paths = tuple(target_short_paths)
        self.prefix_paths_data = [PathData(p, "pyc_file") for p in self.target_short_paths]
        self._new_pycache_dirs: list[str] = []

    @property
    def target_label(self) -> str:
        return f"{len(self.target_short_paths)} .pyc files"

    def verify(self):
        self._verified = True
        return None

    def cleanup(self) -> None:
        pass

    def execute(self) -> None:
        tc = self.transaction_context
        python = os.path.join(self.target_prefix, python_short_path(tc["target_python_version"]))
        pycache = {os.path.join(self.target_prefix, os.path.dirname(p)) for p in self.target_short_paths}
        self._new_pycache_dirs = [d for d in pycache if not os.path.lexists(d)]
        self._execute_successful = True
        if not self.source_short_paths:
            return
        if not os.path.exists(python):
            tc.setdefault("notes", []).append(f"no {python}: .pyc files not compiled")
            return
        fd, listing = tempfile.mkstemp(prefix="deepdive-pyc-", suffix=".txt")
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(sorted(self.source_short_paths)) + "\n")
        # conda: <prefix>/bin/pythonX.Y -Wi -m compileall -q -l -i <file> -j 0, cwd = prefix,
        # relative paths (so co_filename is "lib/python3.11/…")
        command = [python, "-Wi", "-m", "compileall", "-q", "-l", "-i", listing, "-j", "0"]
        try:
            proc = subprocess.run(command, cwd=self.target_prefix, capture_output=True, text=True,
                                  env=tc.get("script_env"))
        finally:
            os.unlink(listing)
        tc["compile_command"] = command[:7] + ["<file list>"] + command[8:]
        if proc.returncode != 0:  # conda logs and carries on: a pyc is only an optimisation
            tc.setdefault("notes", []).append(f"compileall exited {proc.returncode}: {proc.stderr.strip()[:500]}")

    def reverse(self) -> None:
        if not self._execute_successful:
            return
        for p in self.target_short_paths:
            full = os.path.join(self.target_prefix, p)
            if os.path.lexists(full):
                os.unlink(full)
        _remove_empty_dirs(self._new_pycache_dirs, self.target_prefix)
        self._execute_successful = False


class AggregateCompileMultiPycAction(CompileMultiPycAction):
    """All packages' pyc work as **one** ``compileall`` run (faster, and what conda does)."""

    def __init__(self, *individuals: CompileMultiPycAction):
        self._individuals = individuals
        first = individuals[0]
        sources, targets = [], []
        for ind in individuals:
            sources.extend(ind.source_short_paths)
            targets.extend(ind.target_short_paths)
        super().__init__(first.transaction_context, first.package_info, first.target_prefix,
                         tuple(dict.fromkeys(sources)), tuple(dict.fromkeys(targets)))

    @property
    def package_name(self) -> str | None:
        return None

    def execute(self) -> None:
        super().execute()
        for ind in self._individuals:  # the records are written from the individual actions
            for pd in ind.prefix_paths_data:
                full = os.path.join(self.target_prefix, pd.path)
                pd.size_in_bytes = os.path.getsize(full) if os.path.exists(full) else None


class CreatePythonEntryPointAction(CreateInPrefixPathAction):
    """Write ``bin/<command>`` for one ``console_scripts`` entry point of a noarch: python package."""

    @classmethod
    def create_actions(cls, tc, package_info, target_prefix, requested_link_type):
        if package_info.noarch != "python":
            return ()
        actions = []
        for definition in package_info.entry_points:
            command, module, func = parse_entry_point_def(definition)
            target = f"{BIN_DIRECTORY}/{command}"
            if not os.path.normpath(target).startswith(BIN_DIRECTORY + os.sep):
                raise ValueError(f"target_short_path must point to {BIN_DIRECTORY}: {target!r}")
            actions.append(cls(tc, package_info, target_prefix, target, module, func))
        return tuple(actions)

    def __init__(self, transaction_context, package_info, target_prefix, target_short_path, module, func):
        super().__init__(transaction_context, package_info, None, None, target_prefix, target_short_path)
        self.module = module
        self.func = func
        self.prefix_path_data = PathData(target_short_path, "unix_python_entry_point")
        self._clobber_hold: str | None = None

    def execute(self) -> None:
        tc = self.transaction_context
        prefix = _ctx(tc, "target_prefix_override", "") or self.target_prefix
        python = os.path.join(prefix, python_short_path(tc["target_python_version"]))
        if os.path.lexists(self.target_full_path):
            self._clobber_hold = self.target_full_path + HOLD
            os.replace(self.target_full_path, self._clobber_hold)
        write_entry_point(self.target_full_path, python, self.module, self.func)
        self.prefix_path_data.size_in_bytes = os.path.getsize(self.target_full_path)
        self._execute_successful = True

    def reverse(self) -> None:
        if self._execute_successful and os.path.lexists(self.target_full_path):
            os.unlink(self.target_full_path)
        if self._clobber_hold and os.path.lexists(self._clobber_hold):
            os.replace(self._clobber_hold, self.target_full_path)
        self._execute_successful = False

    def cleanup(self) -> None:
        if self._clobber_hold and os.path.lexists(self._clobber_hold):
            os.unlink(self._clobber_hold)


def _write_json_atomic(path: str, data: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


class CreatePrefixRecordAction(CreateInPrefixPathAction):
    """Write ``conda-meta/<dist>.json``: the record, the files and how each was linked."""

    @classmethod
    def create_actions(cls, tc, package_info, target_prefix, requested_link_type, requested_spec,
                       all_link_path_actions):
        target = f"conda-meta/{package_info.dist_name}.json"
        return (cls(tc, package_info, target_prefix, target, requested_link_type, requested_spec,
                    all_link_path_actions),)

    def __init__(self, transaction_context, package_info, target_prefix, target_short_path,
                 requested_link_type, requested_spec, all_link_path_actions):
        super().__init__(transaction_context, package_info, None, None, target_prefix, target_short_path)
        self.requested_link_type = LinkType(requested_link_type)
        self.requested_spec = requested_spec
        self.all_link_path_actions = list(all_link_path_actions)
        self.prefix_record: dict | None = None

    def build_record(self) -> dict:
        """The conda-meta JSON, with the keys in the order conda 26.7.1 writes them."""
        info = self.package_info
        files: list[str] = []
        paths: list[dict] = []
        for action in self.all_link_path_actions:
            if isinstance(action, CompileMultiPycAction):
                files.extend(action.target_short_paths)
                paths.extend(pd.to_dict() for pd in action.prefix_paths_data)
                continue
            if getattr(action, "link_type", None) == LinkType.directory:
                continue
            if isinstance(action, CreateInPrefixPathAction):
                files.append(action.target_short_path)
            pd = getattr(action, "prefix_path_data", None)
            if pd is not None:
                paths.append(pd.to_dict())
        with open(os.path.join(info.extracted_package_dir, "info", "repodata_record.json"), encoding="utf-8") as fh:
            cached = json.load(fh)
        record = {k: v for k, v in record_dump(cached, keep_arch_platform=False).items()
                  if k not in ("arch", "platform")}
        spec = self.requested_spec
        if spec:
            record["requested_spec"] = str(spec)
        else:
            record["_requested_specs"] = []
        record["package_tarball_full_path"] = info.package_tarball_full_path
        record["extracted_package_dir"] = info.extracted_package_dir
        record["files"] = files
        record["paths_data"] = {"paths_version": 1, "paths": paths}
        record["link"] = {"source": info.extracted_package_dir, "type": int(self.requested_link_type)}
        if spec:
            record["requested_specs"] = [str(spec)]
        return record

    def execute(self) -> None:
        self.prefix_record = self.build_record()
        _write_json_atomic(self.target_full_path, self.prefix_record)
        self._execute_successful = True

    def reverse(self) -> None:
        if self._execute_successful and os.path.lexists(self.target_full_path):
            os.unlink(self.target_full_path)
        self._execute_successful = False


class UpdateHistoryAction(CreateInPrefixPathAction):
    """Append one revision to ``conda-meta/history`` (and write ``created_at`` for a new env)."""

    @classmethod
    def create_actions(cls, tc, target_prefix, remove_specs, update_specs, neutered_specs):
        return (cls(tc, target_prefix, "conda-meta/history", remove_specs, update_specs, neutered_specs),)

    def __init__(self, transaction_context, target_prefix, target_short_path, remove_specs,
                 update_specs, neutered_specs):
        super().__init__(transaction_context, None, None, None, target_prefix, target_short_path)
        self.remove_specs = tuple(remove_specs or ())
        self.update_specs = tuple(update_specs or ())
        self.neutered_specs = tuple(neutered_specs or ())
        self.hold_path = self.target_full_path + HOLD
        self._created_history = False
        self._created_at: str | None = None

    def execute(self) -> None:
        from conda_deepdive.history import History

        tc = self.transaction_context
        if os.path.lexists(self.target_full_path):
            shutil.copy2(self.target_full_path, self.hold_path)
        else:
            self._created_history = True
            created_at = os.path.join(self.target_prefix, "conda-meta", "created_at")
            if not os.path.lexists(created_at):
                os.makedirs(os.path.dirname(created_at), exist_ok=True)
                with open(created_at, "w") as fh:
                    fh.write(str(time.time()))
                self._created_at = created_at
        self._execute_successful = True
        setup = tc["prefix_setups"][self.target_prefix]
        tc.setdefault("history_text", {})[self.target_prefix] = History(self.target_prefix).write_changes(
            setup["unlink_dists"], setup["link_dists"], tc.get("cmd", ""),
            update_specs=self.update_specs, remove_specs=self.remove_specs,
            neutered_specs=self.neutered_specs,
        )

    def reverse(self) -> None:
        if not self._execute_successful:
            return
        if os.path.lexists(self.hold_path):
            os.replace(self.hold_path, self.target_full_path)
        elif self._created_history and os.path.lexists(self.target_full_path):
            os.unlink(self.target_full_path)
        if self._created_at and os.path.lexists(self._created_at):
            os.unlink(self._created_at)
        self._execute_successful = False

    def cleanup(self) -> None:
        if os.path.lexists(self.hold_path):
            os.unlink(self.hold_path)


def _environments_txt(tc: dict) -> str | None:
    return tc.get("environments_txt")


class RegisterEnvironmentLocationAction(PathAction):
    """Add the prefix to ``~/.conda/environments.txt`` (what ``conda env list`` reads).
    conda never undoes this; conda-deepdive removes the line again on rollback."""

    def __init__(self, transaction_context, target_prefix):
        self.transaction_context = transaction_context
        self.target_prefix = target_prefix
        self._added = False

    @property
    def target_full_path(self):
        return _environments_txt(self.transaction_context)

    def verify(self):
        self._verified = True
        return None

    def execute(self) -> None:
        path = self.target_full_path
        self._execute_successful = True
        if not path:
            return
        lines = _read_lines(path)
        if self.target_prefix not in lines:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as fh:
                fh.write(self.target_prefix + "\n")
            self._added = True

    def reverse(self) -> None:
        if self._added and self.target_full_path:
            _write_lines(self.target_full_path, [l for l in _read_lines(self.target_full_path) if l != self.target_prefix])
            self._added = False
        self._execute_successful = False

    def cleanup(self) -> None:
        pass


def _read_lines(path: str) -> list[str]:
    try:
        with open(path) as fh:
            return [line.rstrip("\n") for line in fh if line.strip()]
    except FileNotFoundError:
        return []


def _write_lines(path: str, lines: list[str]) -> None:
    with open(path, "w") as fh:
        fh.writelines(line + "\n" for line in lines)


# =============================================================================================
# removing paths


class RemoveFromPrefixPathAction(PrefixPathAction, ABC):
    """Removes one path of an installed package (``linked_package_data``: its conda-meta dict)."""

    def __init__(self, transaction_context, linked_package_data, target_prefix, target_short_path):
        super().__init__(transaction_context, target_prefix, target_short_path)
        self.linked_package_data = linked_package_data

    def verify(self):
        # whether a path can be removed is only known by trying; a failure triggers the rollback
        self._verified = True
        return None


class UnlinkPathAction(RemoveFromPrefixPathAction):
    """Rename ``path`` to ``path.c~`` now; delete it (and emptied parents) in ``cleanup()``."""

    def __init__(self, transaction_context, linked_package_data, target_prefix, target_short_path,
                 link_type=LinkType.hardlink):
        super().__init__(transaction_context, linked_package_data, target_prefix, target_short_path)
        self.holding_short_path = target_short_path + HOLD
        self.holding_full_path = self.target_full_path + HOLD
        self.link_type = LinkType(link_type)

    def execute(self) -> None:
        if self.link_type != LinkType.directory and os.path.lexists(self.target_full_path):
            if os.path.lexists(self.holding_full_path):
                _rm(self.holding_full_path)
            os.replace(self.target_full_path, self.holding_full_path)
        self._execute_successful = True

    def reverse(self) -> None:
        if self.link_type != LinkType.directory and os.path.lexists(self.holding_full_path):
            os.replace(self.holding_full_path, self.target_full_path)
        self._execute_successful = False

    def cleanup(self) -> None:
        # os.path.isdir follows symlinks: a renamed *directory symlink* is therefore never
        # deleted and "<dir>.c~" stays behind — conda 26.7.1 does exactly this (a conda bug).
        if not os.path.isdir(self.holding_full_path):
            if os.path.lexists(self.holding_full_path):
                os.unlink(self.holding_full_path)
            parent = os.path.dirname(self.holding_full_path)
            prefix = os.path.abspath(self.target_prefix)
            while os.path.abspath(parent).startswith(prefix + os.sep):
                try:
                    if os.path.isdir(parent) and not os.path.islink(parent) and not os.listdir(parent):
                        os.rmdir(parent)
                    else:
                        break
                except OSError:
                    break
                parent = os.path.dirname(parent)


class RemoveMenuAction(RemoveFromPrefixPathAction):
    """Windows start-menu removal; on Linux no actions are created."""

    @classmethod
    def create_actions(cls, tc, linked_package_data, target_prefix):
        return ()

    def execute(self) -> None:
        self._execute_successful = True

    def reverse(self) -> None:
        self._execute_successful = False

    def cleanup(self) -> None:
        pass


class RemoveLinkedPackageRecordAction(UnlinkPathAction):
    """Rename ``conda-meta/<dist>.json`` away: from now on the package is not installed."""


class UnregisterEnvironmentLocationAction(PathAction):
    """Drop the prefix from ``environments.txt`` once no package record is left in it."""

    def __init__(self, transaction_context, target_prefix):
        self.transaction_context = transaction_context
        self.target_prefix = target_prefix
        self._removed = False

    @property
    def target_full_path(self):
        return _environments_txt(self.transaction_context)

    def verify(self):
        self._verified = True
        return None

    def execute(self) -> None:
        self._execute_successful = True
        path = self.target_full_path
        meta = os.path.join(self.target_prefix, "conda-meta")
        if not path or (os.path.isdir(meta) and any(f.endswith(".json") for f in os.listdir(meta))):
            return
        lines = _read_lines(path)
        if self.target_prefix in lines:
            _write_lines(path, [line for line in lines if line != self.target_prefix])
            self._removed = True

    def reverse(self) -> None:
        if self._removed and self.target_full_path:
            with open(self.target_full_path, "a") as fh:
                fh.write(self.target_prefix + "\n")
            self._removed = False
        self._execute_successful = False

    def cleanup(self) -> None:
        pass


# =============================================================================================


def class_tree(root: type = PathAction) -> dict:
    """The action class hierarchy as a nested dict ``{"PathAction": {"PrefixPathAction": {…}}}``."""

    def children(cls: type) -> dict:
        return {sub.__name__: children(sub) for sub in cls.__subclasses__()
                if sub.__module__ == __name__}

    return {root.__name__: children(root)}
