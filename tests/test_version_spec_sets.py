"""Regex version specs that contain ``[[`` compile without ``FutureWarning`` and match the same.

``^1[[a]$`` is the set of ``[`` and ``a``; Python warns "Possible nested set" for it (a future
Python may read it differently). ``version_spec._without_set_warnings`` escapes the bracket; the
parsed regex (``re._parser``'s tree, i.e. what is matched) must not change. These run under
``-W error`` semantics: any warning fails them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

from hypothesis import example, given, settings, strategies as st

from conda_deepdive.models.version_spec import VersionSpec, _without_set_warnings

try:
    from re import _parser as sre_parse  # Python 3.11+
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]


def _tree(pattern: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return repr(sre_parse.parse(pattern))


def test_nested_set_spec_compiles_quietly_and_matches_the_same():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        spec = VersionSpec("^1[[a]$")
        assert spec.match("1[") and spec.match("1a") and not spec.match("1b")
        assert VersionSpec("^[[0-9]]+$").match("7]]")  # '[' or a digit, then ']'s
        assert VersionSpec("^[[0-9]]+$").match("[]") and not VersionSpec("^[[0-9]]+$").match("7")
        assert VersionSpec("^1[a&&b]$").match("1&")


def test_a_fresh_interpreter_with_warnings_as_errors():
    code = ("from conda_deepdive.models.match_spec import MatchSpec\n"
            "from conda_deepdive.models.version_spec import VersionSpec\n"
            "assert VersionSpec('^1[[a]$').match('1[')\n"
            "assert MatchSpec(name='numpy', version='^1[[.]2$').match(\n"
            "    {'name': 'numpy', 'version': '1.2', 'build': '0', 'build_number': 0})\n")
    proc = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="[]^\\&~|-a0.", max_size=12))
@example("[---]")  # a range ending in "-": "Possible set difference" (found by this test in CI)
@example("[a--b]")
@example("[[--]")
def test_rewrite_keeps_the_parsed_regex(body):
    pattern = f"^{body}$"
    try:
        before = _tree(pattern)
    except (re.error, RecursionError, OverflowError):
        return
    after_pattern = _without_set_warnings(pattern)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = repr(sre_parse.parse(after_pattern))
    assert after == before, (pattern, after_pattern)
