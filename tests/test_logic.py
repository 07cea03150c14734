"""conda_deepdive.solve.logic against brute force on small formulas."""

from __future__ import annotations

import itertools
import random

import pytest

from conda_deepdive.solve.logic import FALSE, TRUE, Clauses, minimal_unsatisfiable_subset

N = 5  # base variables 1..N


def assignments(n=N):
    for bits in itertools.product((False, True), repeat=n):
        yield {i + 1: b for i, b in enumerate(bits)}


def lit_value(lit, a):
    if lit == TRUE:
        return True
    if lit == FALSE:
        return False
    return a[abs(lit)] if lit > 0 else not a[abs(lit)]


def fresh():
    C = Clauses()
    for i in range(N):
        C.new_var(f"x{i + 1}")
    return C


def value_under(C, lit, a):
    """Fix the base variables to ``a`` and return the value the formula forces on ``lit``."""
    if lit in (TRUE, FALSE):
        return lit == TRUE
    units = [(v if b else -v,) for v, b in a.items()]
    sol = C.sat(units)
    assert sol is not None, "a full-equivalence encoding must be satisfiable for every input"
    # the encoding must force the value: the opposite must be unsatisfiable
    assert C.sat(units + [(-lit if lit in sol else lit,)]) is None
    return lit in sol


def random_lits(rng, k):
    return [rng.choice((1, -1)) * rng.randint(1, N) for _ in range(k)]


BINARY = {
    "And": lambda x, y: x and y,
    "Or": lambda x, y: x or y,
    "Xor": lambda x, y: x != y,
}


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_gates_match_truth_table(op):
    rng = random.Random(op)
    for _ in range(12):
        f, g = random_lits(rng, 2)
        C = fresh()
        x = getattr(C, op)(f, g)
        for a in assignments():
            assert value_under(C, x, a) == BINARY[op](lit_value(f, a), lit_value(g, a))


def test_ite_and_constants():
    rng = random.Random(1)
    cases = [random_lits(rng, 3) for _ in range(15)] + [[1, TRUE, 2], [1, 2, FALSE], [TRUE, 3, 4], [1, 1, 2], [1, -1, 2], [1, 2, -2]]
    for c, t, f in cases:
        C = fresh()
        x = C.ITE(c, t, f)
        for a in assignments():
            expect = lit_value(t, a) if lit_value(c, a) else lit_value(f, a)
            assert value_under(C, x, a) == expect


@pytest.mark.parametrize("kind", ["All", "Any", "AtMostOne", "ExactlyOne", "AtMostOne_NSQ", "AtMostOne_BDD", "ExactlyOne_NSQ", "ExactlyOne_BDD"])
def test_nary_gates(kind):
    rng = random.Random(kind)
    check = {
        "All": all,
        "Any": any,
        "AtMostOne": lambda v: sum(v) <= 1,
        "ExactlyOne": lambda v: sum(v) == 1,
    }[kind.split("_")[0]]
    for k in (0, 1, 2, 3, 4, 5, 6):
        lits = random.Random(k).sample(range(1, N + 1), min(k, N))
        lits = [rng.choice((1, -1)) * v for v in lits]
        C = fresh()
        x = getattr(C, kind)(lits)
        for a in assignments():
            assert value_under(C, x, a) == check([lit_value(v, a) for v in lits]), (kind, lits)


def test_linear_bound_against_brute_force():
    rng = random.Random(7)
    for _ in range(25):
        k = rng.randint(1, N)
        lits = [rng.choice((1, -1)) * v for v in rng.sample(range(1, N + 1), k)]
        coeffs = [rng.randint(-3, 4) for _ in lits]
        lo = rng.randint(-2, 4)
        hi = lo + rng.randint(0, 5)
        C = fresh()
        x = C.LinearBound(dict(zip(lits, coeffs)), lo, hi)
        for a in assignments():
            total = sum(c for c, v in zip(coeffs, lits) if lit_value(v, a))
            assert value_under(C, x, a) == (lo <= total <= hi), (lits, coeffs, lo, hi)


def models(C, n=N):
    return {tuple(s[:n]) for s in C.itersolve([], m=n)}


def test_require_and_prevent_count_models():
    rng = random.Random(3)
    for _ in range(20):
        lits = [rng.choice((1, -1)) * v for v in rng.sample(range(1, N + 1), 3)]
        for method, check in (("Require", lambda v: sum(v) == 1), ("Prevent", lambda v: sum(v) != 1)):
            C = fresh()
            getattr(C, method)(C.ExactlyOne, lits)
            expected = {
                tuple(v if a[v] else -v for v in range(1, N + 1))
                for a in assignments()
                if check([lit_value(x, a) for x in lits])
            }
            assert models(C) == expected


def test_named_variables_and_negation_names():
    C = Clauses()
    a = C.new_var("a")
    b = C.new_var("b")
    both = C.And("a", "b", name="a&b")
    assert C.from_name("a&b") == both and C.from_name("!a&b") == -both
    assert C.from_index(-a) == "!a"
    assert C.sat(["a&b".split()], names=True) is not None
    solution = C.sat([("a&b",)], names=True)
    assert {"a", "b", "a&b"} <= solution
    assert C.Or("a", TRUE) == TRUE  # constants simplify without clauses
    constant = C.And("a", FALSE, name="never")
    assert C.sat([("never",)]) is None and constant > 0
    with pytest.raises(ValueError, match="Unregistered SAT variable name"):
        C.Any(["nope"])
    with pytest.raises(ValueError, match="out of bounds"):
        C.add_clause((b + 5,))


def test_sat_additional_is_temporary_unless_included():
    C = fresh()
    C.Require(C.Any, [1, 2])
    n = C.get_clause_count()
    assert C.sat([(-1,), (-2,)]) is None
    assert C.get_clause_count() == n
    assert C.sat([(-1,)], includeIf=True) is not None
    assert C.get_clause_count() == n + 1
    assert C.sat([(FALSE,)]) is None  # an empty clause after simplification
    assert C.sat([(TRUE, 3)]) is not None


def test_unsat_flag_from_constant_requirement():
    C = fresh()
    C.Require(C.And, 1, -1)
    assert C.unsat and C.sat() is None


@pytest.mark.parametrize("seed", range(12))
def test_minimize_finds_the_brute_force_optimum(seed):
    rng = random.Random(seed)
    C = fresh()
    clauses = [tuple(random_lits(rng, 3)) for _ in range(6)]
    for cl in clauses:
        C.add_clause(cl)
    objective = {rng.choice((1, -1)) * v: rng.randint(1, 5) for v in range(1, N + 1)}
    feasible = [a for a in assignments() if all(any(lit_value(l, a) for l in cl) for cl in clauses)]
    if not feasible:
        assert C.sat() is None
        return
    # conda minimises the peak (largest active coefficient) first, then the sum
    def peak(a):
        return max([c for l, c in objective.items() if lit_value(l, a)], default=0)

    def total(a):
        return sum(c for l, c in objective.items() if lit_value(l, a))

    best_peak = min(peak(a) for a in feasible)
    best_sum = min(total(a) for a in feasible if peak(a) == best_peak)
    sol, value = C.minimize(objective, C.sat(), label="test")
    a = {abs(v): v > 0 for v in sol[:N]}
    assert (peak(a), total(a)) == (best_peak, best_sum)
    assert value == best_sum
    info = C.last_minimization
    assert info.bound == value and info.objective_size == N and info.steps
    assert any(call.purpose == "test" for call in C.stats.calls)
    # the bound stays: every remaining solution is optimal
    for s in C.itersolve([], m=N):
        b = {abs(v): v > 0 for v in s[:N]}
        assert total(b) == best_sum


def test_minimize_trymax_and_trivial_objectives():
    C = fresh()
    C.Require(C.Any, [1, 2, 3])
    sol, value = C.minimize({1: 1, 2: 1, 3: 1, 4: 1, 5: 1}, C.sat(), trymax=True)
    assert value == 1 and sum(v > 0 for v in sol[:5]) == 1
    assert C.minimize({}, C.sat())[1] == 0
    C.Require(C.And, 1, -1)
    assert C.minimize({1: 2}, None) == (None, 3)


def test_stats_record_every_pycosat_call():
    C = fresh()
    C.Require(C.Or, 1, 2)
    C.sat()
    C.sat([(-1,), (-2,)])
    assert [c.result for c in C.stats.calls] == ["SAT", "UNSAT"]
    assert all(c.variables == N and c.seconds >= 0 for c in C.stats.calls)
    assert "2 pycosat calls" in repr(C.stats)
    assert C.stats.summary()["unsat"] == 1


def test_copies_of_one_formula_share_pycosats_answers(monkeypatch):
    import pycosat

    asked = []
    real = pycosat.solve
    monkeypatch.setattr(pycosat, "solve", lambda clauses, **kw: asked.append(len(clauses)) or real(clauses, **kw))
    C = fresh()
    C.Require(C.Or, 1, 2)
    a, b = C.copy(), C.copy()
    first = a.sat([(-1,)], includeIf=True)
    again = b.sat([(-1,)], includeIf=True)  # the very same problem: pycosat is not asked again
    assert again == first and len(asked) == 1
    assert [c.reused for c in a.stats.calls + b.stats.calls] == [False, True]
    assert "answer reused" in repr(b.stats.calls[0]) and b.stats.summary()["reused"] == 1
    assert b.get_clause_count() == a.get_clause_count()  # kept (includeIf), as without the memo
    again.append(99)  # a caller's answer is its own list
    assert C.copy().sat([(-1,)]) == first and len(asked) == 1
    # anything different is a new problem: other clauses, their order, or more variables
    assert b.sat([(3,)]) is not None and len(asked) == 2
    c = C.copy()
    c.Require(c.Or, 3, 4)
    c.sat([(-1,)])
    assert len(asked) == 3
    d = c.copy()  # a copy of a formula that grew has a memo of its own, keyed from its own start
    e = C.copy()
    d.sat()
    e.sat()
    assert len(asked) == 5
    f = C.copy()
    f.new_var()
    f.sat([(-1,)], includeIf=True)
    assert len(asked) == 6
    # only plain questions are remembered: a minimisation's probes (each with its own bound)
    # never come again, and keeping them would keep their clauses alive
    g = C.copy()
    remembered = len(g._memo)
    solution, best = g.minimize({1: 1, 2: 1}, g.sat())
    assert best == 1 and len(g.stats) > 1 and len(g._memo) == remembered


def test_minimal_unsatisfiable_subset():
    C = fresh()

    def sat(specs, add_if=False):
        return C.sat([(s,) for s in specs])

    core = minimal_unsatisfiable_subset({1, -1, 2}, sat, explicit_specs={2})
    assert core in ([1], [-1])
    # walked in the order given (not hash order): the later of two contradictory items conflicts
    assert minimal_unsatisfiable_subset([-1, 2, 1], sat, explicit_specs=[2]) == [1]
    assert minimal_unsatisfiable_subset([1, 2, -1], sat, explicit_specs=[2]) == [-1]


@pytest.mark.parametrize("seed", range(40))
def test_bdd_fast_path_emits_the_generic_clauses(seed):
    """The minimiser's inlined BDD (polarity True) must emit exactly the clauses and variable
    numbers of the generic ``_bdd`` + ``_ite`` path: the SAT solver's answer depends on them."""
    rng = random.Random(seed)
    nvars = rng.randint(1, 14)
    lits = [rng.choice((1, -1)) * rng.randint(1, nvars) for _ in range(rng.randint(1, 18))]
    coeffs = [rng.randint(1, 6) for _ in lits]
    lo = rng.randint(0, 8)
    hi = lo + rng.randint(0, 12)

    def build(fast):
        C = Clauses()
        for _ in range(nvars):
            C.new_var()
        ls, cs, off = C._lb_preprocess(lits, coeffs)
        n = len(cs)
        root = C._bdd(ls, cs, n, lo, hi, True) if fast else _generic_bdd(C, ls, cs, n, lo, hi)
        return root, C.m, list(C._clauses)

    assert build(True) == build(False)


def _generic_bdd(C, lits, coeffs, nterms, lo, hi):
    # the reference: the BDD walk calling the generic _ite(c, t, f, polarity=True, new=True)
    total = sum(coeffs[:nterms])
    target = (nterms - 1, 0, total)
    stack, ret = [target], {}
    while stack:
        ndx, csum, total = stack[-1]
        if lo - csum <= 0 and hi - csum >= total:
            ret[stack.pop()] = TRUE
            continue
        if lo - csum > total or hi - csum < 0:
            ret[stack.pop()] = FALSE
            continue
        lit, coeff = lits[ndx], coeffs[ndx]
        ndx -= 1
        total -= coeff
        hi_key = (ndx, csum if lit < 0 else csum + coeff, total)
        lo_key = (ndx, csum + coeff if lit < 0 else csum, total)
        if hi_key not in ret:
            stack.append(hi_key)
            continue
        if lo_key not in ret:
            stack.append(lo_key)
            continue
        ret[stack.pop()] = C._ite(abs(lit), ret[hi_key], ret[lo_key], True, True)
    return ret[target]
