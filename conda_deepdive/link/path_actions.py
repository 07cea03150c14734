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

The tree spans three modules, read top to bottom, each importing only the ones above it: this
one (base classes and linking),
:mod:`conda_deepdive.link.generated_actions` (pyc, entry points, records, history, registration) and
:mod:`conda_deepdive.link.unlink_actions` (removal); :mod:`conda_deepdive.link.action_tree` shows
the whole tree.

Safety: a package is untrusted. ``verify()`` follows every parent directory of every target
through the symlinks already in the prefix *and* those the transaction is about to create, and
refuses (``CondaVerificationError``) a file that would land outside the prefix — package A
shipping ``m -> a/b/c/l/../..`` and package B shipping ``m/x`` is caught before anything
changes; ``execute()`` checks again just before writing. An absolute symlink in a package is
written as a copy of its target, as conda does (only relative symlinks stay links).

What to notice: removal is a *rename* to ``<path>.c~`` (cheap to reverse); the ``.c~`` files are
deleted only in ``cleanup()``. Where conda cannot undo something (a clobbered file, a
``__pycache__`` directory, an empty directory it created) conda-deepdive does, so a rolled-back
prefix is byte-identical to what it was — the docstrings say where that differs from conda.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from stat import S_ISLNK, S_ISREG

from conda_deepdive.link.entry_points import noarch_python_target_path
from conda_deepdive.link.link import LinkType, PathData, get_leaf_directories
from conda_deepdive.link.prefix_replace import PaddingTooShort, update_prefix_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

HOLD = ".c~"  # conda's CONDA_TEMP_EXTENSION

__all__ = [
    "PathAction", "PrefixPathAction", "CreateInPrefixPathAction", "LinkPathAction",
    "PrefixReplaceLinkAction", "MakeMenuAction", "CreateNonadminAction", "sha256_file",
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


def _makedirs_tracking(path: str, created: list[str] | None = None) -> list[str]:
    """``mkdir -p`` that returns the directories it really created (outermost first).

    Each directory is appended to ``created`` as soon as it exists, so an action interrupted
    half-way (a full disk, Ctrl-C) still knows what to remove on rollback."""
    created = [] if created is None else created
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
        created.append(d)
    return created


def _remove_empty_dirs(dirs, stop_at: str) -> None:
    for d in sorted(dirs, key=len, reverse=True):
        if os.path.abspath(d) == os.path.abspath(stop_at):
            continue
        try:
            if os.path.isdir(d) and not os.path.islink(d) and not os.listdir(d):
                os.rmdir(d)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# never through a symlink that leads out of the prefix


_MAX_SYMLINKS = 40  # what the kernel allows when it resolves one path (ELOOP after that)


def _inside(root_real: str, path: str) -> bool:
    return path == root_real or path.startswith(root_real.rstrip("/") + "/")


def _walk(prefix_real: str, start: str, components, planned: dict, budget: list) -> str | None:
    """Follow ``components`` from ``start`` the way the kernel would, one component at a time,
    through symlinks that exist in the prefix *and* symlinks this transaction will create
    (``planned``: short path -> relative target). Returns the real directory reached, or None as
    soon as a step leaves the prefix (or the symlinks loop)."""
    cur = start
    for part in components:
        if part in ("", "."):
            continue
        if part == "..":
            cur = os.path.dirname(cur)
            if not _inside(prefix_real, cur):
                return None
            continue
        nxt = os.path.join(cur, part)
        target = planned.get(os.path.relpath(nxt, prefix_real)) if planned else None
        if target is None:
            try:
                st = os.lstat(nxt)
            except OSError:
                st = None  # not there (yet): it will be created as a real directory
            if st is not None and S_ISLNK(st.st_mode):
                target = os.readlink(nxt)
        if target is None:
            cur = nxt
            continue
        budget[0] -= 1
        if budget[0] < 0:
            return None
        if target.startswith("/"):
            cur = os.path.realpath(target)
            if not _inside(prefix_real, cur):
                return None
        else:
            cur = _walk(prefix_real, cur, target.split("/"), planned, budget)
            if cur is None:
                return None
    return cur


def resolves_inside(prefix: str, short_dir: str, planned: dict | None = None) -> bool:
    """Does the directory ``<prefix>/<short_dir>`` lead to a place inside the prefix, given the
    symlinks on disk and the (relative) ones in ``planned``?"""
    prefix_real = os.path.realpath(prefix)
    return _walk(prefix_real, prefix_real, short_dir.split("/"), planned or {}, [_MAX_SYMLINKS]) is not None


def _escape_error(package: str | None, short_path: str):
    from conda_deepdive.exceptions import CondaVerificationError

    return CondaVerificationError(
        f"The package {package} would write '{short_path}' through a symlink that leads "
        f"outside the prefix; refusing to link it."
    )


def escape_once(tc: dict, error: BaseException) -> BaseException | None:
    """The first escape a transaction finds is its one error line; the others (the files under
    the same symlink, the entry points, the pyc) are consequences and stay quiet (None)."""
    if tc.get("_escape_reported"):
        return None
    tc["_escape_reported"] = True
    return error


def check_parent_inside(tc: dict, prefix: str, short_path: str, package: str | None,
                        whole: bool = False) -> None:
    """Raise unless every parent directory of ``short_path`` (with ``whole``: the path itself too)
    resolves inside ``prefix`` *now*. Checked directories are remembered in the transaction
    context until the next symlink is created (:func:`forget_checked_dirs`)."""
    directory = short_path if whole else short_path.rpartition("/")[0]
    if not directory:
        return
    checked = tc.setdefault("_dirs_inside", {}).setdefault(prefix, set())
    if directory in checked:
        return
    if not resolves_inside(prefix, directory):
        raise _escape_error(package, short_path)
    checked.add(directory)


def forget_checked_dirs(tc: dict) -> None:
    """A symlink was just created: directories checked before may now resolve elsewhere."""
    tc.pop("_dirs_inside", None)


def planned_symlinks(tc: dict, prefix: str) -> dict:
    """``{short path: relative target}`` of the symlinks the transaction will create in ``prefix``
    (filled while the link actions are made; read by ``verify``)."""
    return tc.setdefault("_planned_symlinks", {}).setdefault(prefix, {})


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
                try:
                    points_to = os.readlink(os.path.join(package_info.extracted_package_dir, spd.path))
                except (OSError, ValueError):
                    points_to = None
                if points_to and not points_to.startswith("/"):  # absolute ones become copies
                    planned_symlinks(tc, target_prefix)[os.path.normpath(target)] = points_to
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
        # half-done state, for reverse() after a failure *inside* execute() (full disk, Ctrl-C):
        # _fast_tried = the one-call link was attempted (the target may or may not be ours);
        # _holding = an existing target is being set aside as <path>.c~;
        # _placing = from here on, whatever is at the target was put there by this action
        self._fast_tried = self._holding = self._placing = False

    def verify(self):
        from conda_deepdive.exceptions import CondaVerificationError, SafetyError

        name = self.package_info.name
        directory = (self.target_short_path if self.link_type == LinkType.directory
                     else self.target_short_path.rpartition("/")[0])
        inside = True
        if directory:
            # one answer per directory: nothing on disk changes during verify, and the planned
            # symlinks are all known once the actions exist
            memo = self.transaction_context.setdefault("_verify_dirs", {}).setdefault(self.target_prefix, {})
            inside = memo.get(directory)
            if inside is None:
                planned = planned_symlinks(self.transaction_context, self.target_prefix)
                inside = memo[directory] = resolves_inside(self.target_prefix, directory, planned)
        if not inside:  # (returning None for the quiet ones: the transaction fails on the first)
            return escape_once(self.transaction_context, _escape_error(name, self.target_short_path))
        if self.link_type == LinkType.directory:
            self._verified = True
            return None
        source = self.source_full_path
        try:
            # one lstat answers "does it exist", "is it a symlink" and "how big" at once
            st = os.lstat(source)
        except (OSError, ValueError):
            st = None
        if st is None:
            return CondaVerificationError(
                f"The package for {name} located at {self.package_info.extracted_package_dir}\n"
                f"appears to be corrupted. The path '{self.source_short_path}'\n"
                f"specified in the package manifest cannot be found."
            )
        spd = self.source_path_data
        if not S_ISLNK(st.st_mode) and not S_ISREG(st.st_mode):
            return CondaVerificationError(  # a directory (or worse) where the manifest says file
                f"The package {name} lists '{self.source_short_path}' as a file, but in the "
                f"package it is not a regular file or symlink; refusing to link it."
            )
        if S_ISLNK(st.st_mode) and spd.path_type != "softlink":
            # os.link() would follow it and hard-link whatever it points at, maybe outside
            return CondaVerificationError(
                f"The package {name} lists '{self.source_short_path}' as a {spd.path_type} file, "
                f"but in the package it is a symlink; refusing to link it."
            )
        if S_ISLNK(st.st_mode) and spd.path_type == "softlink" and self.link_type != LinkType.softlink:
            points_to = os.readlink(source)
            if points_to.startswith("/"):
                # conda keeps only relative symlinks as links and copies an absolute one's target
                try:
                    is_file = S_ISREG(os.stat(source).st_mode)
                except OSError:
                    is_file = False
                if not is_file:
                    return CondaVerificationError(
                        f"The package {name} ships '{self.source_short_path}' -> '{points_to}': "
                        f"conda copies an absolute symlink's target, and that is not a file here."
                    )
            else:
                # a relative symlink must lead somewhere inside the prefix *as it really resolves*
                # there (site-packages sits deeper in the prefix than in the package, and a chain
                # like m -> a/b/c/l/../.. reads as inside while it leads out)
                prefix_real = os.path.realpath(self.target_prefix)
                planned = planned_symlinks(self.transaction_context, self.target_prefix)
                where = self.target_short_path.rpartition("/")[0]
                if _walk(prefix_real, prefix_real, f"{where}/{points_to}".split("/"), planned,
                         [_MAX_SYMLINKS]) is None:
                    return escape_once(self.transaction_context, CondaVerificationError(
                        f"The package {name} ships '{self.target_short_path}' -> '{points_to}', a "
                        f"symlink that leads outside the prefix; refusing to link it."
                    ))
        if self.link_type == LinkType.softlink or spd.path_type == "softlink":
            self.prefix_path_data = spd.replace(path_type="softlink", sha256_in_prefix=None)
        elif spd.path_type == "hardlink":
            if spd.size_in_bytes is not None and not S_ISLNK(st.st_mode):
                actual = st.st_size  # not a symlink, so the same as os.path.getsize()
                if actual != spd.size_in_bytes:
                    return SafetyError(
                        f"The package for {name} located at {self.package_info.extracted_package_dir}\n"
                        f"appears to be corrupted. The path '{self.source_short_path}'\n"
                        f"has an incorrect size.\n  reported size: {spd.size_in_bytes} bytes\n"
                        f"  actual size: {actual} bytes"
                    )
                if spd.sha256 and _ctx(self.transaction_context, "extra_safety_checks", False):
                    actual_sha = sha256_file(source)
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

    def describe(self) -> dict:
        # the generic describe() for the one action class that runs once per file
        info = self.package_info
        return {"action": type(self).__name__, "target": self.target_short_path or self.target_prefix,
                "package": info.name if info is not None else None, "link_type": self.link_type._name_}

    def _hold_existing(self) -> None:
        # conda's default path_conflict=clobber overwrites an existing file; we keep it aside
        # so that a rollback can put it back (conda cannot)
        target = self.target_full_path
        if os.path.lexists(target) and not (self.link_type == LinkType.directory and os.path.isdir(target)):
            hold = target + HOLD
            if os.path.lexists(hold):
                _rm(hold)
            self._holding = True  # no stale <path>.c~ is left: one that appears from now is ours
            os.replace(target, hold)
            self._clobber_hold = hold
            self.transaction_context.setdefault("clobbered", []).append(self.target_short_path)

    def _place(self, source: str, link_type: LinkType) -> None:
        target = self.target_full_path
        if link_type == LinkType.hardlink:
            os.link(source, target, follow_symlinks=False)
        elif link_type == LinkType.softlink:
            os.symlink(source, target)
            forget_checked_dirs(self.transaction_context)
        elif os.path.islink(source) and not os.readlink(source).startswith("/"):
            os.symlink(os.readlink(source), target)  # relative symlinks stay symlinks (as conda)
            forget_checked_dirs(self.transaction_context)
        else:
            # a file, or an absolute symlink: conda writes a copy of what it points at
            # (gateways/disk/create.py: copy() keeps only relative symlinks as links)
            shutil.copy2(source, target)

    def execute(self) -> None:
        target = self.target_full_path
        link_type = self.link_type
        check_parent_inside(self.transaction_context, self.target_prefix, self.target_short_path,
                            self.package_name, whole=link_type == LinkType.directory)
        if link_type == LinkType.directory:
            _makedirs_tracking(target, self._created_dirs)
            self._execute_successful = True
            return
        if link_type == LinkType.hardlink or link_type == LinkType.softlink:
            # the common case — the directory exists and nothing is in the way — costs one system
            # call; if the link fails for any reason nothing has changed yet, and the careful
            # sequence below (create directories, hold a clobbered file, link) runs instead
            self._fast_tried = True
            try:
                if link_type == LinkType.hardlink:
                    os.link(self.source_full_path, target, follow_symlinks=False)
                else:
                    os.symlink(self.source_full_path, target)
                    forget_checked_dirs(self.transaction_context)
            except OSError:
                pass
            else:
                self._created_dirs = []
                self._execute_successful = True
                return
        _makedirs_tracking(os.path.dirname(target), self._created_dirs)
        self._hold_existing()
        self._placing = True  # the target is free now: anything that appears there is ours
        self._place(self.source_full_path, self.link_type)
        self._execute_successful = True

    def _target_is_ours(self) -> bool:
        """After an interrupted fast path: is the target the link this action made?"""
        target, source = self.target_full_path, self.source_full_path
        try:
            if self.link_type == LinkType.hardlink:
                return os.path.samefile(source, target) and not os.path.islink(target)
            if self.link_type == LinkType.softlink:
                return os.path.islink(target) and os.readlink(target) == source
        except OSError:
            return False
        return False

    def reverse(self) -> None:
        """Undo execute() — also when it stopped half-way: a partial copy left by a full disk is
        removed, a file set aside as ``<path>.c~`` goes back, created directories go."""
        done = self._execute_successful
        if not (done or self._placing or self._holding or self._fast_tried or self._created_dirs):
            return  # never started
        target = self.target_full_path
        if self.link_type != LinkType.directory and os.path.lexists(target) and (
                done or self._placing or (self._fast_tried and not self._holding and self._target_is_ours())):
            _rm(target)
        hold = target + HOLD
        if (self._clobber_hold or self._holding) and os.path.lexists(hold) and not os.path.lexists(target):
            os.replace(hold, target)
        _remove_empty_dirs(self._created_dirs, self.target_prefix)
        self._execute_successful = False
        self._fast_tried = self._holding = self._placing = False
        self._created_dirs = []

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
        from conda_deepdive.exceptions import os_error

        temp_dir = self.transaction_context["temp_dir"]
        if os.path.islink(temp_dir):  # never let a package-made .condatmp symlink redirect the copy
            return _escape_error(self.package_name, os.path.basename(temp_dir))
        try:
            os.makedirs(temp_dir, exist_ok=True)
            self.intermediate_path = os.path.join(temp_dir, str(uuid.uuid4()))
            shutil.copy2(self.source_full_path, self.intermediate_path)
            os.chmod(self.intermediate_path, os.stat(self.intermediate_path).st_mode | 0o200)
            with open(self.intermediate_path, "rb") as fh:
                data = fh.read()
        except OSError as exc:  # a full disk: one documented error, not a traceback
            raise os_error(exc, self.intermediate_path or temp_dir) from exc
        new_prefix = _ctx(self.transaction_context, "target_prefix_override", "") or self.target_prefix
        try:
            new = update_prefix_bytes(data, new_prefix, self.prefix_placeholder, self.file_mode)
        except PaddingTooShort:
            # conda raises (does not return) this one: verification stops here
            raise PaddingError(
                f"Placeholder of length '{len(self.prefix_placeholder)}' too short in package "
                f"{self.target_full_path}.\nThe package must be rebuilt with conda-build > 2.0."
            ) from None
        if new != data:
            try:
                with open(self.intermediate_path, "wb") as fh:
                    fh.write(new)
            except OSError as exc:
                raise os_error(exc, self.intermediate_path) from exc
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
        check_parent_inside(self.transaction_context, self.target_prefix, self.target_short_path,
                            self.package_name)
        _makedirs_tracking(os.path.dirname(self.target_full_path), self._created_dirs)
        self._hold_existing()
        self._placing = True
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
