"""The PathActions that *generate* paths instead of linking them (``conda.core.path_actions``, continued).

* :class:`CompileMultiPycAction` / :class:`AggregateCompileMultiPycAction` — byte code for
  ``noarch: python`` packages, produced by **one** ``compileall`` run of the prefix's own python
  (``-Wi -m compileall -q -l -i <list> -j 0``, cwd = prefix, relative paths);
* :class:`CreatePythonEntryPointAction` — ``bin/<command>`` scripts;
* :class:`CreatePrefixRecordAction` — ``conda-meta/<dist>.json``, keys in conda 26.7.1's order;
* :class:`UpdateHistoryAction` — ``conda-meta/history`` (and ``created_at`` for a new env);
* :class:`RegisterEnvironmentLocationAction` — ``~/.conda/environments.txt``.

What to notice: generated files have no sha256 in the package, so their ``paths_data`` entries
carry only ``size_in_bytes`` — measured after the file exists.

Import them from here: this module builds on :mod:`conda_deepdive.link.path_actions` (the base
classes), and :mod:`conda_deepdive.link.unlink_actions` builds on this one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from abc import ABC
from json.encoder import encode_basestring_ascii as _enc
from collections.abc import Callable

from conda_deepdive.link.entry_points import (
    BIN_DIRECTORY,
    parse_entry_point_def,
    pyc_path,
    python_short_path,
    write_entry_point,
)
from conda_deepdive.link.link import LinkType, PathData
from conda_deepdive.fetch.package_cache import record_dump
from conda_deepdive.link.path_actions import (
    HOLD,
    CreateInPrefixPathAction,
    PathAction,
    _ctx,
    _escape_error,
    _remove_empty_dirs,
    check_parent_inside,
    escape_once,
    planned_symlinks,
    resolves_inside,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "MultiPathAction", "CompileMultiPycAction", "AggregateCompileMultiPycAction",
    "CreatePythonEntryPointAction", "CreatePrefixRecordAction", "UpdateHistoryAction",
    "RegisterEnvironmentLocationAction",
]


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
        # compileall writes into <dir>/__pycache__/: a package-made __pycache__ symlink must not
        # lead it (or a rollback's unlink) outside the prefix
        planned = planned_symlinks(self.transaction_context, self.target_prefix)
        for directory in dict.fromkeys(p.rpartition("/")[0] for p in self.target_short_paths):
            if directory and not resolves_inside(self.target_prefix, directory, planned):
                return escape_once(self.transaction_context, _escape_error(self.package_name, f"{directory}/"))
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

    def verify(self):
        # bin/ itself may be (or become, in this transaction) a symlink a package made
        planned = planned_symlinks(self.transaction_context, self.target_prefix)
        if not resolves_inside(self.target_prefix, BIN_DIRECTORY, planned):
            return escape_once(self.transaction_context, _escape_error(self.package_name, self.target_short_path))
        self._verified = True
        return None

    def execute(self) -> None:
        tc = self.transaction_context
        prefix = _ctx(tc, "target_prefix_override", "") or self.target_prefix
        python = os.path.join(prefix, python_short_path(tc["target_python_version"]))
        check_parent_inside(tc, self.target_prefix, self.target_short_path, self.package_name)
        if os.path.lexists(self.target_full_path):
            self._clobber_hold = self.target_full_path + HOLD
            os.replace(self.target_full_path, self._clobber_hold)
        self._writing = True  # a half-written entry point (full disk, Ctrl-C) is ours to remove
        write_entry_point(self.target_full_path, python, self.module, self.func)
        self.prefix_path_data.size_in_bytes = os.path.getsize(self.target_full_path)
        self._execute_successful = True

    def reverse(self) -> None:
        if (self._execute_successful or getattr(self, "_writing", False)) and os.path.lexists(self.target_full_path):
            os.unlink(self.target_full_path)
        self._writing = False
        if self._clobber_hold and os.path.lexists(self._clobber_hold):
            os.replace(self._clobber_hold, self.target_full_path)
        self._execute_successful = False

    def cleanup(self) -> None:
        if self._clobber_hold and os.path.lexists(self._clobber_hold):
            os.unlink(self._clobber_hold)


def _json_indent2(obj: Any, level: int = 0) -> str:
    """``json.dumps(obj, indent=2)``, byte for byte, but several times faster for big records (the
    stdlib falls back to its pure-Python encoder whenever ``indent`` is set). A conda-meta record
    is dominated by ``paths_data``: thousands of small flat dicts, so flat dicts of strings and
    integers take a fast path that formats them in one go."""
    out: list[str] = []
    _encode_indented(obj, level, out.append)
    return "".join(out)


def _scalar_json(value: Any) -> str | None:
    """JSON text of a str/int/bool/None, or ``None`` if ``value`` is something else."""
    cls = value.__class__
    if cls is str:
        return _enc(value)
    if cls is int:
        return int.__repr__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return None


_FLAT_TYPES = frozenset((str, int, bool, type(None)))
_FLAT_ENCODERS: dict[str, Callable[[dict], str]] = {}


def _flat_encoder(item_separator: str) -> Callable[[dict], str]:
    """A function writing a flat dict/list as ``{"k": v<item_separator>"k2": v2}``, made once per
    separator — with the stdlib's C encoder when it is available (it is in CPython)."""
    encode = _FLAT_ENCODERS.get(item_separator)
    if encode is None:
        from json.encoder import c_make_encoder

        if c_make_encoder is not None:
            # arguments: markers, default, str encoder, indent, key sep, item sep, sort_keys,
            # skipkeys, allow_nan — json.dumps' defaults apart from the item separator
            c_encode = c_make_encoder(None, None, _enc, None, ": ", item_separator, False, False, True)

            def encode(obj: dict) -> str:
                return "".join(c_encode(obj, 0))
        else:  # pragma: no cover - a Python without the C accelerator
            encode = json.JSONEncoder(separators=(item_separator, ": ")).encode
        _FLAT_ENCODERS[item_separator] = encode
    return encode


def _encode_indented(obj: Any, level: int, emit: Callable[[str], Any]) -> None:
    scalar = _scalar_json(obj)
    if scalar is not None:
        emit(scalar)
        return
    if isinstance(obj, str):  # str subclasses (enums…): as json.dumps does
        emit(_enc(obj))
        return
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        emit(json.dumps(obj))
        return
    inner = "\n" + "  " * (level + 1)
    close = "\n" + "  " * level
    sep = "," + inner
    if isinstance(obj, dict):
        if not obj:
            emit("{}")
            return
        for key, value in obj.items():
            if key.__class__ is not str or value.__class__ not in _FLAT_TYPES:
                break
        else:
            # flat: str keys, plain scalar values. The stdlib's C encoder writes it in one call
            # when told to put the newline + indentation between items; only the braces need it too
            text = _flat_encoder(sep)(obj)
            emit("{" + inner + text[1:-1] + close + "}")
            return
        emit("{")
        first = True
        for key, value in obj.items():
            emit(inner if first else sep)
            first = False
            emit(f"{_enc(str(key))}: ")
            _encode_indented(value, level + 1, emit)
        emit(close + "}")
        return
    if isinstance(obj, (list, tuple)):
        if not obj:
            emit("[]")
            return
        for value in obj:
            if value.__class__ not in _FLAT_TYPES:
                break
        else:  # flat (a list of file names…): one call to the C encoder, as for flat dicts
            text = _flat_encoder(sep)(obj)
            emit("[" + inner + text[1:-1] + close + "]")
            return
        emit("[")
        first = True
        for value in obj:
            emit(inner if first else sep)
            first = False
            _encode_indented(value, level + 1, emit)
        emit(close + "]")
        return
    emit(json.dumps(obj))


def _write_json_atomic(path: str, data: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
    try:
        text = _json_indent2(data)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
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
        from conda_deepdive.index.history import History

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


class _EnvironmentsTxt:
    """What registering and unregistering share: the file (``~/.conda/environments.txt``,
    what ``conda env list`` reads), one line per prefix, and undo by doing the opposite.
    A mixin, not a PathAction, so the class tree stays conda's."""

    def __init__(self, transaction_context, target_prefix):
        self.transaction_context = transaction_context
        self.target_prefix = target_prefix
        self._changed = False

    @property
    def target_full_path(self):
        return _environments_txt(self.transaction_context)

    def verify(self):
        self._verified = True
        return None

    def cleanup(self) -> None:
        pass

    def _add_line(self) -> bool:
        path = self.target_full_path
        location = os.path.normpath(self.target_prefix)  # conda registers the normalised path
        if not path or location in _read_lines(path):
            return False
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as fh:
            fh.write(location + "\n")
        return True

    def _drop_line(self) -> bool:
        path = self.target_full_path
        location = os.path.normpath(self.target_prefix)
        lines = _read_lines(path) if path else []
        if location not in lines:
            return False
        _write_lines(path, [line for line in lines if line != location])
        return True

    def _unregister(self) -> bool:
        """``conda.core.envs_manager.unregister_env``: leave the file alone while ``conda-meta``
        holds more than one entry (anything besides ``history``); otherwise rewrite it without
        this prefix *and* without every line that is no environment any more (no
        ``conda-meta/history``: ``_clean_environments_txt``). True if the prefix was listed."""
        meta = os.path.join(self.target_prefix, "conda-meta")
        if os.path.isdir(meta) and len(os.listdir(meta)) > 1:
            return False
        path = self.target_full_path
        if not path or not os.path.isfile(path):
            return False
        location = os.path.normpath(self.target_prefix)
        lines = _read_lines(path)
        kept = [line for line in lines
                if line != location and os.path.isfile(os.path.join(line, "conda-meta", "history"))]
        if kept != lines:
            with open(path, "w") as fh:  # conda's _rewrite_environments_txt
                fh.write("\n".join(kept) + "\n")
        return location in lines


#: conda.core.envs_manager.register_env leaves out conda-build's scratch environments
_NEVER_REGISTERED = ("placehold_pl", "skeleton_")


class RegisterEnvironmentLocationAction(_EnvironmentsTxt, PathAction):
    """Add the prefix to ``~/.conda/environments.txt`` (what ``conda env list`` reads).

    As ``conda.core.envs_manager.register_env``: nothing happens when ``register_envs`` is false
    (``CONDA_REGISTER_ENVS=false``, condarc ``register_envs: false``; ``trace`` sets it for its
    temporary environments), for conda-build's scratch prefixes, or when the prefix is already
    listed. conda's ``verify`` also touches (creates) an empty environments.txt even when nothing
    will be registered; conda-deepdive leaves the file alone then. conda never undoes a
    registration; conda-deepdive removes the line again on rollback."""

    @property
    def wanted(self) -> bool:
        context = self.transaction_context.get("context")
        if context is not None and not getattr(context, "register_envs", True):
            return False
        path = self.target_full_path
        return bool(path) and path != os.devnull and not any(
            marker in self.target_prefix for marker in _NEVER_REGISTERED)

    def execute(self) -> None:
        self._execute_successful = True
        self._changed = self._add_line() if self.wanted else False

    def reverse(self) -> None:
        if self._changed:
            self._drop_line()
            self._changed = False
        self._execute_successful = False


def _read_lines(path: str) -> list[str]:
    """conda's ``yield_lines``: stripped, without blank lines and ``#`` comments."""
    try:
        with open(path) as fh:
            return [line.strip() for line in fh if line.strip() and not line.strip().startswith("#")]
    except FileNotFoundError:
        return []


def _write_lines(path: str, lines: list[str]) -> None:
    with open(path, "w") as fh:
        fh.writelines(line + "\n" for line in lines)
