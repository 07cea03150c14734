"""The Session: ``conda install`` as a sequence of stages you can step through.

Real conda runs ``conda.cli.install.install()`` from top to bottom in one go. A :class:`Session`
runs the very same stages, but one at a time, and keeps every stage's result object so that a
notebook cell (or ``trace --step``) can stop between them and look::

    >>> s = Session.from_argv(["install", "-p", "/tmp/env", "numpy"])
    >>> s.next()            # 1. the parsed command line
    >>> s.next()            # 2. the Context, with where every value came from
    >>> s.run(until="solve")
    >>> s.results["solve"].final_state

Stages, in order (see ``docs/ARCHITECTURE.md`` for the module behind each one):

====== ============= ==========================================================
 name   deep dive     what the result holds
====== ============= ==========================================================
parse   1 CLI         the argparse Namespace and the ``func`` that will run
context 2 Context     every setting with its source
index   3 Index       one SubdirData per channel x subdir, the records
priority 4 Priority   which channels offered each name and which were masked
specs   5a Specs      request + prefix state = the final list of specs
reduce  5b Reduction  what the solver will actually look at
solve   6 Solve       the SAT problem, optimisation passes, final state, attempts
transaction 7         PrefixSetup, UnlinkLinkTransaction, action groups
fetch   8             package cache hits, downloads, extractions
link    9             every path action executed, in order
====== ============= ==========================================================

What to notice: the retries of ``conda.cli.install`` (``current_repodata.json`` first, then
``repodata.json``; ``--freeze-installed`` first, then without) are not hidden — they show up as
``attempts`` on the solve result. A dry run stops after ``transaction``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence

from conda_deepdive.reporting import Reporter
from conda_deepdive.solve.install_flow import SolveStageResult
from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Session", "STAGES", "StageSpec", "SolveStageResult", "DeferredFailure"]


@value_object(frozen=True)
class StageSpec:
    """A stage's short name, its title as the deep dive numbers it, and the conda module it mirrors."""

    name: str
    title: str
    conda_module: str


STAGES: tuple[StageSpec, ...] = (
    StageSpec("parse", "1. CLI parse", "conda.cli.conda_argparse"),
    StageSpec("context", "2. Context", "conda.base.context"),
    StageSpec("index", "3. Index fetch", "conda.core.subdir_data"),
    StageSpec("priority", "4. Channel priority", "conda.resolve (channel priority)"),
    StageSpec("specs", "5a. Request + prefix state = specs", "conda.core.solve.SolverStateContainer"),
    StageSpec("reduce", "5b. Index reduction", "conda.resolve.Resolve.get_reduced_index"),
    StageSpec("solve", "6. SAT solve", "conda.resolve.Resolve.solve"),
    StageSpec("transaction", "7. Transaction", "conda.core.link.UnlinkLinkTransaction"),
    StageSpec("fetch", "8. Fetch & extract", "conda.core.package_cache_data"),
    StageSpec("link", "9. Link & unlink", "conda.core.path_actions"),
)
STAGE_NAMES = tuple(s.name for s in STAGES)
_SOLVING_COMMANDS = ("create", "install", "update", "remove")


def _summary(obj: Any) -> Any:
    fn = getattr(obj, "summary", None)
    return fn() if callable(fn) else repr(obj)


@value_object(frozen=True, repr=False)  # its own __repr__ below
class DeferredFailure:
    """A stage of the *first* solve attempt failed in a way conda retries (for example a spec
    that ``current_repodata.json`` does not have). The solve stage shows what happened next."""

    stage: str
    error: BaseException

    def summary(self) -> dict:
        return {"deferred": type(self.error).__name__, "message": str(self.error),
                "note": "conda retries this; see the solve stage's attempts"}

    def __repr__(self) -> str:
        return f"DeferredFailure(stage={self.stage!r}, error={type(self.error).__name__})"


class Session:
    """Runs the stages of one ``conda`` command, one at a time, keeping every result.

    ``env`` replaces ``os.environ`` for everything the run reads (condarc location, ``CONDA_*``),
    so two sessions with different settings can live side by side in one notebook.
    """

    def __init__(
        self,
        argv: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        reporter: Reporter | None = None,
        *,
        parsed: Any = None,
        parser: Any = None,
    ) -> None:
        if argv is None and parsed is None:
            raise ValueError("Session needs argv or an already parsed command")
        self.argv = list(argv) if argv is not None else list(getattr(parsed, "argv", []) or [])
        self.env = dict(os.environ if env is None else env)
        self.reporter = reporter or Reporter()
        self.results: dict[str, Any] = {}
        self.seconds: dict[str, float] = {}
        self._parsed = parsed
        self._parser = parser
        self._stopped_reason: str | None = None
        self._deferred: BaseException | None = None  # first attempt's failure, for the solve loop
        self._explicit: tuple | None = None  # ExplicitSpecs of an explicit install (no solve)

    @classmethod
    def from_argv(cls, argv: Sequence[str], env: Mapping[str, str] | None = None,
                  reporter: Reporter | None = None) -> "Session":
        return cls(argv, env, reporter)

    # -- stepping -------------------------------------------------------------------------------
    @property
    def stages(self) -> tuple[str, ...]:
        return STAGE_NAMES

    @property
    def next_stage(self) -> str | None:
        if self._stopped_reason:
            return None
        for name in STAGE_NAMES:
            if name not in self.results:
                return name
        return None

    @property
    def finished(self) -> bool:
        return self.next_stage is None

    @property
    def stopped_reason(self) -> str | None:
        """Why the run ended before ``link`` (dry run, nothing to do, not a solving command)."""
        return self._stopped_reason

    def next(self) -> Any:
        """Run the next stage and return its result object."""
        name = self.next_stage
        if name is None:
            raise StopIteration(self._stopped_reason or "all stages have run")
        spec = STAGES[STAGE_NAMES.index(name)]
        self.reporter.stage_started(name, spec.title)
        start = time.perf_counter()
        result = getattr(self, f"_stage_{name}")()
        self.seconds[name] = time.perf_counter() - start
        self.results[name] = result
        self.reporter.stage_finished(name, result)
        return result

    def run(self, until: str | None = None) -> "Session":
        """Run stages until ``until`` (inclusive) or to the end; returns the session."""
        if until is not None and until not in STAGE_NAMES:
            raise ValueError(f"unknown stage {until!r}; stages are {', '.join(STAGE_NAMES)}")
        while self.next_stage is not None:
            name = self.next_stage
            self.next()
            if name == until:
                break
        return self

    def stop(self, reason: str) -> None:
        """End the run early: later stages will not run (the prefix is left as it is)."""
        self._stopped_reason = reason

    def __getitem__(self, stage: str) -> Any:
        return self.results[stage]

    def __repr__(self) -> str:
        done = ", ".join(self.results) or "-"
        return f"Session({' '.join(self.argv)!r}, done=[{done}], next={self.next_stage!r})"

    def summary(self) -> dict:
        return {
            "argv": self.argv,
            "stages": {name: _summary(result) for name, result in self.results.items()},
            "stopped": self._stopped_reason,
        }

    # -- helpers ---------------------------------------------------------------------------------
    @property
    def args(self) -> Any:
        return self.results["parse"].namespace

    @property
    def context(self) -> Any:
        return self.results["context"]

    @property
    def command(self) -> str:
        return self.results["parse"].command

    def _event(self, stage: str, kind: str, **data: Any) -> None:
        self.reporter.event(stage, kind, **data)

    # -- explicit installs (conda.misc.explicit): no index, no solve ----------------------------
    @property
    def explicit(self) -> bool:
        """True when the request names exact packages (files, URLs, an ``@EXPLICIT`` list)."""
        return self._explicit is not None

    def _start_explicit(self, lines: Sequence[str], context: Any) -> None:
        from conda_deepdive.exceptions import CondaUpdatePackageError, DryRunExit
        from conda_deepdive.solve.install_flow import NO_SOLVE
        from conda_deepdive.transaction.explicit import fetch_explicit, parse_explicit

        self._explicit = parse_explicit(lines)
        self._event("context", "explicit_request", specs=[str(s) for s in self._explicit],
                    reason=NO_SOLVE)
        if context.dry_run:
            raise DryRunExit()  # conda: before anything is fetched
        if self.command == "update":
            fetched = fetch_explicit(self._explicit, context, self.reporter)
            raise CondaUpdatePackageError([str(r) for r in fetched.records])

    def _explicit_skip(self, stage: str) -> Any:
        from conda_deepdive.solve.install_flow import NO_SOLVE
        from conda_deepdive.transaction.explicit import NoSolve

        self._event(stage, "skipped", reason=NO_SOLVE)
        return NoSolve(stage)

    def _explicit_solve(self) -> "SolveStageResult":
        from conda_deepdive.transaction.explicit import explicit_plan

        plan = explicit_plan(self.results["index"].records, self.context.target_prefix, self.context)
        self._event("solve", "no_solve", **plan.summary())  # its "reason" is NO_SOLVE
        return SolveStageResult(outcome=plan, unlink_precs=plan.unlink_precs,
                                link_precs=plan.link_precs, attempts=[], solver=plan)

    # -- the stages ------------------------------------------------------------------------------
    def _stage_parse(self) -> Any:
        from conda_deepdive.cli import parser as cli_parser

        if self._parsed is not None:
            parsed = self._parsed
        else:
            parsed = cli_parser.parse_command(self.argv)
        self._event("parse", "parsed", command=parsed.command, func=parsed.func,
                    argv=list(parsed.argv))
        if parsed.command not in _SOLVING_COMMANDS:
            self.stop(f"'{parsed.command}' does not change an environment")
        return parsed

    def _stage_context(self) -> Any:
        from conda_deepdive.config.context import Context
        from conda_deepdive.solve.install_flow import check_prefix, requested_specs, target_prefix_for

        context = Context.load(args=self.results["parse"].namespace, env=self.env)
        prefix = target_prefix_for(self.command, context)
        self._event("context", "target_prefix", prefix=prefix)
        # conda checks the prefix and the specs before it fetches anything
        check_prefix(self.command, self.args, prefix)
        if self.command != "remove":
            from conda_deepdive.solve.install_flow import explicit_request

            explicit = explicit_request(self.command, self.args, context)
            if explicit:
                self._start_explicit(explicit, context)
            else:
                requested_specs(self.command, self.args, context)
        return context

    def _stage_index(self) -> Any:
        if self._explicit is not None:  # the records come from the package files themselves
            from conda_deepdive.transaction.explicit import fetch_explicit

            return fetch_explicit(self._explicit, self.context, self.reporter)
        from conda_deepdive.index.index import fetch_index
        from conda_deepdive.solve.install_flow import first_attempt

        fn, _modifier = first_attempt(self.command, self.args, self.context)
        return fetch_index(self.context, repodata_fn=fn, reporter=self.reporter,
                           root_names=self._root_names)

    def _root_names(self) -> list[str]:
        """Where a sharded channel's subset starts (index/shards.py): the requested specs, the
        prefix's packages and history, pins, aggressive updates; virtual packages are added by
        fetch_index. Only called when some channel publishes shards."""
        from conda_deepdive.exceptions import CondaError
        from conda_deepdive.index.shards import root_names
        from conda_deepdive.solve.install_flow import remove_specs, requested_specs

        try:
            specs = (remove_specs(self.args) if self.command == "remove"
                     else requested_specs(self.command, self.args, self.context))
        except CondaError:
            specs = []
        return root_names(specs, self.context.target_prefix, self.context)

    def _first_solver(self) -> Any:
        """The Solver of the solve loop's first attempt; stages 4–5b run its phases one by one."""
        from conda_deepdive.solve.install_flow import first_attempt, make_solver

        if getattr(self, "_solver", None) is None:
            fn, _modifier = first_attempt(self.command, self.args, self.context)
            # stage 3 fetched exactly this repodata file (see _stage_index)
            self._solver = make_solver(self.command, self.args, self.context, fn,
                                       self.results["index"], self.reporter)
        return self._solver

    def _first_attempt_step(self, stage: str, step: Callable[[Any], Any]) -> Any:
        """Run one step of the first solve attempt. A failure that conda's retry loop would
        catch (e.g. a spec missing from ``current_repodata.json``) is *deferred*: the stage
        returns a :class:`DeferredFailure` and the solve stage decides whether to retry."""
        from conda_deepdive.solve.install_flow import RETRIABLE_ERRORS

        if self._deferred is not None:
            return DeferredFailure(stage, self._deferred)
        try:
            return step(self._first_solver())
        except RETRIABLE_ERRORS as exc:
            self._deferred = exc
            self._event(stage, "deferred_failure", error=type(exc).__name__, message=str(exc))
            return DeferredFailure(stage, exc)

    def _stage_priority(self) -> Any:
        if self._explicit is not None:
            return self._explicit_skip("priority")
        return self._first_attempt_step("priority", lambda s: s.apply_channel_priority())

    def _stage_specs(self) -> Any:
        if self._explicit is not None:
            return self._explicit_skip("specs")
        from conda_deepdive.solve.install_flow import first_attempt

        _fn, modifier = first_attempt(self.command, self.args, self.context)
        return self._first_attempt_step("specs", lambda s: s.collect_specs(update_modifier=modifier))

    def _stage_reduce(self) -> Any:
        if self._explicit is not None:
            return self._explicit_skip("reduce")
        return self._first_attempt_step("reduce", lambda s: s.reduce())

    def _stage_solve(self) -> SolveStageResult:
        if self._explicit is not None:
            return self._explicit_solve()
        from conda_deepdive.solve.install_flow import solve_attempts

        return solve_attempts(self)

    def _stage_transaction(self) -> Any:
        from conda_deepdive.transaction.transaction import PrefixSetup, UnlinkLinkTransaction

        solved: SolveStageResult = self.results["solve"]
        solver = solved.solver
        setup = PrefixSetup(
            target_prefix=self.context.target_prefix,
            unlink_precs=tuple(solved.unlink_precs),
            link_precs=tuple(solved.link_precs),
            remove_specs=tuple(getattr(solver, "specs_to_remove", ()) or ()),
            update_specs=tuple(getattr(solver, "specs_to_add", ()) or ()),
            neutered_specs=tuple(getattr(solver, "neutered_specs", ()) or ()),
        )
        # history's "# cmd:" line records the command as typed (conda writes its own sys.argv)
        cmd = " ".join(["conda-deepdive", *self.results["parse"].argv])
        txn = UnlinkLinkTransaction(setup, context=self.context, reporter=self.reporter,
                                    env=self.env, cmd=cmd)
        if txn.nothing_to_do:
            self.stop("nothing to do")
        elif self.context.dry_run:
            self.stop("dry run")
        return txn

    def _stage_fetch(self) -> Any:
        txn = self.results["transaction"]
        return txn.download_and_extract()

    def _stage_link(self) -> Any:
        txn = self.results["transaction"]
        return txn.execute()
