"""The course's "your turn" exercises, each with a check that tells you whether you are right.

Every notebook of the course ends its sections with a cell like::

    from conda_deepdive.course.exercises import ask, check
    ask("03.1")                   # prints the question
    answer = ...                  # your turn
    check("03.1", answer)         # ✔ right, or ✘ not yet — and why

A check never compares with a stored answer: it runs the stage itself (in a throw-away
:class:`~conda_deepdive.course.sandbox.Sandbox`, on the offline teaching channels) and compares
your answer with what the stage's result object says — so if the teaching channel changes, the
checks follow. Exercises that ask you to *make* something happen (a condarc that wins, a solve
that fails) run your answer and look at the outcome.

The solution of each exercise sits a click away in its notebook (a collapsed ``<details>``
block generated from :attr:`Exercise.solution_code`), and ``tests/test_course_exercises.py``
checks that every check accepts its solution and rejects a wrong answer.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache
from collections.abc import Callable, Iterator

from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Verdict", "Exercise", "EXERCISES", "ask", "check", "solution_markdown", "exercises_for"]


@value_object(frozen=True)
class Verdict:
    """The answer to "am I right?": ``ok`` and a sentence saying why."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return ("✔ Right! " if self.ok else "✘ Not yet. ") + self.message

    def _repr_html_(self) -> str:
        import html

        colour = "#1a7f37" if self.ok else "#b35900"
        return f'<div style="color:{colour};font-weight:bold">{html.escape(repr(self))}</div>'


@value_object(frozen=True)
class Exercise:
    """One exercise: the question, how to check an answer, a worked solution.

    ``checker(answer)`` returns a :class:`Verdict`; ``solution()`` computes a right answer the
    way :attr:`solution_code` does (the tests use it); ``wrong`` is an answer that must fail.
    """

    key: str
    question: str
    checker: Callable[[Any], Verdict]
    solution: Callable[[], Any]
    solution_code: str
    wrong: Any
    hint: str = ""

    @property
    def notebook(self) -> str:
        return self.key.split(".")[0]

    def check(self, answer: Any) -> Verdict:
        if answer is ... or answer is None:
            return Verdict(False, "replace the ... with your answer first." + (f" Hint: {self.hint}" if self.hint else ""))
        try:
            return self.checker(answer)
        except Exception as exc:  # a learner's answer may be any shape: say what went wrong
            return Verdict(False, f"your answer could not be checked ({type(exc).__name__}: {exc}).")

    def __repr__(self) -> str:
        return f"Exercise({self.key!r})"


EXERCISES: dict[str, Exercise] = {}


def _exercise(key: str, question: str, *, solution_code: str, wrong: Any, hint: str = ""):
    def register(pair: tuple[Callable[[Any], Verdict], Callable[[], Any]]):
        checker, solution = pair
        EXERCISES[key] = Exercise(key, question, checker, solution, solution_code.strip("\n"), wrong, hint)
        return pair
    return register


def ask(key: str) -> None:
    """Print the question of exercise ``key`` (and its hint)."""
    import textwrap

    ex = EXERCISES[key]
    # wrapped here: a notebook's output area breaks a long line anywhere, even mid-word
    print(textwrap.fill(f"Your turn ({key}): {ex.question}", 88, break_long_words=False))
    if ex.hint:
        print(textwrap.fill(f"Hint: {ex.hint}", 88, subsequent_indent="      ", break_long_words=False))


def check(key: str, answer: Any) -> Verdict:
    """Check ``answer`` for exercise ``key``."""
    return EXERCISES[key].check(answer)


def exercises_for(notebook: str) -> list[Exercise]:
    return [ex for key, ex in EXERCISES.items() if ex.notebook == notebook]


def solution_markdown(key: str) -> str:
    """The collapsed solution block a notebook shows under the exercise."""
    ex = EXERCISES[key]
    return (f"<details><summary><b>Solution {key}</b> (click to open)</summary>\n\n"
            f"```python\n{ex.solution_code}\n```\n\n</details>")


# ------------------------------------------------------------------------------------------------
# helpers: a sandbox per check, small comparisons
# ------------------------------------------------------------------------------------------------
@contextmanager
def _sandbox(name: str) -> Iterator[Any]:
    from conda_deepdive.course.sandbox import Sandbox

    sb = Sandbox(f"check-{name}")
    try:
        yield sb
    finally:
        sb.cleanup()


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    return value


def _same(answer: Any, expected: Any, what: str) -> Verdict:
    if _norm(answer) == _norm(expected):
        return Verdict(True, f"{what} is {expected!r}.")
    return Verdict(False, f"{what} is not {answer!r}; run the cell above again and look closer.")


def _final(session: Any) -> dict:
    return {r.name: r for r in session.results["solve"].final_state}


# ================================================================================================
# 01 · the command line and the Context
# ================================================================================================
_CONDARC_01 = "channels:\n  - defaults\nchannel_priority: flexible\n"


def _context_01(sb: Any, *flags: str, env: dict | None = None) -> Any:
    sb.write_condarc(_CONDARC_01)
    return sb.context("install", *flags, "numpy", env=env)


def _check_01_1(answer: Any) -> Verdict:
    with _sandbox("01.1") as sb:
        c = _context_01(sb, env={"CONDA_CHANNEL_PRIORITY": "disabled"})
        expected = (c.channel_priority, c.source_of("channel_priority"))
    value, source = answer
    if _norm(value) != _norm(expected[0]):
        return Verdict(False, f"channel_priority is not {value!r} once the flag is gone.")
    if _norm(source) != _norm(expected[1]):
        return Verdict(False, f"the value is right, but it does not come from {source!r}.")
    return Verdict(True, f"without the flag, the highest layer left that sets it is {expected[1]!r}: "
                         f"{expected[0]!r}.")


def _solution_01_1() -> Any:
    with _sandbox("01.1") as sb:
        c = _context_01(sb, env={"CONDA_CHANNEL_PRIORITY": "disabled"})
        return (c.channel_priority, c.source_of("channel_priority"))


_exercise(
    "01.1",
    "The condarc says flexible and CONDA_CHANNEL_PRIORITY=disabled is set, but the command line has "
    "no --strict-channel-priority. What is channel_priority, and which source does it come from? "
    "Answer a pair: (value, source).",
    solution_code='''
c = sb.context("install", "numpy", env={"CONDA_CHANNEL_PRIORITY": "disabled"})
answer = (c.channel_priority, c.source_of("channel_priority"))
check("01.1", answer)''',
    wrong=("strict", "cmd_line"),
    hint="build the Context with sb.context(...) and ask it: source_of().",
)((_check_01_1, _solution_01_1))


def _check_01_2(answer: Any) -> Verdict:
    if not isinstance(answer, str):
        return Verdict(False, "answer with the text of a condarc file (a str).")
    with _sandbox("01.2") as sb:
        sb.write_condarc(answer)
        c = sb.context("install", "numpy", env={"CONDA_CHANNEL_PRIORITY": "disabled"})
        value, source = c.channel_priority, c.source_of("channel_priority")
    if value != "strict":
        return Verdict(False, f"with your condarc, channel_priority is {value!r} (from {source}), not 'strict'.")
    if source in ("envvars", "cmd_line"):
        return Verdict(False, f"strict, but it came from {source}, not from your file.")
    return Verdict(True, "your file wins over CONDA_CHANNEL_PRIORITY: '#!final' stops every layer above it.")


_exercise(
    "01.2",
    "Write a condarc (a str) that makes channel_priority 'strict' even though "
    "CONDA_CHANNEL_PRIORITY=disabled is set.",
    solution_code='''
my_condarc = "channel_priority: strict  #!final\\n"
sb.write_condarc(my_condarc)
c = sb.context("install", "numpy", env={"CONDA_CHANNEL_PRIORITY": "disabled"})
print(c.channel_priority, "←", sb.text(c.source_of("channel_priority")))
check("01.2", my_condarc)''',
    wrong="channel_priority: strict\n",
    hint="a plain key loses to the variable; condarc has a marker that makes a value final.",
)((_check_01_2, lambda: "channel_priority: strict  #!final\n"))


# ================================================================================================
# 02 · the index
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _verdicts_02() -> tuple[str, str]:
    with _sandbox("02.1") as sb:
        channel = sb.serve(max_age=60) + "/pkgs/main"
        verdicts = []
        for env in ({}, {}, {"CONDA_LOCAL_REPODATA_TTL": "0"}):
            s = sb.session("install", "numpy", channels=[channel], extra=["--dry-run"],
                           prefix=sb.prefix_dir, env=env)
            index = s.run(until="index").results["index"]
            verdicts.append(index.subdir_datas[0].fetch_info.cache)
        return verdicts[1], verdicts[2]


def _check_02_1(answer: Any) -> Verdict:
    expected = _verdicts_02()
    second, ttl0 = answer
    if _norm(second) != _norm(expected[0]):
        return Verdict(False, f"the second fetch (within max-age) is not {second!r}: was the server asked at all?")
    if _norm(str(ttl0)) != _norm(expected[1]):
        return Verdict(False, f"with local_repodata_ttl=0 the verdict is not {ttl0!r}: what does the server answer "
                              "to If-None-Match when nothing changed?")
    return Verdict(True, f"fresh copy → {expected[0]!r} (no request); ttl 0 → a conditional request answered {expected[1]}.")


_exercise(
    "02.1",
    "Fetch the same served channel three times: a first Session, a second one right after, and a third with "
    "CONDA_LOCAL_REPODATA_TTL=0. What is FetchInfo.cache for linux-64 on the second and on the third? "
    "Answer a pair of strings.",
    solution_code='''
verdicts = []
for extra_env in ({}, {"CONDA_LOCAL_REPODATA_TTL": "0"}):
    s_ = sb.session("install", "numpy", channels=[channel], extra=["--dry-run"], prefix=sb.prefix_dir, env=extra_env)
    verdicts.append(s_.run(until="index").results["index"].subdir_datas[0].fetch_info.cache)
answer = tuple(verdicts)      # the first fetch already happened above
check("02.1", answer)''',
    wrong=("miss", "hit"),
    hint="FetchInfo.cache is one of hit, miss, 304, offline, stale, memory, none.",
)((_check_02_1, _verdicts_02))


@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _counts_02() -> tuple[int, int]:
    from conda_deepdive.index.index import fetch_index

    with _sandbox("02.2") as sb:
        c = sb.context("install", "-c", "main", "--override-channels", "numpy")
        counts = []
        for fn in ("current_repodata.json", "repodata.json"):
            index = fetch_index(c, repodata_fn=fn)
            counts.append(sum(len(sd.records_for("numpy")) for sd in index.subdir_datas))
        return counts[0], counts[1]


def _check_02_2(answer: Any) -> Verdict:
    expected = _counts_02()
    if tuple(int(a) for a in answer) == expected:
        return Verdict(True, f"{expected[0]} numpy records in current_repodata.json, {expected[1]} in repodata.json: "
                             "the small file keeps only the newest version (in every build).")
    return Verdict(False, f"{tuple(answer)} is not what the two files hold; count sd.records_for('numpy').")


_exercise(
    "02.2",
    "How many numpy records does channel main offer in current_repodata.json, and how many in repodata.json "
    "(linux-64 and noarch together)? Answer a pair of ints.",
    solution_code='''
from conda_deepdive.index.index import fetch_index
c = sb.context("install", "-c", "main", "--override-channels", "numpy")
answer = tuple(sum(len(sd.records_for("numpy")) for sd in fetch_index(c, repodata_fn=fn).subdir_datas)
               for fn in ("current_repodata.json", "repodata.json"))
check("02.2", answer)''',
    wrong=(6, 6),
    hint="fetch_index(context, repodata_fn=...) and SubdirData.records_for('numpy').",
)((_check_02_2, _counts_02))


# ================================================================================================
# 03 · channel priority
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _solve_03(mode: str, *specs: str) -> Any:
    with _sandbox("03") as sb:
        s = sb.session("install", *specs, channels=["main", "conda-forge"], extra=["--dry-run"],
                       env={"CONDA_CHANNEL_PRIORITY": mode})
        return _final(s.run(until="solve"))


def _solution_03_1() -> str:
    return _solve_03("strict", "numpy")["numpy"].channel.name


def _check_03_1(answer: Any) -> Verdict:
    rec = _solve_03("strict", "numpy")["numpy"]
    names = {rec.channel.name, getattr(rec.channel, "canonical_name", rec.channel.name)}
    if _norm(answer) in {_norm(n) for n in names}:
        return Verdict(True, f"numpy {rec.version} comes from {rec.channel.name}: main has the name, so "
                             "strict masks every other channel's numpy — newer or not.")
    return Verdict(False, f"not {answer!r}: under strict priority, which channel is the only one allowed to "
                          "supply a name?")


_exercise(
    "03.1",
    "With channels main then conda-forge, which channel will numpy come from under strict priority "
    "(install numpy)? Answer the channel's name.",
    solution_code='''
s_, _ = run("strict", "numpy")
answer = next(r for r in s_.results["solve"].final_state if r.name == "numpy").channel.name
check("03.1", answer)''',
    wrong="conda-forge",
    hint="look at report['numpy'] in strict mode, or run the solve.",
)((_check_03_1, _solution_03_1))


def _modes_03() -> list[str]:
    return [mode for mode in ("strict", "flexible", "disabled")
            if _solve_03(mode, "numpy")["numpy"].channel.name == "conda-forge"]


def _check_03_2(answer: Any) -> Verdict:
    modes = _modes_03()
    if _norm(answer) in modes:
        return Verdict(True, f"only {', '.join(modes)} puts the version before the channel: numpy 2.2.0 from conda-forge.")
    return Verdict(False, f"with channel_priority={answer!r}, `install numpy` still takes main's numpy.")


_exercise(
    "03.2",
    "Which channel_priority setting makes a plain `install numpy` (channels main, conda-forge) pick "
    "conda-forge's newer numpy 2.2.0?",
    solution_code='''
for mode in ("strict", "flexible", "disabled"):
    s_, _ = run(mode, "numpy")
    print(mode, picked(s_, "numpy"))
    if picked(s_, "numpy").endswith("from conda-forge"):
        answer = mode
check("03.2", answer)''',
    wrong="flexible",
    hint="the table at the top of this notebook.",
)((_check_03_2, lambda: _modes_03()[0]))


# ================================================================================================
# 04 · specs and reduction
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _numpy_after_04() -> int:
    with _sandbox("04.1") as sb:
        sb.session("install", "python=3.11", "six", channels=["main"], prefix=sb.prefix_dir).run()
        s = sb.session("install", "numpy", channels=["main"], prefix=sb.prefix_dir,
                       extra=["--dry-run", "--repodata-fn", "repodata.json"]).run(until="reduce")
        return s.results["reduce"].counts()["numpy"][1]


def _check_04_1(answer: Any) -> Verdict:
    expected = _numpy_after_04()
    if int(answer) == expected:
        return Verdict(True, f"{expected} numpy records survive: only the py311 builds match the frozen python.")
    return Verdict(False, f"not {answer}: count the numpy records in the *reduced* index, not in the index.")


_exercise(
    "04.1",
    "With python frozen at 3.11 in <WORK>/env, how many numpy records does the reduced index keep "
    "for `install numpy` (channel main, repodata.json)? Answer an int.",
    solution_code='''
answer = s.results["reduce"].counts()["numpy"][1]     # (before, after)
check("04.1", answer)''',
    wrong=17,
    hint="ReducedIndex.counts() maps each name to (before, after).",
)((_check_04_1, _numpy_after_04))


@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _reduction_share_04(specs: tuple[str, ...]) -> tuple[int, int]:
    with _sandbox("04.2") as sb:
        s = sb.session("install", *specs, channels=["main", "conda-forge", "free"],
                       extra=["--dry-run", "--repodata-fn", "repodata.json"]).run(until="reduce")
        return len(s.results["reduce"]), len(s.results["index"].records)


def _check_04_2(answer: Any) -> Verdict:
    specs = [answer] if isinstance(answer, str) else list(answer)
    if not specs:
        return Verdict(False, "give at least one spec.")
    if any(s.split("=")[0].split(">")[0].split("<")[0].strip() == "tzdata" for s in specs):
        return Verdict(False, "tzdata is the notebook's own example: find another request.")
    kept, total = _reduction_share_04(tuple(specs))
    share = kept / total
    if share < 0.10:
        return Verdict(True, f"the reduced index keeps {kept} of {total} records ({share:.0%}): the solver "
                             "never sees the rest.")
    return Verdict(False, f"the reduced index keeps {kept} of {total} records ({share:.0%}); look for a package "
                          "with no dependencies.")


_exercise(
    "04.2",
    "Find a request other than tzdata (a list of specs) whose reduced index keeps less than 10% of the "
    "index (channels main, conda-forge, free; repodata.json; an empty environment).",
    solution_code='''
s_ = sb.session("install", "ca-certificates", channels=["main", "conda-forge", "free"],
                extra=["--dry-run", "--repodata-fn", "repodata.json"]).run(until="reduce")
print(len(s_.results["reduce"]), "of", len(s_.results["index"].records), "records kept")
check("04.2", ["ca-certificates"])''',
    wrong=["numpy"],
    hint="a package without dependencies keeps only itself and the virtual packages.",
)((_check_04_2, lambda: ["ca-certificates"]))


# ================================================================================================
# 05 · the SAT solve
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _conflict_05(specs: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """(error name or None, the packages conda's conflict report groups the chains under)."""
    from conda_deepdive.exceptions import CondaError
    from conda_deepdive.render.conflicts import conflict_groups

    with _sandbox("05.1") as sb:
        s = sb.session("install", *specs, extra=["--dry-run"])
        try:
            s.run(until="solve")
        except CondaError as exc:
            return type(exc).__name__, [g.package for g in conflict_groups(exc)]
        return None, []


def _check_05_1(answer: Any) -> Verdict:
    specs, package = answer
    specs = [specs] if isinstance(specs, str) else list(specs)
    if not specs:
        return Verdict(False, "give the specs of a request.")
    error, packages = _conflict_05(tuple(specs))
    if error is None:
        return Verdict(False, f"install {' '.join(specs)} solves fine: make it fail first.")
    if error != "UnsatisfiableError":
        return Verdict(False, f"that fails with {error}, not with a conflict; ask for packages that exist "
                              "but cannot live together.")
    if _norm(package) not in {_norm(p) for p in packages}:
        return Verdict(False, f"it fails, but the conflict report does not group chains under {package!r} "
                              f"(it names: {', '.join(packages)}).")
    return Verdict(True, f"install {' '.join(specs)} is unsatisfiable, and the report has a group for {package}.")


def _solution_05_1() -> tuple[list[str], str]:
    specs = ["tablekit", "numpy>=2"]
    error, packages = _conflict_05(tuple(specs))
    return specs, packages[0]


_exercise(
    "05.1",
    "Make a solve fail, then read the conflict: give a request (a list of specs, channel main) that is "
    "unsatisfiable — not tablekit + arraykit — and the name of a package its conflict report groups "
    "chains under. Answer (specs, package).",
    solution_code='''
# tablekit needs numpy <1.25; ask for numpy 2 next to it
s_ = sb.session("install", "tablekit", "numpy>=2", extra=["--dry-run"])
try:
    s_.run(until="solve")
except UnsatisfiableError as exc:
    sb.show(exc)
    answer = (["tablekit", "numpy>=2"], conflict_groups(exc)[0].package)
check("05.1", answer)''',
    wrong=(["numpy"], "numpy"),
    hint="one of the requests above, with a numpy spec that contradicts it.",
)((_check_05_1, _solution_05_1))


@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _feature_pass_05() -> str:
    def bounds(*specs: str) -> dict[str, int]:
        with _sandbox("05.2") as sb:
            s = sb.session("install", *specs, extra=["--dry-run"]).run(until="solve")
            return {p.name: p.bound for p in s.results["solve"].outcome.stats.passes}

    plain, mkl = bounds("numpy"), bounds("numpy", "blas=*=mkl")
    changed = [name for name in plain if plain[name] == 0 and mkl.get(name, 0) > 0]
    return changed[0]


def _check_05_2(answer: Any) -> Verdict:
    expected = _feature_pass_05()
    if _norm(answer) == _norm(expected):
        return Verdict(True, f"{expected}: blas-1.0-mkl tracks a feature, which costs a point there; openblas costs 0.")
    return Verdict(False, f"{answer!r} is not the pass whose best value changes when you force blas=*=mkl.")


_exercise(
    "05.2",
    "Which optimisation pass makes `install numpy` prefer openblas over mkl? (Its best value is 0 for "
    "`install numpy` and 1 for `install numpy blas=*=mkl`.)",
    solution_code='''
plain = {p.name: p.bound for p in s.results["solve"].outcome.stats.passes}
forced = {p.name: p.bound for p in s_mkl.results["solve"].outcome.stats.passes}
answer = next(name for name in plain if plain[name] == 0 and forced[name] > 0)
check("05.2", answer)''',
    wrong="package_count",
    hint="compare the passes of s and s_mkl.",
)((_check_05_2, _feature_pass_05))


# ================================================================================================
# 06 · the transaction
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _update_setup_06() -> Any:
    with _sandbox("06") as sb:
        sb.session("install", "zlib=1.2.8", channels=["main", "free"], prefix=sb.prefix_dir).run()
        u = sb.session("update", "zlib", channels=["main", "free"], prefix=sb.prefix_dir).run(until="transaction")
        txn = u.results["transaction"]
        setup = txn.prefix_setups[sb.prefix_dir]
        u.next()  # fetch: the action groups need the packages in the cache
        pag = txn.action_groups[sb.prefix_dir]
        history_field = next(f for f in pag._fields for g in getattr(pag, f) for a in g.actions
                             if type(a).__name__ == "UpdateHistoryAction")
        new = {p.name for p in setup.link_precs} - {p.name for p in setup.unlink_precs}
        return new, history_field


def _check_06_1(answer: Any) -> Verdict:
    expected, _ = _update_setup_06()
    got = {str(a).strip() for a in ([answer] if isinstance(answer, str) else answer)}
    if got == expected:
        return Verdict(True, f"NEW = linked but not unlinked: {', '.join(sorted(expected))}. zlib is on both "
                             "sides, so it is UPDATED.")
    missing, extra = expected - got, got - expected
    parts = ([f"missing {sorted(missing)}"] if missing else []) + ([f"not new: {sorted(extra)}"] if extra else [])
    return Verdict(False, "; ".join(parts) + ".")


_exercise(
    "06.1",
    "In the plan of `update zlib` (after `install zlib=1.2.8` from free), which packages are NEW? "
    "Answer a set of names, computed from the PrefixSetup.",
    solution_code='''
answer = {p.name for p in u_setup.link_precs} - {p.name for p in u_setup.unlink_precs}
check("06.1", answer)''',
    wrong={"zlib"},
    hint="NEW = in link_precs, not in unlink_precs.",
)((_check_06_1, lambda: _update_setup_06()[0]))


def _check_06_2(answer: Any) -> Verdict:
    _, expected = _update_setup_06()
    if _norm(answer) == _norm(expected):
        return Verdict(True, f"{expected}: the history is written with the environment's registration, "
                             "after every package is linked.")
    return Verdict(False, f"no UpdateHistoryAction in {answer!r}.")


_exercise(
    "06.2",
    "Which PrefixActionGroup field holds the UpdateHistoryAction (the action that appends to "
    "conda-meta/history)?",
    solution_code='''
answer = next(field for field in pag._fields for g in getattr(pag, field) for a in g.actions
              if type(a).__name__ == "UpdateHistoryAction")
check("06.2", answer)''',
    wrong="prefix_record_groups",
    hint="walk pag's fields and their groups' actions.",
)((_check_06_2, lambda: _update_setup_06()[1]))


# ================================================================================================
# 07 · fetch and extract
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _fetch_07() -> tuple[int, str]:
    with _sandbox("07") as sb:
        sb.session("install", "tzdata", "zlib=1.2.8", channels=["main", "free"], prefix=sb.prefix_dir).run()
        again = sb.session("install", "tzdata", "zlib=1.2.8", channels=["main", "free"]).run(until="fetch")
        planned = len(again.results["fetch"].cache_actions)
        s = sb.session("install", "zlib", channels=["main"], extra=["--dry-run"],
                       env={"CONDA_PKGS_DIRS": sb.path("pkgs-empty")}).run(until="transaction")
        pfe = s.results["transaction"]._get_pfe().prepare()
        url = next(a.url for a in pfe.cache_actions if "/zlib-" in a.url)
        return planned, ".conda" if url.endswith(".conda") else ".tar.bz2"


def _check_07_1(answer: Any) -> Verdict:
    expected, _ = _fetch_07()
    if int(answer) == expected:
        return Verdict(True, f"{expected}: both packages are extracted in the cache already, so nothing is fetched.")
    return Verdict(False, f"not {answer}: what is in <WORK>/pkgs after the first install?")


_exercise(
    "07.1",
    "After the first install, a second environment asks for the same packages (tzdata, zlib=1.2.8) "
    "with the same package cache. How many CacheUrlActions does its fetch stage plan?",
    solution_code='''
answer = len(s2.results["fetch"].cache_actions)
check("07.1", answer)''',
    wrong=2,
    hint="ProgressiveFetchExtract.cache_actions of the second session.",
)((_check_07_1, lambda: _fetch_07()[0]))


def _check_07_2(answer: Any) -> Verdict:
    _, expected = _fetch_07()
    if _norm(answer).lstrip(".") == expected.lstrip("."):
        return Verdict(True, f"{expected}: when a channel offers both, the index keeps the .conda record.")
    return Verdict(False, f"conda does not download {answer!r} when both formats exist.")


_exercise(
    "07.2",
    "Channel main offers zlib 1.2.13 as .conda and as .tar.bz2. Which one does the fetch stage download "
    "into an empty package cache?",
    solution_code='''
s_ = sb.session("install", "zlib", channels=["main"], extra=["--dry-run"],
                env={"CONDA_PKGS_DIRS": sb.path("pkgs-empty")}).run(until="transaction")
pfe_ = s_.results["transaction"]._get_pfe().prepare()
url = next(a.url for a in pfe_.cache_actions if "/zlib-" in a.url)
answer = os.path.splitext(url)[1] if url.endswith(".conda") else ".tar.bz2"
check("07.2", answer)''',
    wrong=".tar.bz2",
    hint="a dry run plans the fetch without running it: look at the CacheUrlAction's url.",
)((_check_07_2, lambda: _fetch_07()[1]))


# ================================================================================================
# 08 · link
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _link_08() -> tuple[str, int]:
    import json

    from conda_deepdive.fetch.package_cache import PackageCacheData

    with _sandbox("08") as sb:
        sb.session("install", "python=3.11", "cowsay", channels=["main"], prefix=sb.prefix_dir).run()
        cached = next(e.extracted_package_dir for e in PackageCacheData(sb.pkgs_dir).iter_entries()
                      if e.dist_name.startswith("python-3.11"))
        same = os.stat(os.path.join(cached, "bin", "python3.11")).st_ino == \
            os.stat(os.path.join(sb.prefix_dir, "bin", "python3.11")).st_ino
        meta = os.path.join(sb.prefix_dir, "conda-meta")
        fn = next(f for f in os.listdir(meta) if f.startswith("cowsay-"))
        with open(os.path.join(meta, fn), encoding="utf-8") as f:
            record = json.load(f)
        pycs = sum(p["path_type"] == "pyc_file" for p in record["paths_data"]["paths"])
        return ("hardlink" if same else "copy"), pycs


def _check_08_1(answer: Any) -> Verdict:
    expected, _ = _link_08()
    if _norm(answer) == expected:
        return Verdict(True, f"a {expected}: the file holds the build prefix, which is rewritten for this "
                             "prefix — never in the shared cache.")
    return Verdict(False, f"not a {answer}: compare os.stat(...).st_ino of the cached and the linked file.")


_exercise(
    "08.1",
    "Does bin/python3.11 arrive in the prefix as a 'hardlink' or as a 'copy'? Decide from the files "
    "themselves (inodes), not from the action's name.",
    solution_code='''
cached = os.path.join(pkgs[next(k for k in pkgs if k.startswith("python-3.11"))], "bin", "python3.11")
same = os.stat(cached).st_ino == os.stat(os.path.join(sb.prefix_dir, "bin", "python3.11")).st_ino
answer = "hardlink" if same else "copy"
check("08.1", answer)''',
    wrong="hardlink",
    hint="a hardlink shares the inode with the file in the package cache.",
)((_check_08_1, lambda: _link_08()[0]))


def _check_08_2(answer: Any) -> Verdict:
    _, expected = _link_08()
    if int(answer) == expected:
        return Verdict(True, f"{expected} pyc files: conda lists the files it compiled as the package's own, so "
                             "removing cowsay removes them too.")
    return Verdict(False, f"not {answer}: count paths_data['paths'] entries whose path_type is 'pyc_file'.")


_exercise(
    "08.2",
    "How many entries of cowsay's conda-meta record (paths_data) have path_type 'pyc_file'?",
    solution_code='''
answer = sum(p["path_type"] == "pyc_file" for p in record["paths_data"]["paths"])
check("08.2", answer)''',
    wrong=0,
    hint="record['paths_data']['paths'], as opened in section 5.",
)((_check_08_2, lambda: _link_08()[1]))


# ================================================================================================
# 09 · unlink and rollback
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _rollback_09(fail_at: int | str) -> tuple[int, list[str], int]:
    """(reversed count, reversed action classes in order, number of planned actions)."""
    from conda_deepdive.course.explorer import execution_plan, replay_with_fault

    with _sandbox("09") as sb:
        sb.session("install", "python=3.11", channels=["main"], prefix=sb.prefix_dir).run()
        s = sb.session("install", "cowsay", "whereami", channels=["main"], prefix=sb.prefix_dir).run(until="fetch")
        txn = s.results["transaction"].verify()
        planned = len(execution_plan(txn))
        if isinstance(fail_at, int) and not 1 <= fail_at <= planned:
            return -1, [], planned
        replay = replay_with_fault(txn, fail_at)
        order = [e.data["action"] for e in replay.events if e.kind == "reverse"]
        return replay.reversed_count, order, planned


def _check_09_1(answer: Any) -> Verdict:
    number, predicted = (int(a) for a in answer)
    count, _, planned = _rollback_09(number)
    if count < 0:
        return Verdict(False, f"there is no action #{number}: the plan has actions 1 to {planned}.")
    if predicted == count:
        return Verdict(True, f"failing at #{number}, the {count} actions that ran are reversed, last one first.")
    return Verdict(False, f"failing at #{number} does not reverse {predicted} actions: which actions had run "
                          "before it failed?")


def _solution_09_1() -> tuple[int, int]:
    count, _, _ = _rollback_09(5)
    return 5, count


_exercise(
    "09.1",
    "Pick an action number of the cowsay + whereami install and predict how many actions the rollback "
    "reverses if that action fails. Answer (number, count).",
    solution_code='''
from conda_deepdive.course.explorer import replay_with_fault
number = 5
replay = replay_with_fault(probe.results["transaction"], number)
print(repr(replay))          # the actions before #5 ran, so they are reversed
answer = (number, replay.reversed_count)
check("09.1", answer)''',
    wrong=(5, 5),
    hint="the failing action itself did not run; every action before it did.",
)((_check_09_1, _solution_09_1))


def _first_reversed_09() -> str:
    _, order, _ = _rollback_09("CreatePrefixRecordAction")
    return order[0]


def _check_09_2(answer: Any) -> Verdict:
    expected = _first_reversed_09()
    if _norm(answer) == _norm(expected):
        return Verdict(True, f"{expected}: it was the last to run before the failure, so it is the first undone.")
    return Verdict(False, f"{answer!r} is not reversed first; the rollback goes from the last executed action back.")


_exercise(
    "09.2",
    "When the first CreatePrefixRecordAction fails, which action class does the rollback reverse first?",
    solution_code='''
answer = reversed_[0]["action"]     # from the rollback in section 3
check("09.2", answer)''',
    wrong="LinkPathAction",
    hint="look at the first 'reverse' event of the rollback above.",
)((_check_09_2, _first_reversed_09))


# ================================================================================================
# 10 · the mirror
# ================================================================================================
@lru_cache(maxsize=None)  # one run per kernel: the teaching channels do not change
def _mirror_10() -> tuple[str | None, int]:
    """(the channel the seed's recipe cannot read offline, files downloaded for main)."""
    import re

    from conda_deepdive.exceptions import CondaError
    from conda_deepdive.mirror.conda_mirror import mirror_channel
    from conda_deepdive.pipeline import Session
    from conda_deepdive.render.notebook import teaching_channel

    with _sandbox("10") as sb:
        root = sb.path("anaconda")
        downloaded = 0
        for name, where in (("main", "pkgs/main"), ("free", "pkgs/free"), ("conda-forge", "cloud/conda-forge")):
            result = mirror_channel(teaching_channel(name), os.path.join(root, where), ["linux-64"])
            if name == "main":
                downloaded = result.downloaded_files
        sb.write_condarc(f"channel_alias: file://{root}/pkgs\nchannels:\n  - conda-forge\n  - main\n"
                         "  - free\noffline: true\n")
        s = Session.from_argv(["create", "-y", "-p", sb.path("offline-env"), "numpy", "--dry-run"],
                              env={**sb.env, "CONDA_DEEPDIVE_REAL_DEFAULTS": "1"})
        try:
            s.run(until="index")
        except CondaError as exc:
            match = re.search(r"for channel (\S+) <", str(exc))
            return (match.group(1) if match else None), downloaded
        return None, downloaded


def _check_10_1(answer: Any) -> Verdict:
    expected, _ = _mirror_10()
    if expected is not None and _norm(answer) == _norm(expected):
        return Verdict(True, f"{expected}: channel_alias only reaches anaconda/pkgs/<name>, and the mirror put "
                             f"{expected} under anaconda/cloud.")
    return Verdict(False, f"{answer!r} is read fine from the mirror; which channel is not under anaconda/pkgs/?")


_exercise(
    "10.1",
    "With the seed's condarc (channel_alias → anaconda/pkgs, channels conda-forge, main, free, offline), "
    "which channel cannot be read before the custom_channels fix?",
    solution_code='''
import re
rc, output = first_try          # the create of section 4, before the fix
answer = re.search(r"for channel (\\S+) <", output).group(1)
check("10.1", answer)''',
    wrong="main",
    hint="read the error of the first create in section 4.",
)((_check_10_1, lambda: _mirror_10()[0]))


def _check_10_2(answer: Any) -> Verdict:
    _, expected = _mirror_10()
    if int(answer) == expected:
        return Verdict(True, f"{expected} files: every package of main's linux-64 and noarch (the index files are "
                             "published, not counted as downloads).")
    return Verdict(False, f"not {answer}: a first mirror of main into an empty directory — what does "
                          "MirrorResult.downloaded_files say?")


_exercise(
    "10.2",
    "How many files does a first mirror of main (linux-64, with noarch) download into an empty directory?",
    solution_code='''
first = mirror_channel(teaching_channel("main"), sb.path("fresh-mirror"), ["linux-64"])
answer = first.downloaded_files
check("10.2", answer)''',
    wrong=0,
    hint="mirror_channel(...) into a new directory returns a MirrorResult.",
)((_check_10_2, lambda: _mirror_10()[1]))
