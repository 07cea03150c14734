"""What a classic-solver run reports about itself: :class:`OptimisationPass` and :class:`SolveDetails`.

``Resolve.solve`` keeps one :class:`SolveDetails` in ``resolve.last_solve``: the reduced index, the
size of the SAT problem, every optimisation pass (in conda's order) and every pycosat call. These
are plain value objects with a readable ``repr`` and a JSON ``summary()`` for the notebook and the
tracer; timings sit in ``*_seconds`` keys so deterministic snapshots can drop them.
"""

from __future__ import annotations

from conda_deepdive.values import value_object

from conda_deepdive.solve.logic import ClausesStats

__all__ = ["OptimisationPass", "SolveDetails"]


@value_object(frozen=True, repr=False)  # its own __repr__ below
class OptimisationPass:
    """One objective of the lexicographic optimisation, as run by ``Clauses.minimize``."""

    name: str
    objective_size: int  # how many literals carry a non-zero weight
    bound: int  # the optimum found (kept as a constraint for the later passes)
    clauses_added: int
    variables_added: int
    sat_calls: int
    generate_seconds: float  # building the objective (may push new named specs)
    minimize_seconds: float

    def __repr__(self) -> str:
        return (
            f"<OptimisationPass {self.name}: {self.objective_size} terms -> {self.bound} "
            f"({self.sat_calls} SAT calls, +{self.clauses_added} clauses)>"
        )

    def summary(self) -> dict:
        return {
            "name": self.name,
            "objective_size": self.objective_size,
            "bound": self.bound,
            "clauses_added": self.clauses_added,
            "variables_added": self.variables_added,
            "sat_calls": self.sat_calls,
            "generate_seconds": self.generate_seconds,
            "minimize_seconds": self.minimize_seconds,
        }


class SolveDetails:
    """Everything :meth:`Resolve.solve` did, for the notebook: sizes, passes, pycosat calls."""

    def __init__(self, specs: tuple) -> None:
        self.specs = specs
        self.reduced_index = None
        self.variables = 0  # after gen_clauses + spec constraints
        self.clauses = 0
        self.final_variables = 0
        self.final_clauses = 0
        self.passes: list[OptimisationPass] = []
        self.stats: ClausesStats | None = None
        self.solutions_found = 0
        self.converged: bool | None = None
        self.result: tuple = ()
        self.reduce_seconds = 0.0
        self.gen_clauses_seconds = 0.0
        self.solve_seconds = 0.0

    @property
    def sat_calls(self) -> list:
        return list(self.stats.calls) if self.stats else []

    def __repr__(self) -> str:
        n = len(self.reduced_index) if self.reduced_index is not None else 0
        return (
            f"<SolveDetails {len(self.specs)} specs, reduced index {n} records, "
            f"{self.variables} vars / {self.clauses} clauses, {len(self.passes)} passes, "
            f"{len(self.sat_calls)} pycosat calls, {len(self.result)} packages>"
        )

    def summary(self) -> dict:
        return {
            "specs": [str(s) for s in self.specs],
            "reduced_records": len(self.reduced_index) if self.reduced_index is not None else 0,
            "variables": self.variables,
            "clauses": self.clauses,
            "final_variables": self.final_variables,
            "final_clauses": self.final_clauses,
            "passes": [p.summary() for p in self.passes],
            "sat_calls": [c.summary() for c in self.sat_calls],
            "solutions_found": self.solutions_found,
            "result": [p.dist_str() for p in self.result],
            "reduce_seconds": self.reduce_seconds,
            "gen_clauses_seconds": self.gen_clauses_seconds,
            "solve_seconds": self.solve_seconds,
        }
