"""``create`` / ``install`` / ``update`` / ``remove``: conda's ``conda.cli.install.install()``.

The command modules (``main_install.py`` …) hand their parsed arguments here. We build a
:class:`~conda_deepdive.pipeline.Session` from them and run its stages; this module only decides
what to *print*: the progress lines, the package plan, the confirmation prompt, conda's
``--json`` documents and the closing messages. Everything that changes the environment happens
inside the stages.

The progress lines are conda's *spinners* (``conda.reporters.get_spinner``, drawn by
``conda/plugins/reporter_backends/console.py``). Each one is ``"<message>: "`` followed by
``done`` or by the spinner's failure text. What to notice:

* when stdout is not a terminal (a pipe, a notebook, our tests), or with ``--quiet``, or
  ``TERM=dumb``, conda does not animate: it writes ``...working... `` after the colon, so a
  piped run reads ``Solving environment: ...working... done``. On a terminal the line ends up
  as ``Solving environment: done`` (we print that final text without the animation);
* the classic solver (``conda/core/solve.py``, the one the fidelity data was produced with)
  opens one ``Collecting package metadata (<repodata file>)`` spinner per repodata file and one
  ``Solving environment`` spinner per try. A failed try prints *why conda will try again*
  (``unsuccessful initial attempt using frozen solve…`` / ``unsuccessful attempt using
  repodata from current_repodata.json…``) or ``failed`` — so the retry loop of
  ``conda.cli.install`` is visible in the output. (The ``Channels:`` / ``Platform:`` header
  comes from the libmamba solver's spinner message, not from classic);
* ``--json`` prints none of this: conda's JSON reporter backend draws no spinners.

What the stages report as *warnings and messages* is printed where conda prints it:

* a package script's ``.messages.txt`` — on stdout, inside the open ``Executing transaction``
  line (stderr with ``--json``), as ``conda.core.link.messages`` prints it;
* a failed transaction — ``ERROR conda.core.link:_execute(1070): An error occurred while
  installing package '…'.`` on stderr, then ``Rolling back transaction: ...working... done``;
* conda's pre-link warning — on stderr in the shape of Python's ``warnings.warn``;
* ``safety_checks: warn`` / ``path_conflict: warn`` findings — the whole list, on stderr (on
  stdout as one JSON line with ``--json``), as ``conda.exceptions.maybe_raise`` prints them;
* conda-deepdive's own notices (stale repodata cache used, a wait for the prefix lock) — one
  ``WARNING: …`` line on stderr.

Ctrl-C and SIGTERM anywhere in the run raise ``CondaSignalInterrupt`` (exit 130 after the
rollback); the prefix lock (``transaction/prefix_lock.py``) is held from before the solve to the
end, so a second process changing the same prefix waits and then solves against what the first
one left.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

from conda_deepdive.exceptions import CondaSystemExit, PackagesNotFoundInPrefixError
from conda_deepdive.reporting import Reporter

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any, TextIO

__all__ = ["install", "run_session", "ConsoleProgress"]

SOLVING = "Solving environment"
# conda/core/solve.py (classic Solver.solve_final_state): the Solving spinner's failure texts
FROZEN_RETRY = "unsuccessful initial attempt using frozen solve. Retrying with flexible solve."
NEXT_REPODATA = "unsuccessful attempt using repodata from {fn}, retrying with next repodata source."
FAILED = "failed"
#: conda.core.link.UnlinkLinkTransaction._execute's log.error, with conda 26.7.1's line number
EXECUTE_ERROR = "ERROR conda.core.link:_execute(1070): An error occurred while {verb} package '{dist}'.\n"
ROLLING_BACK = "Rolling back transaction"
#: where conda's pre-link warnings.warn() points (conda 26.7.1; the directory depends on the install)
PRE_LINK_WARNING_SOURCE = "conda/core/link.py:1622"


def collecting(repodata_fn: str) -> str:
    """The metadata spinner's message for one repodata file."""
    return f"Collecting package metadata ({repodata_fn})"


class ConsoleProgress(Reporter):
    """conda's console spinners, written as plain text, fed by the session's tracer events.

    It forwards every tracer call to ``inner`` (so notebooks and ``--export`` still see them) and
    watches the solve stage's ``attempt`` events: each one ends a ``Solving environment`` line.
    Nothing is written until :meth:`configure` has seen the Context, nor ever with ``--json``.
    """

    def __init__(self, inner: Reporter | None = None, stream: TextIO | None = None,
                 tty: bool | None = None) -> None:
        self.inner = inner or Reporter()
        self._stream = stream
        self._tty = tty
        self.enabled = False
        self.animated = False
        self._open: str | None = None  # message of the spinner whose line is still open
        self._collected: set[str] = set()
        self._last_fn = "repodata.json"
        self._retry_unfrozen = False
        self.json = False

    def __repr__(self) -> str:
        return f"ConsoleProgress(enabled={self.enabled}, animated={self.animated}, open={self._open!r})"

    # -- setup -----------------------------------------------------------------------------------
    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def configure(self, session: Any) -> None:
        """Decide, from the session's Context, whether and how to draw (call after ``context``)."""
        from conda_deepdive.solve.install_flow import args_update_modifier
        from conda_deepdive.solve.solve import attempt_repodata_fns
        from conda_deepdive.solve.solve_specs import FREEZE_INSTALLED, UPDATE_SPECS

        context, command = session.context, session.command
        self.enabled = not context.json
        self.json = bool(context.json)
        is_tty = self._tty if self._tty is not None else _isatty(self.stream)
        term = str(session.env.get("TERM", ""))
        # console.py: animations are off with --quiet, when stdout is no TTY, or for a dumb TERM
        self.animated = not context.quiet and is_tty and term not in ("dumb", "unknown")
        self.is_tty = is_tty and term not in ("dumb", "unknown")
        self.quiet = bool(context.quiet)
        self._last_fn = attempt_repodata_fns(command, context, context.repodata_fns)[-1]
        typed = args_update_modifier(session.args)
        typed = None if typed is None else typed.lower().replace("-", "_")
        # conda.cli.install: the unfrozen retry is skipped for create and for an explicit
        # --freeze-installed / --update-specs
        self._retry_unfrozen = (typed is None or typed not in (FREEZE_INSTALLED, UPDATE_SPECS)) \
            and command != "create"

    # -- spinners --------------------------------------------------------------------------------
    def write(self, text: str) -> None:
        if not self.enabled:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:  # conda's spinners swallow a closed pipe (`| head`)
            self.enabled = False

    def begin(self, message: str) -> None:
        """Open a spinner line: ``"<message>: "`` (+ ``...working... `` when not animated)."""
        if not self.enabled:
            return
        self.end(FAILED)  # never leave a line half-written
        self.write(f"{message}: " + ("" if self.animated else "...working... "))
        self._open = message

    def end(self, tail: str = "done") -> None:
        """Close the open spinner line with ``done`` or a failure text."""
        if self._open is None:
            return
        self._open = None
        self.write(tail + "\n")

    @property
    def open_message(self) -> str | None:
        return self._open

    def collected(self, repodata_fn: str) -> None:
        self._collected.add(repodata_fn)

    def fail_message(self, repodata_fn: str, update_modifier: str) -> str:
        """The Solving spinner's failure text for one try (classic ``solve_final_state``)."""
        from conda_deepdive.solve.solve_specs import FREEZE_INSTALLED

        # should_retry_solve = _should_retry_unfrozen or not the last repodata file; only a
        # frozen try can carry it, the unfrozen retry always solves with update_specs
        should_retry = self._retry_unfrozen or repodata_fn != self._last_fn
        if should_retry and update_modifier == FREEZE_INSTALLED:
            return FROZEN_RETRY
        if repodata_fn != "repodata.json":
            return NEXT_REPODATA.format(fn=repodata_fn)
        return FAILED

    def fetch_started(self) -> None:
        """package_cache_data: the header of the download/extract section (not with --quiet);
        on a terminal, one progress bar per package below it (render/progress_bars.py)."""
        if self.enabled and not self.quiet:
            end = "\n" if self.is_tty else " ...working..."
            self.write("\nDownloading and Extracting Packages:" + end)
            if self.animated:
                from conda_deepdive.render.progress_bars import FetchProgressBars

                self._bars = FetchProgressBars(self.stream).start()

    def fetch_finished(self) -> None:
        """Close the bars (they vanish, conda's leave=False), then conda's closing text; called
        after a failed fetch too, as conda prints it before raising."""
        bars, self._bars = getattr(self, "_bars", None), None
        if bars is not None:
            bars.stop()
        if self.enabled and not self.quiet:
            self.write("\r\n" if self.is_tty else " done\n")

    def _attempt(self, repodata_fn: str, update_modifier: str, outcome: str) -> None:
        if not self.enabled:
            return
        if self._open != SOLVING:
            # a later try: a new Solver collects its repodata file first; the unfrozen retry
            # reuses its Solver's metadata and only solves again
            if repodata_fn not in self._collected:
                self.begin(collecting(repodata_fn))
                self.end("done")
                self.collected(repodata_fn)
            self.begin(SOLVING)
        self.end("done" if outcome == "ok" else self.fail_message(repodata_fn, update_modifier))

    # -- Reporter protocol: forward everything, watch the solve attempts --------------------------
    def stage_started(self, stage: str, title: str) -> None:
        self.inner.stage_started(stage, title)

    def stage_finished(self, stage: str, result: Any) -> None:
        self.inner.stage_finished(stage, result)

    def listens(self, stage: str) -> bool:
        return stage in ("solve", "link", "transaction") or self.inner.listens(stage)

    def event(self, stage: str, kind: str, **data: Any) -> None:
        self.inner.event(stage, kind, **data)
        if stage == "solve" and kind == "attempt":
            self._attempt(str(data.get("repodata_fn")), str(data.get("update_modifier")),
                          str(data.get("outcome")))
        elif stage == "link":
            self._link_event(kind, data)
        elif stage == "transaction" and kind == "printed_errors":
            # conda.exceptions.print_conda_exception of the verify findings
            if self.json:
                _write(sys.stdout, json.dumps(data.get("json"), sort_keys=True) + "\n")
            else:
                _write(sys.stderr, f"\n{data.get('text')}\n\n")

    def _link_event(self, kind: str, data: dict) -> None:
        if kind == "script_messages":
            # conda.core.link.messages: print(m), on stderr with --json
            _write(sys.stderr if self.json else self.stream, f"{data.get('text')}\n")
        elif kind == "failed":
            if self._open is not None:
                self.end("done")  # conda's Executing spinner ends before the rollback starts
            if data.get("dist") and not data.get("interrupted") and data.get("group") in ("link", "unlink"):
                verb = "uninstalling" if data.get("group") == "unlink" else "installing"
                _write(sys.stderr, EXECUTE_ERROR.format(verb=verb, dist=data["dist"]))
        elif kind == "rollback_started":
            self.begin(ROLLING_BACK)
        elif kind == "rollback_finished":
            self.end("done")

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        self.inner.progress(stage, task, done, total)
        bars = getattr(self, "_bars", None)
        if bars is not None:
            bars.progress(stage, task, done, total)

    def warning(self, stage: str, message: str) -> None:
        self.inner.warning(stage, message)
        if " uses a pre-link script. Pre-link scripts are potentially dangerous." in message:
            # Python's warnings.showwarning format, as conda's warnings.warn() appears
            _write(sys.stderr, f"{PRE_LINK_WARNING_SOURCE}: UserWarning: {message}\n  warnings.warn(\n")
        elif message.startswith("pre-unlink script failed for package "):
            _write(sys.stderr, f"WARNING conda.core.link:run_script(1716): {message}\n")
        elif stage in ("index", "fetch") or message.startswith("reverse of "):
            _write(sys.stderr, f"WARNING: {message}\n")


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (BrokenPipeError, ValueError):
        pass


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


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


def _spun(session: Any, progress: ConsoleProgress, message: str | None, until: str) -> None:
    """Run stages up to ``until`` inside one spinner (``None``: no spinner of its own)."""
    if message is not None:
        progress.begin(message)
    try:
        session.run(until=until)
    except BaseException:
        progress.end(FAILED)
        raise
    progress.end("done")


def _attach(session: Any) -> ConsoleProgress:
    """Put a ConsoleProgress in front of the session's tracer (before any solver exists)."""
    existing = session.reporter
    if isinstance(existing, ConsoleProgress):
        return existing
    if "index" in session.results:
        raise ValueError("attach the console progress before the session fetches its index")
    progress = ConsoleProgress(existing)
    session.reporter = progress
    return progress


def run_session(session: Any, *, confirm: bool = True) -> int:
    """Run an already built session to its end, printing what conda prints. Returns the exit code."""
    from contextlib import ExitStack

    from conda_deepdive.transaction.transaction import interrupt_signals

    progress = _attach(session)
    with interrupt_signals(), ExitStack() as held:  # Ctrl-C / SIGTERM -> CondaSignalInterrupt
        return _run_session(session, progress, confirm, held)


def _say_waiting(message: str) -> None:
    """The one line a second process prints while it waits for the prefix lock."""
    _write(sys.stderr, message + "\n")


def _run_session(session: Any, progress: "ConsoleProgress", confirm: bool, held: Any) -> int:
    session.run(until="context")
    if "context" not in session.results or session.stopped_reason:
        session.run(until="transaction")  # not a solving command: nothing to print
        return 0
    context = session.context
    progress.configure(session)
    from conda_deepdive.solve.install_flow import first_attempt

    if not context.dry_run:
        from conda_deepdive.transaction.prefix_lock import prefix_lock

        # before the solve reads the prefix: a second process solves against what we leave
        held.enter_context(prefix_lock(context.target_prefix, on_wait=_say_waiting))
    if session.command == "create":
        _replace_existing_prefix(context, session.env)
    elif session.command == "remove":
        from conda_deepdive.solve.install_flow import check_remove_specs

        check_remove_specs(session.args, context.target_prefix)

    force_remove = session.command == "remove" and bool(
        getattr(session.args, "force_remove", None) or getattr(context, "force_remove", False))
    if getattr(session, "explicit", False):
        # conda.misc.explicit: the packages are fetched first (only the files say what they
        # are), then no metadata is collected and nothing is solved
        progress.fetch_started()
        try:
            session.run(until="index")
        finally:
            progress.fetch_finished()
        session.run(until="solve")
    elif force_remove:
        # classic Solver: removing with --force returns before any spinner is drawn
        session.run(until="solve")
    else:
        first_fn = first_attempt(session.command, session.args, context)[0]
        _spun(session, progress, collecting(first_fn), "index")
        progress.collected(first_fn)
        # the Solving line stays open until the solve loop reports its first attempt
        _spun(session, progress, SOLVING, "solve")
    session.run(until="transaction")
    txn = session.results["transaction"]
    prefix = context.target_prefix
    explicit = bool(getattr(session, "explicit", False))
    if txn.nothing_to_do and not explicit:
        if session.command == "remove":
            from conda_deepdive.solve.install_flow import remove_specs

            # conda.cli.install.handle_txn: nothing to remove
            raise PackagesNotFoundInPrefixError(remove_specs(session.args), prefix=prefix)
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
        if confirm and not explicit:  # install_explicit_packages never asks
            _confirm(context)
    # conda's handle_txn: download_and_extract(), then execute() = prepare, verify, execute
    progress.fetch_started()
    try:
        session.run(until="fetch")
    finally:
        progress.fetch_finished()
    if explicit and txn.nothing_to_do:
        # conda runs txn.execute() on the empty transaction all the same
        for message in ("Preparing transaction", "Verifying transaction", "Executing transaction"):
            _txn_step(progress, message, lambda: None)
    if session.next_stage == "link":
        _txn_step(progress, "Preparing transaction", txn.prepare)
        _txn_step(progress, "Verifying transaction", txn.verify)
        _spun(session, progress, "Executing transaction", "link")
    if context.json:
        if not explicit:  # conda's explicit path returns before handle_txn prints a document
            _print_json({"actions": txn.json_actions(), "prefix": prefix, "success": True})
    elif session.command == "create" and not context.quiet:
        print(
            "#\n# To activate this environment, use\n#\n"
            f"#     $ conda activate {prefix}\n#\n"
            "# To deactivate an active environment, use\n#\n#     $ conda deactivate\n"
        )
    return 0


def confirm_yn(context: Any, message: str, default: str = "no") -> None:
    """conda's ``reporters.confirm_yn`` + the console prompt: ``-y`` answers yes; otherwise
    ``<message> ([y]/n)? `` on stdout, an empty answer (or end of input) is ``default``, and
    "no" exits with ``CondaSystemExit: Exiting.``"""
    if context.always_yes:
        return
    options = "/".join(f"[{c[0]}]" if c == default else c[0] for c in ("yes", "no"))
    choices = {"yes": "yes", "y": "yes", "no": "no", "n": "no", "": default}
    while True:
        sys.stdout.write(f"{message} ({options})? ")
        sys.stdout.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer in choices:
            sys.stdout.write("\n")
            break
        print(f"Invalid choice: {answer}")
    if choices[answer] == "no":
        raise CondaSystemExit("Exiting.")


def _replace_existing_prefix(context: Any, env: Any) -> None:
    """conda.cli.main_create: an environment (``conda-meta/history``) at the target is removed
    after a confirmation (``-y`` confirms); a plain directory is kept, after a confirmation."""
    from conda_deepdive.solve.install_flow import existing_target, remove_environment

    prefix = context.target_prefix
    kind = existing_target(prefix)
    if kind == "environment":
        confirm_yn(context,
                   f"WARNING: A conda environment already exists at '{prefix}'\n\n"
                   "Remove existing environment?\nThis will remove ALL directories contained within "
                   "this specified prefix directory, including any other conda environments.\n\n")
        remove_environment(prefix, env)
    elif kind == "directory":
        confirm_yn(context,
                   f"WARNING: A directory already exists at the target location '{prefix}'\n"
                   "but it is not a conda environment.\nContinue creating environment")


def _txn_step(progress: ConsoleProgress, message: str, step: Any) -> None:
    progress.begin(message)
    try:
        step()
    except BaseException:
        progress.end(FAILED)
        raise
    progress.end("done")


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
    session = Session(parsed=parsed, parser=parser, env=env,
                      reporter=ConsoleProgress(reporter or Reporter()))
    sys.stdout.flush()
    return run_session(session)
