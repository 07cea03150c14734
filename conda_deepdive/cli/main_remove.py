"""Remove packages (``conda remove`` / ``conda uninstall``; conda: ``conda.cli.main_remove``).

Like conda, this module is mostly a door: removing named packages goes through the shared
create/install/update/remove body, :func:`conda_deepdive.cli.install.install`. What conda's
``main_remove.execute`` decides itself is decided here, in conda's order:

1. neither names nor ``--all`` → ``CondaValueError: no package names supplied``;
2. the target must be an environment (``conda-meta/history``): ``EnvironmentLocationNotFound``
   or ``DirectoryNotACondaEnvironmentError`` (checked in the pipeline's context stage);
3. ``--all`` **does not solve**: it unlinks every installed record (nothing installed: "No
   packages found in …. Continuing environment removal"), then — unless ``--keep-env`` or a dry
   run — asks once more (default *no*, ``-y`` answers) and deletes the whole directory and its
   ``environments.txt`` line. The active environment and the base environment are refused with
   ``CondaEnvironmentError``;
4. names that match nothing installed → ``PackagesNotFoundInPrefixError`` (sorted), raised
   *before* the solver runs — so no "Collecting package metadata" line is printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> Any:
    """Run ``remove`` for the parsed ``args`` (``env`` replaces ``os.environ`` when given)."""
    from conda_deepdive.exceptions import CondaValueError

    if not (getattr(args, "all", None) or getattr(args, "package_names", None)):
        raise CondaValueError('no package names supplied,\n       try "conda remove -h" for more details')
    if getattr(args, "all", None):
        return remove_all(args, parser, env)
    from conda_deepdive.cli.install import install

    return install(args, parser, "remove", env)


def remove_all(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    """``conda remove --all [--keep-env]``: unlink every package, then delete the environment."""
    import sys

    from conda_deepdive.cli.install import ConsoleProgress, _confirm, _say_waiting, _txn_step, confirm_yn
    from conda_deepdive.config.context import Context
    from conda_deepdive.exceptions import CondaEnvironmentError, DryRunExit
    from conda_deepdive.index.prefix_data import PrefixData
    from conda_deepdive.solve.install_flow import check_prefix, remove_environment, target_prefix_for
    from conda_deepdive.transaction.prefix_lock import prefix_lock
    from conda_deepdive.transaction.transaction import PrefixSetup, UnlinkLinkTransaction, interrupt_signals

    env = dict(os.environ if env is None else env)
    context = Context.load(args=args, env=env)
    prefix = target_prefix_for("remove", context)
    check_prefix("remove", args, prefix)
    same = lambda other: bool(other) and os.path.realpath(other) == os.path.realpath(prefix)  # noqa: E731
    if same(env.get("CONDA_PREFIX")):
        raise CondaEnvironmentError("Cannot remove current environment. Deactivate and run conda remove again")
    if same(str(getattr(context, "root_prefix", "") or "")):
        raise CondaEnvironmentError("cannot remove root environment, add -n NAME or -p PREFIX option")

    progress = ConsoleProgress()
    progress.enabled = not context.json
    progress.json = bool(context.json)
    progress.is_tty = progress.animated = False
    progress.quiet = bool(context.quiet)
    with interrupt_signals():
        with prefix_lock(prefix, on_wait=_say_waiting):
            if not context.json:
                print(f"\nRemove all packages in environment {prefix}:\n")
            records = tuple(PrefixData(prefix).iter_records())
            if not records:
                if not context.json:
                    print(f"No packages found in {prefix}. Continuing environment removal")
            else:
                cmd = " ".join(["conda-deepdive", *(getattr(args, "_argv", None) or sys.argv[1:])])
                txn = UnlinkLinkTransaction(PrefixSetup(prefix, records, (), (), (), ()), context=context,
                                            reporter=progress, env=env, cmd=cmd)
                if not context.json:
                    print(txn.plan_text())
                    if context.dry_run:
                        raise DryRunExit()
                    _confirm(context)
                elif context.dry_run:
                    _print_json({"actions": txn.json_actions(), "dry_run": True, "prefix": prefix,
                                 "success": True})
                    raise DryRunExit()
                progress.fetch_started()
                txn.download_and_extract()
                progress.fetch_finished()
                _txn_step(progress, "Preparing transaction", txn.prepare)
                _txn_step(progress, "Verifying transaction", txn.verify)
                _txn_step(progress, "Executing transaction", txn.execute)
                if context.json:
                    _print_json({"actions": txn.json_actions(), "prefix": prefix, "success": True})
            if not context.dry_run and not getattr(args, "keep_env", None):
                if not context.json:
                    confirm_yn(context,
                               f"Everything found within the environment ({prefix}), including any conda "
                               "environment configurations and any non-conda files, will be deleted. "
                               "Do you wish to continue?\n")
                remove_environment(prefix, env)
    return 0


def _print_json(doc: dict) -> None:
    import json

    print(json.dumps(doc, indent=2, sort_keys=True))
