"""``create`` / ``install`` / ``update`` / ``remove``: conda's ``conda.cli.install.install()``.

The command modules (``main_install.py`` …) hand their parsed arguments here. We build a
:class:`~conda_deepdive.pipeline.Session` from them and run its stages; this module only decides
what to *print*: the package plan, the confirmation prompt, conda's ``--json`` documents and the
closing messages. Everything that changes the environment happens inside the stages.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Mapping

from conda_deepdive.exceptions import CondaSystemExit, PackagesNotFoundError

__all__ = ["install", "run_session"]


def _print_json(doc: dict) -> None:
    print(json.dumps(doc, indent=2, sort_keys=True))


def _confirm(context: Any) -> None:
    """conda's ``confirm_yn``: ``-y`` skips the question; no answer aborts."""
    if context.always_yes:
        return
    try:
        answer = input("Proceed ([y]/n)? ").strip().lower()
    except EOFError:
        answer = "n"
    if answer not in ("", "y", "yes"):
        raise CondaSystemExit("Exiting.")


def run_session(session: Any, *, confirm: bool = True) -> int:
    """Run an already built session to its end, printing what conda prints. Returns the exit code."""
    session.run(until="transaction")
    context = session.context
    if session.command not in ("create", "install", "update", "remove"):
        return 0
    txn = session.results["transaction"]
    prefix = context.target_prefix
    if txn.nothing_to_do:
        if session.command == "remove":
            from conda_deepdive.install_flow import remove_specs

            raise PackagesNotFoundError(remove_specs(session.args))
        if session.command != "create":
            if context.json:
                _print_json({"message": "All requested packages already installed.", "success": True})
            else:
                print("\n# All requested packages already installed.\n")
            return 0
    if context.json and context.dry_run:
        _print_json({"actions": txn.json_actions(), "dry_run": True, "prefix": prefix, "success": True})
        return 0
    if not context.json:
        print(txn.plan_text())
        if context.dry_run:
            print("\nDryRunExit: Dry run. Exiting.\n")
            return 0
        if confirm:
            _confirm(context)
    session.run()
    if context.json:
        _print_json({"actions": txn.json_actions(), "prefix": prefix, "success": True})
    elif session.command == "create":
        print(
            "#\n# To activate this environment, use\n#\n"
            f"#     $ conda activate {prefix}\n#\n"
            "# To deactivate an active environment, use\n#\n#     $ conda deactivate\n"
        )
    return 0


def install(args: Any, parser: Any, command: str = "install", env: Mapping[str, str] | None = None,
            reporter: Any = None) -> int:
    """The shared body of ``create``, ``install``, ``update`` and ``remove``."""
    from conda_deepdive.pipeline import Session

    parsed = getattr(args, "_parsed", None)
    if env is None:
        env = getattr(args, "_env", None)
    if parsed is None:
        from conda_deepdive.cli.parser import ParsedCommand

        parsed = ParsedCommand.from_namespace(args, command)
    session = Session(parsed=parsed, parser=parser, env=env, reporter=reporter)
    sys.stdout.flush()
    return run_session(session)
