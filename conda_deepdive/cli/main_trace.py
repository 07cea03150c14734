"""``trace``: run a conda command for real, stage by stage, and show what each stage did.

``python -m conda_deepdive trace install numpy`` builds the same :class:`~conda_deepdive.pipeline.Session`
that ``install`` would build, attaches two reporters to it — a
:class:`~conda_deepdive.reporting.RecordingReporter` (the raw events, for ``--export``) and a
:class:`~conda_deepdive.render.console.LiveReporter` (warnings and progress bars while a stage
runs) — and after every stage draws that stage's section (:mod:`conda_deepdive.render.sections`).

Options (see ``trace --help``): ``--step`` pauses after every stage (Enter goes on, ``q``
stops; stopping before ``link`` leaves the prefix as it was), ``--stage NAME`` runs up to NAME
and shows it in full, ``--export FILE`` writes the whole trace as ``.json``/``.html``/``.svg``
(deterministic: no timings, placeholders for machine paths), ``--graph FILE`` writes the
solution's dependency graph as ``.dot`` or ``.svg``, ``--json`` prints the trace document (the
same bytes as ``--export trace.json``) and nothing else on stdout; like conda's JSON mode it
asks no confirmation.

Without ``-p``/``-n`` the command runs in a *fresh temporary environment* (for ``install``,
``update`` and ``remove`` an empty one with ``conda-meta/history``, so conda's prefix checks
pass) and the confirmation is answered with yes. A trace leaves nothing behind on a machine
that also has a real conda: the temporary environment is removed at the end (``--keep`` keeps
it to look around in) and is never registered in ``~/.conda/environments.txt`` — the file the
real ``conda env list`` reads — because the nested command runs with conda's own switch for
that, ``CONDA_REGISTER_ENVS=false`` (the ``register_envs`` setting; you see it in the Context
stage as set by ``envvars``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping

from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["execute", "Tracer", "TraceOptions", "prepare_nested"]


@value_object
class TraceOptions:
    step: bool = False
    stage: str | None = None
    export: str | None = None
    graph: str | None = None
    keep: bool = False
    json: bool = False

    @classmethod
    def from_args(cls, args: Any) -> "TraceOptions":
        return cls(step=bool(getattr(args, "step", None)), stage=getattr(args, "stage", None),
                   export=getattr(args, "export", None), graph=getattr(args, "graph", None),
                   keep=bool(getattr(args, "keep", None)), json=bool(getattr(args, "json", None)))


@value_object
class PreparedCommand:
    """The nested command, ready to run: re-parsed with a prefix when we had to make one."""

    parsed: Any
    temp_root: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str | None:
        return getattr(self.parsed.namespace, "prefix", None)


#: conda's switch for ~/.conda/environments.txt (conda.core.envs_manager.register_env)
REGISTER_ENVS_VAR = "CONDA_REGISTER_ENVS"


def prepare_nested(nested: Any, parser: Any, env: dict[str, str], *, assume_yes: bool = True) -> PreparedCommand:
    """Give the nested command a fresh temporary prefix when it has no ``-p``/``-n``.

    ``create`` gets a path that does not exist yet; ``install``/``update``/``remove`` get an
    empty environment (``conda-meta/history``), which is what conda checks for. ``env`` (the
    variables the run will see) gets ``CONDA_REGISTER_ENVS=false``, so the throw-away prefix is
    never added to the user's ``~/.conda/environments.txt``.
    """
    from conda_deepdive.cli.parser import TEMPORARY_PREFIX, parse_command

    ns = nested.namespace
    typed_argv = list(nested.argv)
    if getattr(ns, "prefix", None) == TEMPORARY_PREFIX:
        typed_argv = typed_argv[:-2]  # the marker parse_command added for a bare `create`
    elif getattr(ns, "prefix", None) or getattr(ns, "name", None):
        return PreparedCommand(nested)
    root = tempfile.mkdtemp(prefix="conda-deepdive-trace-", dir=env.get("TMPDIR") or None)
    prefix = os.path.join(root, "env")
    if nested.command != "create":
        os.makedirs(os.path.join(prefix, "conda-meta"))
        with open(os.path.join(prefix, "conda-meta", "history"), "w", encoding="utf-8"):
            pass
    argv = [*typed_argv, "-p", prefix]
    notes = [f"No -p/-n given: using a fresh temporary environment {prefix}"
             + ("" if nested.command == "create" else
                " (created empty, with conda-meta/history, so conda's prefix checks pass)")]
    env[REGISTER_ENVS_VAR] = "false"
    notes.append(f"It is not registered in ~/.conda/environments.txt ({REGISTER_ENVS_VAR}=false).")
    if assume_yes and not getattr(ns, "yes", None) and not getattr(ns, "dry_run", None):
        argv.append("-y")
        notes.append("The confirmation is answered with yes (-y).")
    return PreparedCommand(parse_command(argv, parser), root, notes)


class Tracer:
    """Runs one Session stage by stage and draws it. ``last_stage`` caps the run (explain: solve)."""

    def __init__(self, nested: Any, parser: Any, env: Mapping[str, str], options: TraceOptions,
                 console: Any = None, *, last_stage: str | None = None, compact: bool = False,
                 stdin: Any = None) -> None:
        from rich.console import Console

        from conda_deepdive.pipeline import STAGES
        from conda_deepdive.render.console import LiveReporter
        from conda_deepdive.reporting import MultiReporter, RecordingReporter

        self.env = dict(env)
        self.options = options
        if console is None and options.json:
            import io

            console = Console(file=io.StringIO(), highlight=False)  # stdout carries only the JSON
        self.console = console or Console(highlight=False)
        self.stdin = stdin or sys.stdin
        self.last_stage = last_stage
        self.compact = compact
        names = [s.name for s in STAGES]
        if options.stage is not None and options.stage not in names:
            from conda_deepdive.exceptions import CondaValueError

            raise CondaValueError(f"unknown stage '{options.stage}': choose one of {', '.join(names)}")
        if options.export:
            from conda_deepdive.render.export import check_export_path

            check_export_path(options.export)
        if options.graph:
            _check_graph_path(options.graph)
        self.prepared = prepare_nested(nested, parser, self.env)
        self.recorder = RecordingReporter()
        self.live = LiveReporter(self.console)
        from conda_deepdive.pipeline import Session

        self.session = Session(parsed=self.prepared.parsed, parser=parser, env=self.env,
                               reporter=MultiReporter([self.recorder, self.live]))
        self.error: BaseException | None = None
        self.error_stage: str | None = None
        self.extra: dict[str, Any] = {}

    # -- running ----------------------------------------------------------------------------
    def run(self) -> int:
        try:
            return self._run()
        finally:
            self.cleanup()  # also after Ctrl-C or a crash: no temporary environment is left behind

    def _run(self) -> int:
        from conda_deepdive.exceptions import CondaError
        from conda_deepdive.render.console import error_panel

        for note in self.prepared.notes:
            self.console.print(note, style="italic", markup=False, highlight=False)
        session = self.session
        target = self.options.stage
        while session.next_stage is not None:
            name = session.next_stage
            if name == "fetch" and not self._confirmed():
                session.stop("you answered no: nothing was fetched or linked")
                break
            try:
                session.next()
            except CondaError as exc:
                self.error, self.error_stage = exc, name
                self.console.print(error_panel(exc, name))
                attempts = self.attempts_table()
                if attempts is not None:
                    self.console.print(attempts)
                break
            self.show(name)
            if name == target or name == self.last_stage:
                break
            if self.options.step and session.next_stage is not None and not self._pause(name):
                session.stop(f"stopped by you after {name}"
                             + ("; the prefix was not touched" if "link" not in session.results else ""))
                break
        self.after_run()
        self.finish()
        return 1 if self.error is not None else 0

    def show(self, name: str) -> None:
        """Draw a finished stage: its full panel, or one line when only another stage is wanted."""
        from rich.text import Text

        from conda_deepdive.render.console import STAGE_TITLES, stage_panel
        from conda_deepdive.render.sections import one_line

        target = self.options.stage
        if (target is not None and name != target) or (self.compact and target is None and not self.options.step):
            seconds = self.session.seconds.get(name, 0.0)
            self.console.print(Text.assemble(("✓ ", "green"), (STAGE_TITLES[name], "bold"), " — ",
                                             one_line(name, self.session.results[name]),
                                             (f"  ({seconds:.3f} s)", "dim")))
            return
        self.console.print(stage_panel(self.session, name, full=(name == target)))

    def after_run(self) -> None:
        """Hook for explain: what to draw once the stages have run."""

    def attempts_table(self) -> Any:
        """The tries of conda's solve loop, from the recorded ``attempt`` events (a failed solve
        has no result object to show them)."""
        from conda_deepdive.render.actions import simple_table, _t

        attempts = [e.data for e in self.recorder.events if e.stage == "solve" and e.kind == "attempt"]
        if not attempts:
            return None
        table = simple_table("#", "repodata file", "update_modifier", "outcome",
                       title="What conda tried before giving up")
        for i, a in enumerate(attempts, 1):
            table.add_row(_t(i), _t(a.get("repodata_fn")), _t(a.get("update_modifier")),
                          _t(a.get("outcome"), "green" if a.get("outcome") == "ok" else "red"))
        return table

    def _pause(self, name: str) -> bool:
        from conda_deepdive.render.console import STAGE_TITLES

        nxt = self.session.next_stage
        self.console.print(f"── paused after {STAGE_TITLES[name]} · Enter: run {STAGE_TITLES[nxt]} · "
                           "q: stop ──", style="bold magenta", markup=False, highlight=False)
        answer = self._read_line()
        return answer is not None and answer.strip().lower() not in ("q", "quit", "n", "no")

    def _confirmed(self) -> bool:
        context = self.session.results.get("context")
        if context is None or context.always_yes or context.dry_run or self.options.json:
            return True  # conda's JSON reporter does not ask either
        self.console.print("Proceed ([y]/n)? ", end="", markup=False, highlight=False)
        answer = self._read_line()
        return answer is not None and answer.strip().lower() in ("", "y", "yes")

    def _read_line(self) -> str | None:
        try:
            self.console.file.flush()
            line = self.stdin.readline()
        except (KeyboardInterrupt, EOFError):
            return None
        return line if line else None  # "" = end of input: treat as "stop"

    # -- the end ----------------------------------------------------------------------------
    def finish(self) -> None:
        from conda_deepdive.render.console import result_panel

        notes = list(self.end_notes())
        self.console.print(result_panel(self.session, notes=notes, error=self.error))
        if self.options.graph and "solve" in self.session.results:
            from conda_deepdive.render.graph import write_graph

            kind = write_graph(self.solution_graph(), self.options.graph)
            self.console.print(f"dependency graph written to {self.options.graph} ({kind})",
                               markup=False, highlight=False)
        if self.options.export:
            path = self.write_export(self.options.export)
            self.console.print(f"trace written to {path}", markup=False, highlight=False)
        if self.options.json:
            from conda_deepdive.render.export import dumps_trace

            sys.stdout.write(dumps_trace(self.trace_document()))
            sys.stdout.flush()
        self.cleanup()

    def end_notes(self) -> list[str]:
        notes = []
        wanted = self.options.stage
        if wanted and wanted not in self.session.results and self.error is None:
            why = self.session.stopped_reason or "the run ended before it"
            notes.append(f"Stage '{wanted}' was not reached: {why}.")
        root = self.prepared.temp_root
        if root is not None:
            if self.options.keep:
                notes.append(f"The temporary environment is kept at {self.prepared.prefix} (--keep) — "
                             f"look around, then delete it with: rm -rf {root}")
            elif "link" in self.session.results:
                notes.append("The temporary environment was removed (trace --keep keeps it to look around in).")
            else:
                notes.append("The temporary environment was removed (nothing was linked into it).")
        elif "link" in self.session.results:
            notes.append(f"The environment {self.session.context.target_prefix} was changed.")
        elif "context" in self.session.results:
            notes.append("Nothing was linked: the environment is as it was.")
        return notes

    def cleanup(self) -> None:
        """Remove the temporary environment (unless --keep); safe to call more than once."""
        root = self.prepared.temp_root
        if root is not None and not self.options.keep:
            shutil.rmtree(root, ignore_errors=True)

    def solution_graph(self) -> Any:
        from conda_deepdive.render.graph import dependency_graph

        final = self.session.results["solve"].final_state
        return dependency_graph(r for r in final if not r.name.startswith("__"))

    def sanitizer(self) -> Any:
        from conda_deepdive.render.sanitize import Sanitizer

        extra = {}
        if self.prepared.temp_root:
            extra[self.prepared.temp_root] = "<TMP>"
            extra[self.prepared.prefix] = "<PREFIX>"
        return Sanitizer.for_session(self.session, extra)

    def panels(self, sanitizer: Any) -> list:
        """Every section again, without timings and with placeholders (for exports)."""
        from conda_deepdive.render.console import error_panel, result_panel, stage_panel
        from conda_deepdive.render.sanitize import sanitizing

        with sanitizing(sanitizer):
            out = [stage_panel(self.session, name, timings=False) for name in self.session.results]
            if self.error is not None:
                out.append(error_panel(self.error, self.error_stage))
                attempts = self.attempts_table()
                if attempts is not None:
                    out.append(attempts)
            out.extend(self.extra_panels())
            out.append(result_panel(self.session, timings=False, notes=self.export_notes(), error=self.error))
        return out

    def extra_panels(self) -> list:
        return []

    def export_notes(self) -> list[str]:
        return list(self.prepared.notes[:2]) if self.prepared.temp_root else []

    def trace_document(self) -> dict:
        """The JSON document of this trace (``--json``; ``--export x.json`` writes the same)."""
        from conda_deepdive.render.export import trace_document

        extra = {"temporary_prefix": self.prepared.temp_root is not None, **self.extra}
        return trace_document(self.session, self.recorder, self.sanitizer(), error=self.error, extra=extra)

    def write_export(self, path: str) -> str:
        from conda_deepdive.render.export import write_export

        sanitizer = self.sanitizer()
        extra = {"temporary_prefix": self.prepared.temp_root is not None, **self.extra}
        panels = self.panels(sanitizer) if not path.lower().endswith(".json") else []
        return str(write_export(path, self.session, self.recorder, panels, sanitizer,
                                error=self.error, extra=extra))


def _check_graph_path(path: str) -> None:
    from conda_deepdive.exceptions import CondaValueError

    if os.path.splitext(path)[1].lower() not in (".dot", ".gv", ".svg"):
        raise CondaValueError(f"cannot write a dependency graph to '{os.path.basename(path)}': "
                              "use a .dot or .svg file name")


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    nested = getattr(args, "nested", None)
    env = dict(os.environ if env is None else env)
    tracer = Tracer(nested, parser, env, TraceOptions.from_args(args))
    sys.stdout.flush()
    return tracer.run()
