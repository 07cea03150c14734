"""Stage 7: the transaction — from "unlink these, link those" to a prefix that really changed.

conda counterpart: ``conda.core.link.UnlinkLinkTransaction`` and ``PrefixSetup``.

The solver's answer is a diff: records to *unlink* from the prefix and records to *link* into it.
:class:`UnlinkLinkTransaction` turns that into work, in conda's phases:

1. ``download_and_extract()`` — stage 8 (:mod:`conda_deepdive.fetch.fetch_extract`);
2. ``prepare()`` — read each extracted package and build the *action groups* (nothing on disk
   changes except creating the prefix directory);
3. ``verify()`` — every action checks itself; then the whole prefix is checked for path
   collisions ("clobbering");
4. ``execute()`` — run the groups in conda's order::

       remove menus → pre-unlink scripts → unlink → unregister
       pre-link scripts → link → entry points → post-link scripts
       → one compileall run → conda-meta records → register + history → menus

   If anything fails, the executed actions are **reversed**, last first, and a new prefix is
   removed completely (``rollback_enabled``). ``cleanup()`` of every action runs only when the
   whole transaction succeeded.

What to notice: conda prints a plan (``plan_text()``) and ``--json`` prints ``json_actions()``
*before* anything is downloaded; both are computed from the same setup.

Teaching hook: ``CONDA_DEEPDIVE_FAIL_AT=<n>`` (the n-th executed action, counting from 1) or
``CONDA_DEEPDIVE_FAIL_AT=<ActionClassName>`` (its first action) makes that action fail, so you
can watch a rollback restore the prefix. Read from ``env=`` (default ``os.environ``).

Interruptions: while ``execute()`` runs, SIGINT (Ctrl-C), SIGTERM and SIGQUIT raise
:class:`~conda_deepdive.exceptions.CondaSignalInterrupt` (conda's ``signal_handler`` +
``conda_signal_handler``). It is handled like any other failure — the executed actions, and the
one that was half-done, are reversed — and then re-raised on its own (exit code 130), not inside
a ``CondaMultiError``. A second signal during the rollback is held back until the rollback is
finished. A new prefix that fails anywhere (prepare, verify, execute, interrupted) is removed.

Concurrency: ``execute()`` holds the prefix's lock (:mod:`conda_deepdive.transaction.prefix_lock`);
the command line already took it before solving, so a second process waits for the first.

Where conda-deepdive differs from conda (each on purpose, each small): the pyc compile action is
part of the rollback (conda forgets it); the first failure stops execution (conda finishes the
current side first); FETCH lists records in link order (conda: set order); a package script can
be given a time limit (``link_script_timeout``; conda has none).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import namedtuple
from contextlib import contextmanager
from itertools import chain

from conda_deepdive.link.link import (
    ActionGroup,
    PrefixActionGroup,
    determine_link_type,
    dist_name_of,
    dist_str,
    legacy_dist_entry,
    load_prefix_records,
    read_package_info,
)
from conda_deepdive.fetch.package_cache import get_entry_to_link, record_dump, record_value
from conda_deepdive.models.enums import LinkType
from conda_deepdive.reporting import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["PrefixSetup", "UnlinkLinkTransaction", "solve_for_transaction", "make_unlink_actions", "FAIL_AT_VAR"]

FAIL_AT_VAR = "CONDA_DEEPDIVE_FAIL_AT"
#: the pause hook, for watching (or interrupting) a transaction half-way: at action
#: ``CONDA_DEEPDIVE_PAUSE_AT=<n|ClassName>`` write our pid to ``CONDA_DEEPDIVE_PAUSE_MARKER``
#: (if set) and sleep ``CONDA_DEEPDIVE_PAUSE_SECONDS`` (default 30; a signal ends the sleep)
PAUSE_AT_VAR = "CONDA_DEEPDIVE_PAUSE_AT"
PAUSE_MARKER_VAR = "CONDA_DEEPDIVE_PAUSE_MARKER"
PAUSE_SECONDS_VAR = "CONDA_DEEPDIVE_PAUSE_SECONDS"

#: conda.core.link.run_script's warning, word for word (``%s`` = the package's dist_str)
PRE_LINK_WARNING = (
    "Package %s uses a pre-link script. Pre-link scripts are potentially dangerous.\n"
    "This is because pre-link scripts have the ability to change the package contents in the\n"
    "package cache, and therefore modify the underlying files for already-created conda\n"
    "environments.  Future versions of conda may deprecate and ignore pre-link scripts.\n"
)


class PrefixSetup(namedtuple("PrefixSetup", "target_prefix unlink_precs link_precs remove_specs "
                                             "update_specs neutered_specs")):
    """What the solver wants done to one prefix (conda's ``PrefixSetup``, a namedtuple there
    too): the prefix (str), then tuples of records to unlink and link and of specs."""

    __slots__ = ()


def _ctx(context: Any, name: str, default: Any) -> Any:
    value = getattr(context, name, default) if context is not None else default
    return default if value is None else value


def _spec_name(spec: Any) -> str | None:
    name = getattr(spec, "name", None)
    if name:
        return name
    match = re.match(r"^\s*(?:[^:\s]+::)?([A-Za-z0-9_.\-]+)", str(spec))
    return match.group(1) if match else None


def make_unlink_actions(tc: dict, target_prefix: str, prefix_record: dict) -> tuple:
    """Unlink every file, then (no-op) directory actions, then the conda-meta record."""
    from conda_deepdive.link.unlink_actions import RemoveLinkedPackageRecordAction, UnlinkPathAction

    files = list(prefix_record.get("files") or ())
    unlink = tuple(UnlinkPathAction(tc, prefix_record, target_prefix, f) for f in files)
    dirs = set()
    for f in files:
        parts = f.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    directory_actions = tuple(
        UnlinkPathAction(tc, prefix_record, target_prefix, d, LinkType.directory)
        for d in sorted(dirs, reverse=True)
    )
    extracted = prefix_record.get("extracted_package_dir") or (prefix_record.get("link") or {}).get("source")
    dist = os.path.basename(extracted) if extracted else (
        f"{prefix_record['name']}-{prefix_record['version']}-{prefix_record['build']}")
    meta = RemoveLinkedPackageRecordAction(tc, prefix_record, target_prefix, f"conda-meta/{dist}.json")
    return (*unlink, *directory_actions, meta)


#: conda.common.signals.INTERRUPT_SIGNALS, by name (those this platform lacks are skipped)
INTERRUPT_SIGNAL_NAMES = ("SIGINT", "SIGTERM", "SIGQUIT")


class InterruptState:
    """What :func:`interrupt_signals` caught: the first signal, and whether to hold it back."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.deferring = False

    def handler(self, signum: int, frame: Any) -> None:
        from conda_deepdive.exceptions import CondaSignalInterrupt

        from conda_deepdive.link.link_scripts import hold_interrupt

        if self.signum is None:
            self.signum = signum
        if self.deferring:
            return  # a rollback is running: it finishes first, the caller raises afterwards
        if hold_interrupt(signum):
            return  # a link script is being started: it is raised once the script can be stopped
        raise CondaSignalInterrupt(signum)

    @contextmanager
    def deferred(self):
        """Hold signals back for the block (a rollback must not be interrupted half-way)."""
        before, self.deferring = self.deferring, True
        try:
            yield self
        finally:
            self.deferring = before


@contextmanager
def interrupt_signals():
    """Turn SIGINT/SIGTERM/SIGQUIT into :class:`CondaSignalInterrupt` for the ``with`` block
    (conda's ``signal_handler(conda_signal_handler)``); yields an :class:`InterruptState`.
    Outside the main thread signals cannot be caught (``signal.signal`` refuses): the block runs
    unchanged."""
    # the C module under ``signal``: installing handlers needs nothing more, and the Python
    # module builds three enums on import (~0.3 ms of a dry run that is never interrupted)
    import _signal as signal

    state = InterruptState()
    previous = {}
    try:
        for name in INTERRUPT_SIGNAL_NAMES:
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            try:
                previous[sig] = signal.signal(sig, state.handler)
            except ValueError:  # not the main thread: signals cannot be caught here
                break
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


def _as_interrupt(error: BaseException) -> BaseException | None:
    """The CondaSignalInterrupt an error stands for (a bare KeyboardInterrupt is SIGINT)."""
    from conda_deepdive.exceptions import CondaSignalInterrupt

    if isinstance(error, CondaSignalInterrupt):
        return error
    if isinstance(error, KeyboardInterrupt):
        import signal

        return CondaSignalInterrupt(signal.SIGINT)
    return None


class _Failure(Exception):
    """Carries the original error and the group it happened in, internally."""

    def __init__(self, error: BaseException, group: ActionGroup | None):
        super().__init__(str(error))
        self.error, self.group = error, group


def _lexists_in(prefix: str, short_path: str, dir_exists: dict[str, bool]) -> bool:
    """``os.path.lexists(prefix/short_path)``, but a path whose directory is missing is known to
    be missing without asking the disk — into a new prefix that skips one lstat per file.
    ``dir_exists`` remembers the answers for directories (relative to ``prefix``)."""
    parent = short_path.rpartition("/")[0]
    if parent and not _dir_lexists(prefix, parent, dir_exists):
        return False
    return os.path.lexists(os.path.join(prefix, short_path))


def _dir_lexists(prefix: str, short_dir: str, dir_exists: dict[str, bool]) -> bool:
    known = dir_exists.get(short_dir)
    if known is None:
        parent = short_dir.rpartition("/")[0]
        if parent and not _dir_lexists(prefix, parent, dir_exists):
            known = False
        else:
            known = os.path.lexists(os.path.join(prefix, short_dir))
        dir_exists[short_dir] = known
    return known


class UnlinkLinkTransaction:
    """One conda transaction over one or more prefixes (usually one)."""

    def __init__(self, *setups: PrefixSetup, context: Any = None, reporter: Reporter | None = None,
                 env: dict | None = None, cmd: str | None = None):
        self.prefix_setups = {os.path.abspath(s.target_prefix): s._replace(target_prefix=os.path.abspath(s.target_prefix))
                              for s in setups}
        self.context = context
        self.reporter = reporter or Reporter()
        self.env = dict(os.environ if env is None else env)
        self.cmd = cmd if cmd is not None else " ".join(sys.argv)
        self.prefix_action_groups: dict[str, PrefixActionGroup] = {}
        self.transaction_context: dict = {}
        self._pfe = None
        self._prepared = self._verified = self._executed = False
        self._new_prefixes = {p for p in self.prefix_setups if not os.path.lexists(p)}
        self._counter = 0
        self._created_meta_dirs: set[str] = set()
        self.executed_log: list[dict] = []
        self.script_results: list = []
        self.warnings: list[str] = []
        fail_at = self.env.get(FAIL_AT_VAR, "").strip()
        self.fail_at: int | str | None = (int(fail_at) if fail_at.isdigit() else fail_at) or None
        pause_at = self.env.get(PAUSE_AT_VAR, "").strip()
        self.pause_at: int | str | None = (int(pause_at) if pause_at.isdigit() else pause_at) or None

    # -- small properties -----------------------------------------------------------------
    def __repr__(self) -> str:
        parts = [f"{p}: -{len(s.unlink_precs)} +{len(s.link_precs)}" for p, s in self.prefix_setups.items()]
        state = ("executed" if self._executed else "verified" if self._verified
                 else "prepared" if self._prepared else "planned")
        return f"UnlinkLinkTransaction({'; '.join(parts)}, {state})"

    @property
    def nothing_to_do(self) -> bool:
        return not any(s.unlink_precs or s.link_precs for s in self.prefix_setups.values()) and all(
            os.path.isfile(os.path.join(p, "conda-meta", "history")) for p in self.prefix_setups)

    @property
    def rollback_enabled(self) -> bool:
        return bool(_ctx(self.context, "rollback_enabled", True))

    # -- stage 8 --------------------------------------------------------------------------
    def _get_pfe(self):
        from conda_deepdive.fetch.fetch_extract import ProgressiveFetchExtract

        if self._pfe is None:
            link_precs = list(chain.from_iterable(s.link_precs for s in self.prefix_setups.values()))
            self._pfe = ProgressiveFetchExtract(link_precs, self.context, self.reporter)
        return self._pfe

    def download_and_extract(self):
        pfe = self._get_pfe()
        if not pfe._executed:
            pfe.execute()
        return pfe

    # -- prepare --------------------------------------------------------------------------
    def prepare(self) -> "UnlinkLinkTransaction":
        if self._prepared:
            return self
        self.download_and_extract()
        home = self.env.get("HOME") or os.path.expanduser("~")
        tc = self.transaction_context
        tc.update(context=self.context, cmd=self.cmd, prefix_setups={},
                  environments_txt=os.path.join(home, ".conda", "environments.txt"),
                  script_env=self.env)
        try:
            for prefix, setup in self.prefix_setups.items():
                self.prefix_action_groups[prefix] = self._prepare_prefix(tc, setup)
        except BaseException:
            self._discard_new_prefixes()  # a failed create leaves no directory behind
            raise
        self._prepared = True
        self.reporter.event("transaction", "prepared", **self.summary())
        return self

    def _python_version(self, prefix: str, installed: dict, unlink_names: set, infos) -> str | None:
        from conda_deepdive.link.entry_points import get_major_minor_version

        for info in infos:
            if info.name == "python":
                return get_major_minor_version(str(info.repodata_record.version))
        python = installed.get("python")
        if python and "python" not in unlink_names:
            return get_major_minor_version(str(python.get("version")))
        return None

    def _prepare_prefix(self, tc: dict, setup: PrefixSetup) -> PrefixActionGroup:
        from conda_deepdive.exceptions import CondaError
        from conda_deepdive.link.entry_points import site_packages_short_path
        from conda_deepdive.link.generated_actions import (
            CompileMultiPycAction,
            CreatePrefixRecordAction,
            CreatePythonEntryPointAction,
            RegisterEnvironmentLocationAction,
            UpdateHistoryAction,
        )
        from conda_deepdive.link.path_actions import LinkPathAction, MakeMenuAction
        from conda_deepdive.link.unlink_actions import RemoveMenuAction, UnregisterEnvironmentLocationAction

        prefix = setup.target_prefix
        if not os.path.isdir(prefix):
            try:
                os.makedirs(prefix)
            except OSError as exc:
                raise CondaError(f"Unable to create prefix directory '{prefix}'.\n"
                                 "Check that you have sufficient permissions.") from exc
        installed = load_prefix_records(prefix)
        unlink_names = {record_value(p, "name") for p in setup.unlink_precs}
        records_to_unlink = [installed[n] for n in (record_value(p, "name") for p in setup.unlink_precs)
                             if n in installed]
        pkgs_dirs = list(_ctx(self.context, "pkgs_dirs", ()) or ())
        infos = []
        for prec in setup.link_precs:
            entry = get_entry_to_link(prec, pkgs_dirs)
            if entry is None:
                raise CondaError(f"Package {dist_name_of(prec)} is not extracted in any package cache "
                                 f"({', '.join(pkgs_dirs)}); run download_and_extract() first.")
            infos.append(read_package_info(prec, entry))
        link_types = [determine_link_type(i.extracted_package_dir, prefix, self.context) for i in infos]

        py_version = self._python_version(prefix, installed, unlink_names, infos)
        tc["target_python_version"] = py_version
        tc["target_site_packages_short_path"] = site_packages_short_path(py_version)
        tc["temp_dir"] = os.path.join(prefix, ".condatmp")
        tc["prefix_setups"][prefix] = {
            "unlink_dists": [dist_str(p, with_subdir=True) for p in setup.unlink_precs],
            "link_dists": [dist_str(p, with_subdir=True) for p in setup.link_precs],
        }

        remove_menu_groups, unlink_groups = [], []
        for rec in records_to_unlink:
            unlink_groups.append(ActionGroup("unlink", rec, make_unlink_actions(tc, prefix, rec), prefix))
            remove_menu_groups.append(ActionGroup("remove_menus", rec, RemoveMenuAction.create_actions(tc, rec, prefix), prefix))
        unregister_groups = ([ActionGroup("unregister", None, (UnregisterEnvironmentLocationAction(tc, prefix),), prefix)]
                             if unlink_groups else [])

        specs_by_name = {}
        for spec in setup.update_specs or ():
            specs_by_name[_spec_name(spec)] = spec
        link_groups, ep_groups, compile_groups, menu_groups, record_actions = [], [], [], [], []
        for info, lt in zip(infos, link_types):
            files = LinkPathAction.create_file_link_actions(tc, info, prefix, lt)
            dirs = LinkPathAction.create_directory_actions(tc, info, prefix, lt, files)
            link_group = ActionGroup("link", info, (*dirs, *files), prefix)
            link_groups.append(link_group)
            eps = CreatePythonEntryPointAction.create_actions(tc, info, prefix, lt)
            ep_groups.append(ActionGroup("entry_point", info, eps, prefix))
            pycs = CompileMultiPycAction.create_actions(tc, info, prefix, lt, link_group.actions)
            compile_groups.append(ActionGroup("compile", info, pycs, prefix))
            menus = MakeMenuAction.create_actions(tc, info, prefix, lt)
            menu_groups.append(ActionGroup("make_menus", info, menus, prefix))
            record_actions.extend(CreatePrefixRecordAction.create_actions(
                tc, info, prefix, lt, specs_by_name.get(info.name), (*link_group.actions, *pycs, *eps, *menus)))
        record_groups = [ActionGroup("record", None, tuple(record_actions), prefix)]
        history = UpdateHistoryAction.create_actions(tc, prefix, setup.remove_specs, setup.update_specs,
                                                     setup.neutered_specs)
        register_groups = [ActionGroup("register", None, (RegisterEnvironmentLocationAction(tc, prefix), *history), prefix)]
        return PrefixActionGroup(
            tuple(remove_menu_groups), tuple(unlink_groups), tuple(unregister_groups), tuple(link_groups),
            tuple(register_groups), tuple(compile_groups), tuple(menu_groups), tuple(ep_groups),
            tuple(record_groups),
        )

    @property
    def action_groups(self) -> dict[str, PrefixActionGroup]:
        """``{prefix: PrefixActionGroup}`` (prepares the transaction if needed)."""
        self.prepare()
        return self.prefix_action_groups

    def all_action_groups(self) -> tuple:
        """Every group, in conda's order (field by field across prefixes)."""
        return tuple(chain(*chain(*zip(*self.action_groups.values()))))

    # -- verify ---------------------------------------------------------------------------
    def verify(self) -> "UnlinkLinkTransaction":
        from conda_deepdive.exceptions import (
            ClobberError, CondaMultiError, EnvironmentNotWritableError, SafetyError)

        if self._verified:
            return self
        self.prepare()
        errors: list[BaseException] = []
        try:
            for prefix in self.prefix_setups:
                meta = os.path.join(prefix, "conda-meta")
                if not os.path.isdir(meta):
                    self._created_meta_dirs.add(meta)  # an empty one goes again on rollback
                os.makedirs(meta, exist_ok=True)
                if not os.access(meta, os.W_OK):
                    errors.append(EnvironmentNotWritableError(prefix))
            if not errors:
                for group in self.all_action_groups():
                    for action in group.actions:
                        if not action.verified:
                            error = action.verify()
                            if error:
                                errors.append(error)
                for prefix, pag in self.prefix_action_groups.items():
                    errors.extend(self._verify_prefix_level(prefix, pag))
        except BaseException:
            self._remove_temp_dirs()
            self._discard_new_prefixes()
            raise
        safety = str(_ctx(self.context, "safety_checks", "warn"))
        conflict = str(_ctx(self.context, "path_conflict", "clobber"))
        fatal = []
        for e in errors:
            if isinstance(e, ClobberError) and conflict != "prevent":
                self._warn(f"{type(e).__name__}: {e}")
            elif isinstance(e, SafetyError) and safety in ("warn", "disabled"):
                self._warn(f"{type(e).__name__}: {e}")
            else:
                fatal.append(e)
        # conda.exceptions.maybe_raise: when nothing is fatal, conda *prints* the findings —
        # all of them, as one CondaMultiError — if a SafetyError met safety_checks: warn or a
        # ClobberError met path_conflict: warn (the default, clobber, prints nothing)
        clobber_flag = bool(_ctx(self.context, "clobber", False))
        if errors and not fatal and (
                (safety == "warn" and any(isinstance(e, SafetyError) for e in errors))
                or (conflict == "warn" and not clobber_flag and any(isinstance(e, ClobberError) for e in errors))):
            shown = CondaMultiError(errors)
            self.reporter.event("transaction", "printed_errors",
                                text="\n\n".join(e.__repr__() for e in errors), json=shown.dump_map())
        self.reporter.event("transaction", "verified", errors=[f"{type(e).__name__}: {e}" for e in errors],
                            fatal=len(fatal))
        if fatal:
            self._remove_temp_dirs()
            self._discard_new_prefixes()
            raise fatal[0] if len(fatal) == 1 else CondaMultiError(fatal)
        self._verified = True
        return self

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        self.reporter.warning("transaction", message)

    def _discard_new_prefixes(self) -> None:
        """Remove every prefix this transaction created (and an empty ``conda-meta/`` it made
        in an existing directory): a failed ``create`` leaves nothing, as in conda."""
        for meta in self._created_meta_dirs:
            if os.path.isdir(meta) and not os.listdir(meta):
                os.rmdir(meta)
        import shutil

        for prefix in self.prefix_setups:
            if prefix in self._new_prefixes and os.path.lexists(prefix):
                shutil.rmtree(prefix, ignore_errors=True)
                self.reporter.event("link", "new_prefix_removed", prefix=prefix)

    @staticmethod
    def _verify_prefix_level(prefix: str, pag: PrefixActionGroup) -> list:
        from conda_deepdive.exceptions import (
            KnownPackageClobberError, SharedLinkPathClobberError, UnknownPackageClobberError)
        from conda_deepdive.link.generated_actions import CompileMultiPycAction
        from conda_deepdive.link.unlink_actions import UnlinkPathAction

        unlink_paths = {a.target_short_path for g in pag.unlink_action_groups for a in g.actions
                        if isinstance(a, UnlinkPathAction)}
        installed = None
        errors = []
        owners: dict[str, list] = {}
        dir_exists: dict[str, bool] = {}
        for group in pag.prefix_record_groups:
            for rec_action in group.actions:
                incoming = dist_str(rec_action.package_info.repodata_record)
                for action in rec_action.all_link_path_actions:
                    if isinstance(action, CompileMultiPycAction):
                        paths = action.target_short_paths
                    elif getattr(action, "link_type", None) == LinkType.directory:
                        paths = ()
                    else:
                        paths = (action.target_short_path,)
                    for path in paths:
                        owners.setdefault(path, []).append(incoming)
                        if path not in unlink_paths and _lexists_in(prefix, path, dir_exists):
                            installed = installed if installed is not None else load_prefix_records(prefix)
                            owner = next((r for r in installed.values() if path in (r.get("files") or ())), None)
                            if owner:
                                errors.append(KnownPackageClobberError(
                                    path, incoming, dist_str(owner)))
                            else:
                                errors.append(UnknownPackageClobberError(path, incoming))
        for path, dists in owners.items():
            if len(dists) > 1:
                errors.append(SharedLinkPathClobberError(path, dists))
        return errors

    # -- execute --------------------------------------------------------------------------
    def _remove_temp_dirs(self) -> None:
        import shutil

        for prefix in self.prefix_setups:
            shutil.rmtree(os.path.join(prefix, ".condatmp"), ignore_errors=True)

    def _run_action(self, action) -> None:
        """Execute one action: count it, maybe inject the teaching failure, report it."""
        from conda_deepdive.exceptions import InjectedFault

        self._counter += 1
        number = self._counter
        if self.fail_at is not None and (number == self.fail_at or type(action).__name__ == self.fail_at):
            self.fail_at = None  # only once
            self.reporter.event("link", "injected_failure", number=number, **action.describe())
            raise InjectedFault(f"{FAIL_AT_VAR}: injected failure at action #{number}: {action!r}")
        if self.pause_at is not None and (number == self.pause_at or type(action).__name__ == self.pause_at):
            self.pause_at = None
            self._pause(number)
        reporter = self.reporter
        if reporter.__class__ is Reporter:
            # the base Reporter ignores events: skip the per-file timing and keyword packing
            action.execute()
            self.executed_log.append({"number": number, **action.describe()})
            return
        started = time.perf_counter()
        action.execute()
        entry = {"number": number, **action.describe()}
        self.executed_log.append(entry)
        reporter.event("link", "action", duration_seconds=round(time.perf_counter() - started, 6), **entry)

    def _pause(self, number: int) -> None:
        marker = self.env.get(PAUSE_MARKER_VAR)
        self.reporter.event("link", "paused", number=number)
        if marker:
            with open(marker, "w") as fh:
                fh.write(str(os.getpid()))
        time.sleep(float(self.env.get(PAUSE_SECONDS_VAR) or 30))

    def _execute_group(self, group: ActionGroup) -> None:
        try:
            for action in group.actions:
                self._run_action(action)
        except BaseException as exc:
            raise _Failure(exc, group) from exc

    def _script(self, group: ActionGroup, action: str) -> None:
        from conda_deepdive.link.link_scripts import run_script

        info = group.pkg_data
        if info is None:
            return
        prefix = group.target_prefix
        if action == "pre-link":
            where, rec = info.extracted_package_dir, info.repodata_record
        elif action == "post-link":
            where, rec = prefix, info.repodata_record
        else:  # unlink side: the installed record (a conda-meta dict)
            where, rec = prefix, _DictRecord(info)
        if action == "pre-link" and os.path.isfile(os.path.join(where, "bin", f".{info.name}-pre-link.sh")):
            # conda.core.link.run_script: warnings.warn(...) before the script runs
            self._warn(PRE_LINK_WARNING % dist_str(rec))
        try:
            result = run_script(
                where, rec, action, target_prefix=prefix, root_prefix=str(_ctx(self.context, "root_prefix", "")),
                activate=action == "post-link", base_env=self.env,
                envs_dirs=_ctx(self.context, "envs_dirs", ()),
                timeout=_ctx(self.context, "link_script_timeout", None),
            )
        except BaseException as exc:
            messages = getattr(exc, "_script_messages", None)
            if messages is not None:  # conda prints .messages.txt before it raises LinkError
                self.reporter.event("link", "script_messages", action=action, package=dist_str(rec),
                                    text=messages)
            raise _Failure(exc, group) from exc
        if result.ran:
            if action == "pre-unlink" and result.returncode:
                # conda.core.link.run_script: a failed pre-unlink script is only a warning
                self._warn(f"{action} script failed for package {dist_str(rec)}\n"
                           "consider notifying the package maintainer")
            if result.messages is not None:
                self.reporter.event("link", "script_messages", action=action, package=dist_str(rec),
                                    text=result.messages)
            self.script_results.append(result)
            self.reporter.event("link", "script", **result.summary())
        elif action == "post-unlink":
            self.reporter.event("link", "script_skipped", action=action, package=dist_str(rec),
                                reason="the script was unlinked before it could run (as in conda)")

    def execute(self) -> "UnlinkLinkTransaction":
        from conda_deepdive.transaction.prefix_lock import prefix_lock

        if self._executed:
            return self
        with interrupt_signals() as interrupts:
            # re-entrant: the command line already holds it since before the solve
            with prefix_lock(next(iter(self.prefix_setups)),
                             on_wait=lambda m: self.reporter.warning("link", m)):
                try:
                    self.verify()
                except BaseException as exc:
                    interrupt = _as_interrupt(exc)
                    if interrupt is not None and interrupt is not exc:
                        raise interrupt from None
                    raise
                self._execute_locked(interrupts)
        return self

    def _execute_locked(self, interrupts: InterruptState) -> None:
        from conda_deepdive.exceptions import CondaMultiError
        from conda_deepdive.link.generated_actions import AggregateCompileMultiPycAction

        groups = self.all_action_groups()
        by_type = lambda t: [g for g in groups if g.type == t]  # noqa: E731
        composite_groups: list[ActionGroup] = []
        try:
            try:
                for side in ("unlink", "link"):
                    side_groups = by_type(side)
                    if side == "unlink":
                        for g in by_type("remove_menus"):
                            self._execute_group(g)
                    for g in side_groups:
                        self._script(g, "pre-unlink" if side == "unlink" else "pre-link")
                    for g in side_groups:
                        self._execute_group(g)
                    if side == "link":
                        for g in by_type("entry_point"):
                            self._execute_group(g)
                    for g in side_groups:
                        self._script(g, "post-unlink" if side == "unlink" else "post-link")
                    if side == "link":
                        individual = [a for g in by_type("compile") for a in g.actions]
                        if individual:
                            agg = AggregateCompileMultiPycAction(*individual)
                            composite_groups.append(ActionGroup("compile", None, (agg,), agg.target_prefix))
                            self._execute_group(composite_groups[-1])
                        for g in by_type("record"):
                            self._execute_group(g)
                    for g in by_type("unregister" if side == "unlink" else "register"):
                        self._execute_group(g)
                    if side == "link":
                        for g in by_type("make_menus"):
                            self._execute_group(g)
            except BaseException as exc:  # an error, Ctrl-C or SIGTERM: reverse what was done
                with interrupts.deferred():
                    failure = exc if isinstance(exc, _Failure) else _Failure(exc, None)
                    self._rollback(groups, composite_groups, failure)
                interrupt = _as_interrupt(failure.error)
                if interrupt is not None:
                    raise interrupt from None
                # conda raises CondaMultiError((error, <the group's reverse errors>)): a
                # failure shows its error, then "()" (see conda.core.link._execute)
                raise CondaMultiError([failure.error, ()]) from failure.error
            with interrupts.deferred():  # committed: finish the cleanup, then honour a signal
                for g in (*groups, *composite_groups):
                    for action in g.actions:
                        action.cleanup()
                self._after_success()
        finally:
            self._remove_temp_dirs()
        self._executed = True
        if interrupts.signum is not None:
            from conda_deepdive.exceptions import CondaSignalInterrupt

            raise CondaSignalInterrupt(interrupts.signum)

    def _after_success(self) -> None:
        for prefix in self.prefix_setups:
            self.reporter.event("link", "done", prefix=prefix, actions=self._counter,
                                notes=self.transaction_context.get("notes", []))

    def _rollback(self, groups, composite_groups, failure: _Failure) -> None:
        group = failure.group
        pkg = group.pkg_data if group is not None else None
        name = (pkg.name if hasattr(pkg, "name") else pkg.get("name") if isinstance(pkg, dict) else None)
        record = getattr(pkg, "repodata_record", pkg)
        self.reporter.event("link", "failed", error=f"{type(failure.error).__name__}: {failure.error}",
                            package=name, group=group.type if group else None,
                            dist=dist_str(record) if record is not None else None,
                            interrupted=_as_interrupt(failure.error) is not None)
        if not self.rollback_enabled:
            self._warn("rollback_enabled is false: the prefix is left as it is")
            return
        self.reporter.event("link", "rollback_started", executed=len(self.executed_log))
        ordered = list(groups)
        # our aggregate compile action goes back right after the records (its natural place)
        ordered.extend(composite_groups)
        undone = 0
        for g in reversed(ordered):
            for action in reversed(tuple(g.actions)):
                was = getattr(action, "executed", False)
                try:
                    action.reverse()
                except Exception as exc:  # keep going: undo as much as possible
                    self._warn(f"reverse of {action!r} failed: {exc}")
                    continue
                if was:
                    undone += 1
                    self.reporter.event("link", "reverse", **action.describe())
        self._discard_new_prefixes()
        self.reporter.event("link", "rollback_finished", reversed=undone)

    # -- reporting ------------------------------------------------------------------------
    def json_actions(self) -> dict | list:
        """conda's ``--json`` ``actions``: FETCH, PREFIX, UNLINK, LINK (one dict per prefix)."""
        pfe = self._get_pfe().prepare()
        download_urls = {a.url for a in pfe.cache_actions}
        out = []
        for q, (prefix, setup) in enumerate(self.prefix_setups.items()):
            actions: dict[str, Any] = {}
            if q == 0:
                actions["FETCH"] = [record_dump(p) for p in pfe.link_precs if record_value(p, "url") in download_urls]
            actions["PREFIX"] = prefix
            if setup.unlink_precs:
                actions["UNLINK"] = [legacy_dist_entry(p) for p in setup.unlink_precs]
            if setup.link_precs:
                actions["LINK"] = [legacy_dist_entry(p) for p in setup.link_precs]
            out.append(actions)
        return out[0] if len(out) == 1 else out

    def plan_text(self) -> str:
        """The "## Package Plan ##" block conda prints before asking to proceed."""
        pfe = self._get_pfe().prepare()
        download_urls = {a.url for a in pfe.cache_actions}
        from conda_deepdive.transaction.package_plan import change_report

        return "\n".join(change_report(prefix, setup, download_urls)
                         for prefix, setup in self.prefix_setups.items())

    def summary(self) -> dict:
        out = {"prefixes": {}}
        for prefix, setup in self.prefix_setups.items():
            info = {"unlink": [dist_str(p) for p in setup.unlink_precs],
                    "link": [dist_str(p) for p in setup.link_precs],
                    "new_prefix": prefix in self._new_prefixes}
            pag = self.prefix_action_groups.get(prefix)
            if pag is not None:
                info["action_groups"] = {
                    field: sum(len(g.actions) for g in getattr(pag, field)) for field in pag._fields}
            out["prefixes"][prefix] = info
        out["executed_actions"] = len(self.executed_log)
        return out


class _DictRecord:
    """Attribute access to an installed record read from conda-meta (for scripts/messages)."""

    def __init__(self, data: dict):
        self._data = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None


def solve_for_transaction(solver: Any, update_modifier: Any = None, deps_modifier: Any = None,
                          prune: bool = False, ignore_pinned: bool | None = None,
                          force_remove: bool | None = None, force_reinstall: bool | None = None,
                          should_retry_solve: bool = False) -> UnlinkLinkTransaction:
    """The solver's diff, handed over as a transaction (conda's ``Solver.solve_for_transaction``).

    conda keeps this on the Solver; here it lives with the transaction, so the solver never
    imports the stage after it: the solve ends with a diff, the transaction starts from one.
    """
    unlink, link = solver.solve_for_diff(update_modifier, deps_modifier, prune, ignore_pinned,
                                         force_remove, force_reinstall, should_retry_solve)
    setup = PrefixSetup(solver.prefix, unlink, link, solver.specs_to_remove, solver.specs_to_add,
                        solver.neutered_specs)
    return UnlinkLinkTransaction(setup, context=solver.context, reporter=solver.reporter)
