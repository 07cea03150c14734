"""Boolean formulas in CNF, the SAT solver, and optimisation by bisection (``conda.common.logic``).

conda's classic solver turns "which packages should be installed?" into a SAT problem: one
boolean variable per package record, and clauses (ORs of literals) that must all hold. This
module is the small toolkit it uses to build those clauses and to ask pycosat (picosat) for
answers. It mirrors ``conda.common.logic`` (named variables) and ``conda.common._logic`` (the
clause arithmetic) in one class, :class:`Clauses`.

What the learner should notice:

* A *literal* is an int: ``7`` means "variable 7 is true", ``-7`` "variable 7 is false".
  ``TRUE``/``FALSE`` are two huge sentinels for constants that were simplified away.
* ``And``/``Or``/``ITE``/… never build trees. Each returns either a constant, an existing literal,
  or a *new variable* ``x`` plus clauses that make ``x`` equivalent to the expression
  (the Tseitin trick). ``Require(f, ...)`` skips the new variable and asserts the clauses directly.
* "At most one" has two encodings: pairwise (``AtMostOne_NSQ``, n² clauses, best for a handful of
  literals) and a BDD over the sum (``AtMostOne_BDD``, linear size). conda switches at 5 literals.
* SAT only answers yes/no. To *optimise* (prefer newer versions, fewer packages…) conda bisects:
  "is there a solution with objective ≤ mid?" becomes a ``LinearBound`` constraint, encoded as a
  BDD, and the solver is called again and again. The bound that wins *stays* in the clause set,
  which is how one optimisation pass constrains the next (lexicographic optimisation).
* Every call into pycosat is recorded in :class:`ClausesStats` so you can count them.
"""

from __future__ import annotations

import sys
import time
from itertools import chain, combinations
from collections.abc import Callable, Iterable, Iterator, Sequence

from conda_deepdive.solve.logic_stats import BisectionStep, ClausesStats, Minimization, SatCall

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "TRUE",
    "FALSE",
    "Clauses",
    "ClausesStats",
    "SatCall",
    "Minimization",
    "BisectionStep",
    "minimal_unsatisfiable_subset",
]

#: Constant literals. They are ints so they can travel where literals do; ``-TRUE == FALSE``.
TRUE = sys.maxsize
FALSE = -TRUE
_CONSTANTS = (TRUE, FALSE)


class Clauses:
    """A growing CNF formula with named variables, and the questions we ask pycosat about it.

    ``Clauses()`` starts empty. ``new_var(name)`` allocates variable ``m+1``; names are looked up
    with ``from_name`` / ``from_index`` (a name's negation is ``"!" + name``). The formula builders
    accept literals or registered names, and take ``polarity`` (``True``: the result is only ever
    used positively, so half the clauses can be skipped) and ``name`` (register the result).
    """

    def __init__(self, m: int = 0) -> None:
        self.m = m
        self.unsat = False
        self.names: dict[str, int] = {}
        self.indices: dict[int, str] = {}
        self._clauses: list[tuple[int, ...]] = []
        self.stats = ClausesStats()
        self.last_minimization: Minimization | None = None
        self._purpose = "sat"
        # answers to whole problems already given to pycosat, shared by a formula and its copies
        # (see _run_pycosat); _memo_base: how many leading clauses all of them have in common
        self._memo: dict | None = None
        self._memo_base = 0

    # ---------------------------------------------------------------- variables and clauses
    def __repr__(self) -> str:
        return f"<Clauses {self.m} variables, {len(self._clauses)} clauses, {len(self.stats)} SAT calls>"

    def copy(self) -> "Clauses":
        """The same formula and variable names, with no SAT calls recorded yet."""
        twin = Clauses(self.m)
        twin.unsat = self.unsat
        twin.names = dict(self.names)
        twin.indices = dict(self.indices)
        twin._clauses = list(self._clauses)
        # copies made from one unchanged formula start from the same clauses: they share one
        # memo of pycosat's answers, keyed by what each has added since. A formula that has
        # grown since its memo began hands its copy a memo of the copy's own (its clauses so
        # far are that memo's common start), and keeps its own.
        if self._memo is None:
            self._memo, self._memo_base = {}, len(self._clauses)
        if len(self._clauses) == self._memo_base:
            twin._memo, twin._memo_base = self._memo, self._memo_base
        else:
            twin._memo, twin._memo_base = {}, len(twin._clauses)
        return twin

    def get_clause_count(self) -> int:
        return len(self._clauses)

    def as_list(self) -> list[tuple[int, ...]]:
        return self._clauses

    def new_var(self, name: str | None = None) -> int:
        self.m += 1
        if name:
            self.name_var(self.m, name)
        return self.m

    def name_var(self, m: int, name: str) -> int:
        """Give literal ``m`` a name (and ``-m`` the name ``"!" + name``)."""
        self._check_literal(m)
        self.names[name] = m
        self.names["!" + name] = -m
        if m not in _CONSTANTS and m not in self.indices:
            self.indices[m] = name
            self.indices[-m] = "!" + name
        return m

    def from_name(self, name: str) -> int | None:
        return self.names.get(name)

    def from_index(self, m: int) -> str | None:
        return self.indices.get(m)

    def _check_literal(self, lit: int) -> int:
        if lit in _CONSTANTS or 0 < abs(lit) <= self.m:
            return lit
        raise ValueError(f"SAT variable out of bounds: {lit} (max_var: {self.m})")

    def add_clause(self, clause: Iterable[int | str]) -> None:
        self._clauses.append(tuple(self._convert_list(clause)))

    def add_clauses(self, clauses: Iterable[Iterable[int | str]]) -> None:
        for clause in clauses:
            self.add_clause(clause)

    def _convert(self, x: Any) -> Any:
        if isinstance(x, int):
            return self._check_literal(x)
        if isinstance(x, (list, tuple)):
            return type(x)(self._convert(y) for y in x)
        try:
            return self.names[x]
        except KeyError:
            raise ValueError(f"Unregistered SAT variable name: {x}") from None

    def _convert_list(self, xs: Iterable[Any]) -> list[int]:
        names = self.names
        m = self.m
        out = []
        append = out.append
        for x in xs:
            if x.__class__ is str:
                lit = names.get(x)
                if lit is None:
                    raise ValueError(f"Unregistered SAT variable name: {x}")
                append(lit)
            elif 0 < x <= m or 0 < -x <= m or x == TRUE or x == FALSE:
                append(x)
            else:
                raise ValueError(f"SAT variable out of bounds: {x} (max_var: {m})")
        return out

    # ----------------------------------------------------------- core: (pval, nval) algebra
    # A builder returns a constant, a literal, or a pair (pval, nval): the clauses that make a
    # fresh x imply the expression (pval, each clause gets -x prepended) and the clauses that make
    # the expression imply x (nval, each gets +x). Polarity True keeps only pval, False only nval.

    def _assign(self, vals: Any) -> int:
        if isinstance(vals, tuple):
            x = self.new_var()
            add = self._clauses.append
            for c in vals[0]:
                add((-x,) + tuple(c))
            for c in vals[1]:
                add((x,) + tuple(c))
            return x
        return vals

    def _combine(self, args: list, polarity: bool | None) -> Any:
        if any(v == FALSE for v in args if not isinstance(v, tuple)):
            return FALSE
        args = [v for v in args if isinstance(v, tuple) or v != TRUE]
        if not args:
            return TRUE
        if len(args) == 1:
            return args[0]
        if polarity is True and all(isinstance(v, tuple) for v in args):
            # x -> A and x -> B is just x -> (A and B): concatenate. conda does this for every
            # polarity, which is wrong for the negative side (not(A and B) is not
            # not A and not B); the classic solver never hits that case, so we stay correct.
            return (sum((v[0] for v in args), []), sum((v[1] for v in args), []))
        return self._all([self._assign(v) for v in args], polarity)

    def _eval_into(self, vals: Any, polarity: bool) -> None:
        """Assert ``vals`` (positively or negatively) without a new variable."""
        if isinstance(vals, tuple):
            self._clauses.extend(tuple(c) for c in vals[0])
            self._clauses.extend(tuple(c) for c in vals[1])
        elif vals not in _CONSTANTS:
            self._clauses.append((vals if polarity else -vals,))
        else:
            self.unsat = self.unsat or (vals == TRUE) != polarity

    @staticmethod
    def _not(x: int, polarity: bool | None = None) -> int:
        return -x

    def _and(self, f: int, g: int, polarity: bool | None, new: bool = False) -> Any:
        if f == FALSE or g == FALSE:
            return FALSE
        if f == TRUE:
            return g
        if g == TRUE or f == g:
            return f
        if f == -g:
            return FALSE
        if g < f:
            f, g = g, f
        pval = [(f,), (g,)] if polarity in (True, None) else []
        nval = [(-f, -g)] if polarity in (False, None) else []
        return self._assign((pval, nval)) if new else (pval, nval)

    def _or(self, f: int, g: int, polarity: bool | None, new: bool = False) -> Any:
        if f == TRUE or g == TRUE:
            return TRUE
        if f == FALSE:
            return g
        if g == FALSE or f == g:
            return f
        if f == -g:
            return TRUE
        if g < f:
            f, g = g, f
        pval = [(f, g)] if polarity in (True, None) else []
        nval = [(-f,), (-g,)] if polarity in (False, None) else []
        return self._assign((pval, nval)) if new else (pval, nval)

    def _xor(self, f: int, g: int, polarity: bool | None, new: bool = False) -> Any:
        if f == FALSE:
            return g
        if f == TRUE:
            return -g
        if g == FALSE:
            return f
        if g == TRUE:
            return -f
        if f == g:
            return FALSE
        if f == -g:
            return TRUE
        if g < f:
            f, g = g, f
        pval = [(f, g), (-f, -g)] if polarity in (True, None) else []
        nval = [(-f, g), (f, -g)] if polarity in (False, None) else []
        return self._assign((pval, nval)) if new else (pval, nval)

    def _ite(self, c: int, t: int, f: int, polarity: bool | None, new: bool = False) -> Any:
        # Reduce the degenerate cases to And/Or/Xor first: they need fewer clauses.
        if c == TRUE:
            return t
        if c == FALSE:
            return f
        if t == TRUE or t == c:
            return self._or(c, f, polarity, new)
        if t == FALSE or t == -c:
            return self._and(-c, f, polarity, new)
        if f == FALSE or f == c:
            return self._and(c, t, polarity, new)
        if f == TRUE or f == -c:
            return self._or(t, -c, polarity, new)
        if t == f:
            return t
        if t == -f:
            return self._xor(c, f, polarity, new)
        if t < f:
            t, f, c = f, t, -c
        # (c AND t) OR (NOT c AND f); the third clause is redundant but helps unit propagation.
        pval = [(-c, t), (c, f), (t, f)] if polarity in (True, None) else []
        nval = [(-c, -t), (c, -f), (-t, -f)] if polarity in (False, None) else []
        if new:
            x = self.m = self.m + 1
            add = self._clauses.append
            for cl in pval:
                add((-x,) + cl)
            for cl in nval:
                add((x,) + cl)
            return x
        return pval, nval

    def _all(self, lits: Iterable[int], polarity: bool | None) -> Any:
        vals: set[int] = set()  # a set, like conda: its iteration order fixes clause order
        for v in lits:
            if v == TRUE:
                continue
            if v == FALSE or -v in vals:
                return FALSE
            vals.add(v)
        if not vals:
            return TRUE
        if len(vals) == 1:
            return next(iter(vals))
        pval = [(v,) for v in vals] if polarity in (True, None) else []
        nval = [tuple(-v for v in vals)] if polarity in (False, None) else []
        return pval, nval

    def _any(self, lits: Iterable[int], polarity: bool | None) -> Any:
        vals: set[int] = set()
        for v in lits:
            if v == FALSE:
                continue
            if v == TRUE or -v in vals:
                return TRUE
            vals.add(v)
        if not vals:
            return FALSE
        if len(vals) == 1:
            return next(iter(vals))
        pval = [tuple(vals)] if polarity in (True, None) else []
        nval = [(-v,) for v in vals] if polarity in (False, None) else []
        return pval, nval

    def _at_most_one_nsq(self, lits: list[int], polarity: bool | None) -> Any:
        pairs = [self._or(-a, -b, polarity) for a, b in combinations(lits, 2)]
        return self._combine(pairs, polarity)

    def _at_most_one_bdd(self, lits: list[int], polarity: bool | None) -> Any:
        return self._linear_bound(lits, [1] * len(lits), 0, 1, True, polarity)

    def _exactly_one_nsq(self, lits: list[int], polarity: bool | None) -> Any:
        return self._combine(
            [self._at_most_one_nsq(lits, polarity), self._any(lits, polarity)], polarity
        )

    def _exactly_one_bdd(self, lits: list[int], polarity: bool | None) -> Any:
        return self._linear_bound(lits, [1] * len(lits), 1, 1, True, polarity)

    @staticmethod
    def _lb_preprocess(lits: Sequence[int], coeffs: Sequence[int]):
        """Fold constants away and make every coefficient positive (flipping the literal)."""
        equation = []
        offset = 0
        for coeff, lit in zip(coeffs, lits):
            if lit == TRUE:
                offset += coeff
                continue
            if lit == FALSE or coeff == 0:
                continue
            if coeff < 0:
                offset += coeff
                coeff, lit = -coeff, -lit
            equation.append((coeff, lit))
        equation.sort()
        coeffs_out = tuple(c for c, _ in equation)
        lits_out = tuple(lit for _, lit in equation)
        return lits_out, coeffs_out, offset

    def _bdd(self, lits, coeffs, nterms: int, lo: int, hi: int, polarity: bool | None) -> int:
        """Encode ``lo <= sum(coeffs[i] * lits[i] for i < nterms) <= hi`` as a BDD of ITEs.

        Walk the terms from the largest coefficient down: with x_N true the rest must sum to
        [lo - c_N, hi - c_N], otherwise to [lo, hi]. Nodes are memoised on (index, partial sum,
        remaining total), so equal sub-problems share one variable. Iterative (no recursion limit).
        """
        if polarity is True and TRUE not in lits[:nterms] and FALSE not in lits[:nterms]:
            # the minimiser's hot loop (hundreds of thousands of nodes): same clauses, fewer calls
            return self._bdd_positive(lits, coeffs, nterms, lo, hi)
        total = sum(coeffs[:nterms])
        target = (nterms - 1, 0, total)
        stack = [target]
        ret: dict[tuple[int, int, int], int] = {}
        ret_get = ret.get
        ite = self._ite
        while stack:
            key = stack[-1]
            ndx, csum, total = key
            lower = lo - csum
            upper = hi - csum
            if lower <= 0 and upper >= total:
                ret[stack.pop()] = TRUE
                continue
            if lower > total or upper < 0:
                ret[stack.pop()] = FALSE
                continue
            lit = lits[ndx]
            coeff = coeffs[ndx]
            ndx -= 1
            total -= coeff
            hi_key = (ndx, csum if lit < 0 else csum + coeff, total)
            thi = ret_get(hi_key)
            if thi is None:
                stack.append(hi_key)
                continue
            lo_key = (ndx, csum + coeff if lit < 0 else csum, total)
            tlo = ret_get(lo_key)
            if tlo is None:
                stack.append(lo_key)
                continue
            ret[stack.pop()] = ite(abs(lit), thi, tlo, polarity, True)
        return ret[target]

    def _bdd_positive(self, lits, coeffs, nterms: int, lo: int, hi: int) -> int:
        """:meth:`_bdd` for polarity True with :meth:`_ite` written out in the loop.

        Exactly the clauses and variable numbers ``_ite(c, t, f, True, new=True)`` produces,
        case by case (Or / And / Xor reductions first, then the three-clause ITE); only the
        Python-level overhead (method calls, temporary lists) is gone.

        A node's key is one int, ``j * width + csum`` with ``j = index + 1``: the remaining
        total of a node is a function of its index alone (a prefix sum), so ``(index, partial
        sum)`` identifies it, and int keys cost less to build and hash than tuples. The walk,
        and so every variable number, is the same as :meth:`_bdd`'s.
        """
        prefix = [0]  # prefix[j] = sum(coeffs[:j]): the total still available below index j - 1
        for coeff in coeffs[:nterms]:
            prefix.append(prefix[-1] + coeff)
        width = prefix[-1] + 1  # partial sums run from 0 to the full total
        target = nterms * width
        stack = [target]
        push, pop = stack.append, stack.pop
        ret: dict[int, int] = {}
        ret_get = ret.get
        add = self._clauses.append
        m = self.m
        T, F = TRUE, FALSE
        while stack:
            key = stack[-1]
            j, csum = divmod(key, width)
            lower = lo - csum
            upper = hi - csum
            if lower <= 0 and upper >= prefix[j]:
                ret[pop()] = T
                continue
            if lower > prefix[j] or upper < 0:
                ret[pop()] = F
                continue
            ndx = j - 1
            lit = lits[ndx]
            coeff = coeffs[ndx]
            base = ndx * width + csum  # the child's key with nothing added
            if lit < 0:
                hi_key = base
                lo_key = base + coeff
                c = -lit
            else:
                hi_key = base + coeff
                lo_key = base
                c = lit
            t = ret_get(hi_key)
            if t is None:
                push(hi_key)
                continue
            f = ret_get(lo_key)
            if f is None:
                push(lo_key)
                continue
            # c is a real (positive) variable here; t and f are literals or constants
            if t == T or t == c:  # c OR f
                if f == T or f == -c:
                    r = T
                elif f == F or f == c:
                    r = c
                else:
                    m += 1
                    r = m
                    add((-r, c, f) if c < f else (-r, f, c))
            elif t == F or t == -c:  # NOT c AND f
                if f == F or f == c:
                    r = F
                elif f == T or f == -c:
                    r = -c
                else:
                    m += 1
                    r = m
                    a, b = (-c, f) if -c < f else (f, -c)
                    add((-r, a))
                    add((-r, b))
            elif f == F or f == c:  # c AND t
                if t == T:
                    r = c
                else:  # t is a literal other than +-c
                    m += 1
                    r = m
                    a, b = (c, t) if c < t else (t, c)
                    add((-r, a))
                    add((-r, b))
            elif f == T or f == -c:  # t OR NOT c
                m += 1
                r = m
                a, b = (t, -c) if t < -c else (-c, t)
                add((-r, a, b))
            elif t == f:
                r = t
            elif t == -f:  # c XOR f
                m += 1
                r = m
                a, b = (c, f) if c < f else (f, c)
                add((-r, a, b))
                add((-r, -a, -b))
            else:
                if t < f:
                    t, f, c = f, t, -c
                m += 1
                r = m
                add((-r, -c, t))
                add((-r, c, f))
                add((-r, t, f))
            ret[pop()] = r
        self.m = m
        return ret[target]

    def _linear_bound(self, lits, coeffs, lo: int, hi: int, preprocess: bool, polarity) -> Any:
        if preprocess:
            lits, coeffs, offset = self._lb_preprocess(lits, coeffs)
            lo -= offset
            hi -= offset
        nterms = len(coeffs)
        nprune = 0
        if nterms and coeffs[-1] > hi:
            # terms whose coefficient alone exceeds the bound must simply be false
            nprune = sum(c > hi for c in coeffs)
            nterms -= nprune
        total = sum(coeffs[:nterms])
        if preprocess:
            lo = max(lo, 0)
            hi = min(hi, total)
        if lo > hi:
            return FALSE
        if nterms == 0:
            res: Any = TRUE if lo == 0 else FALSE
        else:
            res = self._bdd(lits, coeffs, nterms, lo, hi, polarity)
        if nprune:
            prune = self._all([-a for a in lits[nterms:]], polarity)
            res = self._combine([res, prune], polarity)
        return res

    # ----------------------------------------------------------------- public formula API
    def _eval(self, func: Callable, args: tuple, extra: tuple, polarity, name) -> int | None:
        args = tuple(self._convert_arg(a) for a in args)
        if name is False:  # Require / Prevent: assert, no new variable
            saved = len(self._clauses)
            vals = func(*args, *extra, polarity)
            if not isinstance(vals, tuple) and vals in _CONSTANTS:
                del self._clauses[saved:]
            self._eval_into(vals, polarity)
            return None
        vals = func(*args, *extra, polarity)
        x = self._assign(vals)
        if not name:
            return x
        if not isinstance(vals, tuple) and vals in _CONSTANTS:
            x = self.new_var()
            self._clauses.append((x,) if vals == TRUE else (-x,))
        return self.name_var(x, name)

    def _convert_arg(self, a: Any) -> Any:
        if isinstance(a, int):
            return self._check_literal(a)
        if isinstance(a, str):
            return self._convert(a)
        return self._convert_list(a)

    def Require(self, what: Callable, *args: Any) -> None:
        """Assert that ``what(*args)`` holds (e.g. ``C.Require(C.Or, "a", "!b")``)."""
        if what == self.Or:
            # the solver asserts tens of thousands of "record -> dependency" ORs: skip the
            # generic machinery, same clauses
            f, g = self._convert_list(args)
            vals = self._or(f, g, True)
            if vals.__class__ is tuple:
                self._clauses.extend(vals[0])
            else:
                self._eval_into(vals, True)
            return
        what(*args, polarity=True, name=False)

    def Prevent(self, what: Callable, *args: Any) -> None:
        """Assert that ``what(*args)`` does not hold."""
        what(*args, polarity=False, name=False)

    def Not(self, x, polarity=None, name=None):
        return self._eval(self._not, (x,), (), polarity, name)

    def And(self, f, g, polarity=None, name=None):
        return self._eval(self._and, (f, g), (), polarity, name)

    def Or(self, f, g, polarity=None, name=None):
        return self._eval(self._or, (f, g), (), polarity, name)

    def Xor(self, f, g, polarity=None, name=None):
        return self._eval(self._xor, (f, g), (), polarity, name)

    def ITE(self, c, t, f, polarity=None, name=None):
        """If ``c`` then ``t`` else ``f``."""
        return self._eval(self._ite, (c, t, f), (), polarity, name)

    def All(self, vals, polarity=None, name=None):
        return self._eval(self._all, (list(vals),), (), polarity, name)

    def Any(self, vals, polarity=None, name=None):
        return self._eval(self._any, (list(vals),), (), polarity, name)

    def AtMostOne_NSQ(self, vals, polarity=None, name=None):
        return self._eval(self._at_most_one_nsq, (list(vals),), (), polarity, name)

    def AtMostOne_BDD(self, vals, polarity=None, name=None):
        return self._eval(self._at_most_one_bdd, (list(vals),), (), polarity, name)

    def AtMostOne(self, vals, polarity=None, name=None):
        # conda's threshold: pairwise for < 4 literals (< 5 when only used positively), else BDD
        vals = list(vals)
        what = self.AtMostOne_NSQ if len(vals) < 5 - (polarity is not True) else self.AtMostOne_BDD
        # like conda, go through the public method: its result is first assigned to a literal
        return self._eval(what, (vals,), (), polarity, name)

    def ExactlyOne_NSQ(self, vals, polarity=None, name=None):
        return self._eval(self._exactly_one_nsq, (list(vals),), (), polarity, name)

    def ExactlyOne_BDD(self, vals, polarity=None, name=None):
        return self._eval(self._exactly_one_bdd, (list(vals),), (), polarity, name)

    def ExactlyOne(self, vals, polarity=None, name=None):
        vals = list(vals)
        what = self.ExactlyOne_NSQ if len(vals) < 2 else self.ExactlyOne_BDD
        return self._eval(what, (vals,), (), polarity, name)

    def LinearBound(self, equation, lo, hi, preprocess=True, polarity=None, name=None):
        """``lo <= sum(coeff * lit) <= hi``; ``equation`` is ``{lit_or_name: coeff}``."""
        if not isinstance(equation, dict):
            equation = {lit: coeff for coeff, lit in equation}
        return self._eval(
            self._linear_bound,
            (list(equation.keys()),),
            (list(equation.values()), lo, hi, preprocess),
            polarity,
            name,
        )

    # ------------------------------------------------------------------------ solving
    def _run_pycosat(self, clauses: list, limit: int = 0) -> list[int] | None:
        import pycosat  # heavy-ish C extension: only when a solve really happens

        t0 = time.perf_counter()
        # the same problem twice (e.g. "can these specs be met together?" and then the first step
        # of the solve, over one reduced index): pycosat is deterministic, so the answer it gave
        # is the answer. Exact: the key is everything pycosat is given — the shared leading
        # clauses (the memo's own), every clause after them, the variable count and the limit.
        # Only plain satisfiability questions repeat; a minimisation's probes never do (each has
        # its own bound), and remembering them would keep their clauses alive.
        memo, key = self._memo, None
        if (memo is not None and self._purpose == "sat" and clauses is self._clauses
                and len(clauses) >= self._memo_base):
            key = (tuple(clauses[self._memo_base:]), self.m, limit)
            result = memo.get(key)
        else:
            result = None
        reused = result is not None
        if not reused:
            result = pycosat.solve(clauses, vars=self.m, prop_limit=limit)
            if key is not None:
                memo[key] = result
        seconds = time.perf_counter() - t0
        status = result if isinstance(result, str) else "SAT"
        self.stats.record(SatCall(self._purpose, self.m, len(clauses), status, seconds, reused))
        if isinstance(result, str):
            return None
        # a copy only of an answer the memo keeps (callers may change the list they get)
        return list(result) if key is not None else result

    def sat(self, additional=None, includeIf: bool = False, names: bool = False, limit: int = 0):
        """A solution (list of literals, one per variable) or ``None`` when unsatisfiable.

        ``additional`` clauses are tried on top of the formula and kept only if ``includeIf`` and
        the result is satisfiable. ``names=True`` returns the set of true named variables.
        """
        if self.unsat:
            return None
        if not self.m:
            return set() if names else []
        saved = len(self._clauses)
        if additional:
            extra = []
            for cc in additional:
                clause = []
                satisfied = False
                for c in cc:
                    c = self.names.get(c, c) if isinstance(c, str) else c
                    if c == FALSE:
                        continue
                    if c == TRUE:
                        satisfied = True
                        break
                    clause.append(c)
                if satisfied:
                    continue
                if not clause:  # an empty clause: trivially unsatisfiable
                    return None
                extra.append(tuple(clause))
            self._clauses.extend(extra)
        solution = self._run_pycosat(self._clauses, limit)
        if len(self._clauses) != saved and (solution is None or not includeIf):
            del self._clauses[saved:]
        if solution is None:
            return None
        if names:
            return {nm for nm in (self.indices.get(s) for s in solution) if nm and nm[0] != "!"}
        return solution

    def itersolve(self, constraints: Iterable = (), m: int | None = None) -> Iterator[list[int]]:
        """Every solution, each new one excluded from the next call (projected on vars ``<= m``)."""
        exclude: list[list[int]] = []
        if m is None:
            m = self.m
        constraints = list(constraints or ())
        while True:
            sol = self.sat(chain(constraints, exclude))
            if sol is None:
                return
            yield sol
            exclude.append([-k for k in sol if -m <= k <= m])

    def minimize(self, objective, bestsol=None, trymax: bool = False, label: str = "minimize"):
        """Minimise ``sum(coeff * lit)``; returns ``(solution, value)`` and keeps the bound.

        conda's algorithm: if any coefficient exceeds 1, first minimise the *peak* (largest
        coefficient among true literals), then the *sum*. Each is a bisection over
        ``[lo, hi]`` where ``hi`` starts at the value of the current best solution. The first
        probe is 0 (often enough), or ``hi - 1`` with ``trymax`` (for "can we drop just one?").
        Failed probes are rolled back (clauses and variables); the final successful bound stays.
        """
        if not isinstance(objective, dict):
            objective = {lit: coeff for coeff, lit in objective}
        lits = self._convert_list(objective.keys())
        coeffs = list(objective.values())
        objective_size = len(lits)
        t_start = time.perf_counter()
        n_clauses0, m0 = len(self._clauses), self.m
        steps: list[BisectionStep] = []
        previous_purpose = self._purpose
        self._purpose = label

        def finish(sol, value):
            self._purpose = previous_purpose
            self.last_minimization = Minimization(
                objective_size=objective_size,
                bound=value,
                steps=tuple(steps),
                clauses_added=len(self._clauses) - n_clauses0,
                variables_added=self.m - m0,
                seconds=time.perf_counter() - t_start,
            )
            return sol, value

        if bestsol is None or len(bestsol) < self.m:
            bestsol = self.sat()  # clauses were added since that solution: recompute
        if bestsol is None or self.unsat:
            return finish(bestsol, sum(abs(c) for c in coeffs) + 1 if coeffs else 1)
        if not coeffs:
            return finish(bestsol, 0)

        lits, coeffs, _offset = self._lb_preprocess(lits, coeffs)
        maxval = max(coeffs) if coeffs else 0

        # pycosat returns [+-1, +-2, ..., +-m]: literal a is true iff sol[|a| - 1] == a, so the
        # objective is read off the weighted literals only (not the whole solution)
        def peak_val(sol, weights):
            n = len(sol)
            return max((c for a, c in weights.items() if abs(a) <= n and sol[abs(a) - 1] == a), default=0)

        def sum_val(sol, weights):
            n = len(sol)
            return sum(c for a, c in weights.items() if abs(a) <= n and sol[abs(a) - 1] == a)

        lo = 0
        try0: int | None = 0
        bestval = 0
        for peak in (True, False) if maxval > 1 else (False,):
            objval = peak_val if peak else sum_val
            weights = {a: c for c, a in zip(coeffs, lits)}
            bestval = objval(bestsol, weights)
            hi = bestval
            m_orig = self.m
            saved = len(self._clauses)
            if trymax and not peak:
                try0 = hi - 1
            while True:
                mid = (lo + hi) // 2 if try0 is None else try0
                before = len(self._clauses)
                if peak:
                    prevent = [a for c, a in zip(coeffs, lits) if c > mid]
                    require = [a for c, a in zip(coeffs, lits) if lo <= c <= mid]
                    self.Prevent(self.Any, prevent)
                    if require:
                        self.Require(self.Any, require)
                else:
                    self._eval(self._linear_bound, (list(lits),), (coeffs, lo, mid, False), True, False)
                added = len(self._clauses) - before
                newsol = self.sat()
                steps.append(
                    BisectionStep("peak" if peak else "sum", lo, mid, newsol is not None, added)
                )
                if newsol is None:
                    lo = mid + 1
                    if lo > hi:
                        break  # conda notes this "is not supposed to happen"; keep its behaviour
                else:
                    done = lo == mid
                    bestsol = newsol
                    bestval = objval(newsol, weights)
                    hi = bestval
                    if done:
                        break
                # roll back the probe: its clauses and the helper variables it allocated
                self.m = m_orig
                if len(self._clauses) != saved:
                    del self._clauses[saved:]
                self.unsat = False
                try0 = None
            if bestval == 0:
                break
            if peak:
                # The peak is now fixed: larger coefficients are excluded, and since one term at
                # the peak is active the sum is at least the peak.
                keep = [(c, a) for c, a in zip(coeffs, lits) if c <= bestval]
                coeffs = [c for c, _ in keep]
                lits = [a for _, a in keep]
                try0 = sum_val(bestsol, weights)
                lo = bestval
        return finish(bestsol, bestval)


def minimal_unsatisfiable_subset(clauses, sat: Callable, explicit_specs) -> list:
    """Greedy core: keep adding items while ``sat`` stays satisfiable; the rest conflict.

    conda walks ``set(clauses)``, i.e. in hash order, so which core it reports can change from
    one run to the next (``PYTHONHASHSEED``). We walk the items in the order given (first
    occurrence) and return the conflicting ones in that order, so the same request always gives
    the same answer.
    """
    working_set: set = set()
    found: dict = {}
    if sat(explicit_specs, True) is None:
        found = dict.fromkeys(explicit_specs)
    else:
        working_set = set(explicit_specs)
    for spec in [c for c in dict.fromkeys(clauses) if c not in working_set]:
        if sat(working_set | {spec}, True) is None:
            found[spec] = None
        else:
            working_set.add(spec)
    return list(found)
