"""What the SAT layer records about itself: every pycosat call and every minimisation.

:class:`SatCall` is one call into pycosat (problem size, answer, seconds); :class:`ClausesStats`
collects them for a :class:`~conda_deepdive.solve.logic.Clauses`. :class:`Minimization` describes one
``Clauses.minimize`` run as the sequence of :class:`BisectionStep` probes it made ("is there a
solution with objective in [lo, mid]?"). Plain value objects with readable reprs and JSON
``summary()``; durations live in ``*_seconds`` keys.
"""

from __future__ import annotations

from conda_deepdive.values import value_object

__all__ = ["SatCall", "ClausesStats", "BisectionStep", "Minimization"]


@value_object(frozen=True, repr=False)  # its own __repr__ below
class SatCall:
    """One call into pycosat: problem size, answer, and how long it took."""

    purpose: str
    variables: int
    clauses: int
    result: str  # "SAT" | "UNSAT" | "UNKNOWN"
    seconds: float
    reused: bool = False  # the same problem was solved before: its answer was given again

    def __repr__(self) -> str:
        again = " (the same problem as before: answer reused)" if self.reused else ""
        return (
            f"<SatCall {self.purpose}: {self.variables} vars, {self.clauses} clauses -> "
            f"{self.result} in {self.seconds * 1000:.1f} ms{again}>"
        )

    def summary(self) -> dict:
        out = {
            "purpose": self.purpose,
            "variables": self.variables,
            "clauses": self.clauses,
            "result": self.result,
            "solve_seconds": self.seconds,
        }
        if self.reused:  # said only where it happened
            out["reused"] = True
        return out


class ClausesStats:
    """Every pycosat call a :class:`Clauses` object made, in order."""

    def __init__(self) -> None:
        self.calls: list[SatCall] = []

    def record(self, call: SatCall) -> None:
        self.calls.append(call)

    @property
    def total_seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    def __len__(self) -> int:
        return len(self.calls)

    def __repr__(self) -> str:
        sat = sum(c.result == "SAT" for c in self.calls)
        return (
            f"<ClausesStats {len(self.calls)} pycosat calls ({sat} SAT, "
            f"{len(self.calls) - sat} UNSAT), {self.total_seconds * 1000:.1f} ms>"
        )

    def summary(self) -> dict:
        return {
            "calls": len(self.calls),
            "sat": sum(c.result == "SAT" for c in self.calls),
            "unsat": sum(c.result != "SAT" for c in self.calls),
            "reused": sum(c.reused for c in self.calls),
            "pycosat_seconds": self.total_seconds,
        }


@value_object(frozen=True, repr=False)  # its own __repr__ below
class BisectionStep:
    """One probe of a minimisation: "is there a solution with ``lo <= objective <= mid``?"."""

    phase: str  # "peak" (largest coefficient in use) or "sum"
    lo: int
    mid: int
    satisfiable: bool
    clauses_added: int

    def __repr__(self) -> str:
        verdict = "yes" if self.satisfiable else "no"
        return f"<{self.phase} in [{self.lo}, {self.mid}]? {verdict} (+{self.clauses_added} clauses)>"


@value_object(frozen=True)
class Minimization:
    """What one call of :meth:`Clauses.minimize` did."""

    objective_size: int
    bound: int
    steps: tuple[BisectionStep, ...]
    clauses_added: int
    variables_added: int
    seconds: float

    def summary(self) -> dict:
        return {
            "objective_size": self.objective_size,
            "bound": self.bound,
            "sat_calls": len(self.steps),
            "clauses_added": self.clauses_added,
            "variables_added": self.variables_added,
            "minimize_seconds": self.seconds,
        }
