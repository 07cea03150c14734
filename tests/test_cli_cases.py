"""Fidelity harness: the 247 create/install/update/remove cases answered by real conda.

Running one fidelity case of ``../shared/fidelity/cli_cases.json`` the way real conda was run.

Each case was answered by conda 26.7.1's command line (see the file's ``description``):
``conda <command> --dry-run --json --override-channels -c file://<CHANNELS>/<ch> … -p PREFIX
--repodata-fn repodata.json [flags] SPECS``, with a ``.condarc`` holding ``channel_priority`` and
``add_pip_as_python_dependency``, ``CONDA_SUBDIR``, a fresh ``CONDA_PKGS_DIRS``, an empty ``HOME``
and the ``CONDA_OVERRIDE_*`` values. Cases with a ``prefix`` get a fake existing environment.

Two drivers produce the same :class:`CaseResult`:

* ``cli`` — our ``conda_deepdive.cli.main.main(argv, env=...)`` in-process, stdout parsed as JSON;
* ``solver`` — :func:`conda_deepdive.solve.solve.solve_with_retries` directly (kept for debugging the
  solver without the command line): ``CONDA_DEEPDIVE_CASES_DRIVER=solver pytest tests/test_cli_cases.py``.

Comparison: LINK/UNLINK as sets of ``<channel dir>::name-version-build``; errors by exception name
and message (paths normalised to ``file://<CHANNELS>`` and ``<PREFIX>``; UnsatisfiableError lines
as a multiset; the package lines of PackagesNotFound* messages as a multiset, since conda lists
them from a set). Ratchet: ``cli_cases_ratchet.json`` lists the ids still failing, with a reason;
they are ``xfail(strict=True)``, so a fixed case must leave the list and no passing case can fail.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED

CHANNELS_DIR = SHARED / "data" / "channels"
CASES_FILE = SHARED / "fidelity" / "cli_cases.json"
RATCHET_FILE = Path(__file__).with_name("cli_cases_ratchet.json")

_REPODATA: dict = {}


@dataclass
class CaseResult:
    status: str  # "ok" | "error"
    link: list = field(default_factory=list)
    unlink: list = field(default_factory=list)
    exception_name: str | None = None
    message: str | None = None
    seconds: float = 0.0
    raw: Any = None


def load_cases() -> list[dict]:
    if not CASES_FILE.exists():
        return []
    return json.loads(CASES_FILE.read_text())["cases"]


def load_ratchet() -> dict:
    if not RATCHET_FILE.exists():
        return {}
    return json.loads(RATCHET_FILE.read_text())


def channel_url(ch: str) -> str:
    return "file://" + str(CHANNELS_DIR / ch)


def _repodata(ch: str, subdir: str) -> dict:
    path = CHANNELS_DIR / ch / subdir / "repodata.json"
    key = (str(path), path.stat().st_mtime_ns if path.exists() else None)
    if key not in _REPODATA:
        _REPODATA[key] = json.loads(path.read_text()) if path.exists() else {}
    return _REPODATA[key]


def _find_record(ch: str, subdir: str, dist: str) -> tuple[str, str, dict]:
    """The repodata record ``name-version-build`` of channel ``ch`` (platform subdir, then noarch)."""
    for sd in (subdir, "noarch"):
        data = _repodata(ch, sd)
        for key in ("packages", "packages.conda"):
            for fn, rec in (data.get(key) or {}).items():
                if f"{rec['name']}-{rec['version']}-{rec['build']}" == dist:
                    return sd, fn, rec
    raise LookupError(f"{ch}::{dist} not found in {subdir} or noarch")


def write_fake_prefix(case: dict, prefix: Path) -> None:
    """The fake environment of the README: one conda-meta JSON per installed record + history."""
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    plus_lines = []
    for item in case["prefix"]["installed"]:
        ch, dist = item.split("::", 1)
        sd, fn, rec = _find_record(ch, case["subdir"], dist)
        chan = f"{channel_url(ch)}/{sd}"
        data = dict(rec)
        data.update(fn=fn, url=f"{chan}/{fn}", channel=chan, files=[],
                    paths_data={"paths": [], "paths_version": 1})
        (meta / f"{dist}.json").write_text(json.dumps(data, indent=2))
        plus_lines.append(f"+{chan}::{dist}")
    specs = case["prefix"].get("history_specs") or []
    text = (
        "==> 2018-10-10 12:00:00 <==\n"
        f"# cmd: conda create -p {prefix} {' '.join(specs)}\n"
        "# conda version: 26.7.1\n"
        + "".join(line + "\n" for line in sorted(plus_lines))
        + f"# update specs: {specs!r}\n"
    )
    (meta / "history").write_text(text)


def prepare(case: dict, tmp: Path) -> tuple[list[str], dict[str, str], Path]:
    """argv, env and prefix for a case (files written under ``tmp``)."""
    settings = case["settings"]
    home = tmp / "home"
    home.mkdir()
    pkgs = tmp / "pkgs"
    pkgs.mkdir()
    condarc = tmp / ".condarc"
    condarc.write_text(
        f"channel_priority: {settings['channel_priority']}\n"
        f"add_pip_as_python_dependency: {'true' if settings['add_pip_as_python_dependency'] else 'false'}\n"
    )
    prefix = tmp / "env"
    if case.get("prefix"):
        write_fake_prefix(case, prefix)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "CONDARC": str(condarc),
        "CONDA_SUBDIR": case["subdir"],
        "CONDA_PKGS_DIRS": str(pkgs),
        "CONDA_OVERRIDE_CUDA": "",
        "CONDA_OVERRIDE_ARCHSPEC": "x86_64",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    if case["subdir"].startswith("linux"):
        env.update(CONDA_OVERRIDE_GLIBC="2.17", CONDA_OVERRIDE_LINUX="5.15")
    elif case["subdir"].startswith("osx"):
        env["CONDA_OVERRIDE_OSX"] = "10.13"
    argv = [case["command"], "--dry-run", "--json", "--override-channels"]
    for ch in case["channels"]:
        argv += ["-c", channel_url(ch)]
    argv += ["-p", str(prefix)]
    if case["command"] != "remove":
        argv += ["--repodata-fn", settings.get("repodata_fn") or "repodata.json"]
    argv += list(case.get("flags") or [])
    argv += list(case["specs"])
    return argv, env, prefix


def _dist_key(action: dict) -> str:
    base = action.get("base_url") or action.get("channel") or ""
    return f"{posixpath.basename(base.rstrip('/'))}::{action['dist_name']}"


def parse_json_output(text: str) -> CaseResult:
    doc = json.loads(text)
    if doc.get("exception_name") or doc.get("error"):
        return CaseResult("error", exception_name=doc.get("exception_name"), message=doc.get("message"),
                          raw=doc)
    actions = doc.get("actions") or {}
    return CaseResult(
        "ok",
        link=sorted(_dist_key(a) for a in actions.get("LINK", ())),
        unlink=sorted(_dist_key(a) for a in actions.get("UNLINK", ())),
        raw=doc,
    )


def run_cli(case: dict, tmp: Path) -> CaseResult:
    from conda_deepdive.cli.main import main

    argv, env, _prefix = prepare(case, tmp)
    out = io.StringIO()
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv, env=env)
    text = out.getvalue().strip()
    if not text:
        return CaseResult("error", exception_name="NoOutput",
                          message=f"rc={rc}, stderr={err.getvalue()[-2000:]}")
    # conda prints one JSON document; warnings may precede it on stdout in rare cases
    start = text.find("{")
    return parse_json_output(text[start:])


def run_solver(case: dict, tmp: Path) -> CaseResult:
    """Drive the same case through Context + fetch_index + solve_with_retries (no CLI)."""
    from conda_deepdive.config.context import Context
    from conda_deepdive.exceptions import CondaError
    from conda_deepdive.index.index import fetch_index
    from conda_deepdive.models import MatchSpec
    from conda_deepdive.solve.solve import solve_with_retries

    argv, env, prefix = prepare(case, tmp)
    channels = [channel_url(ch) for ch in case["channels"]]
    flags = case.get("flags") or []
    try:
        ctx = Context.load(env=env).replace(channels=tuple(channels), target_prefix=str(prefix))
        um = None
        if "--all" in flags:
            um = "update_all"
            ctx = ctx.replace(update_modifier="update_all")
        elif "--freeze-installed" in flags or "--no-update-deps" in flags:
            um = "freeze_installed"
            ctx = ctx.replace(update_modifier="freeze_installed")
        elif "--update-deps" in flags:
            um = "update_deps"
            ctx = ctx.replace(update_modifier="update_deps")
        if "--force" in flags:
            ctx = ctx.replace(force_remove=True)
        specs = [MatchSpec(s) for s in case["specs"]]
        if case["command"] == "install" and not specs:
            from conda_deepdive.exceptions import CondaValueError

            raise CondaValueError("too few arguments, must supply one of command line packages, "
                                  "--file or --revision")
        index = fetch_index(ctx, channels=channels, repodata_fn="repodata.json")
        res = solve_with_retries(
            str(prefix), index.channels, ctx.subdirs,
            specs if case["command"] != "remove" else (),
            specs if case["command"] == "remove" else (),
            command=case["command"], context=ctx, repodata_fns=["repodata.json"],
            args_update_modifier=um, index_for=lambda fn: index,
        )
    except CondaError as exc:
        return CaseResult("error", exception_name=type(exc).__name__, message=str(exc))

    def key(rec: Any) -> str:
        return f"{posixpath.basename(rec.channel.base_url.rstrip('/'))}::{rec.name}-{rec.version}-{rec.build}"

    return CaseResult("ok", link=sorted(key(r) for r in res.link_precs),
                      unlink=sorted(key(r) for r in res.unlink_precs))


def normalise(text: str | None, prefix: Path) -> str:
    text = text or ""
    text = text.replace("file://" + str(CHANNELS_DIR), "file://<CHANNELS>")
    return text.replace(str(prefix), "<PREFIX>")


def _listed(message: str) -> tuple[str, list[str]]:
    """Split a not-found message into (text without the package lines, package lines)."""
    head, sep, rest = message.partition("\n\n")
    if not sep or "not available from current channels" not in head:
        return message, []
    pkgs, sep2, tail = rest.partition("\n\n")
    return head + "\n\n<PACKAGES>\n\n" + tail, sorted(pkgs.splitlines())


def compare(case: dict, got: CaseResult, prefix: Path) -> list[str]:
    """Differences between conda's answer and ours (empty list = pass)."""
    exp = case["expected"]
    problems: list[str] = []
    if exp["status"] == "ok":
        if got.status != "ok":
            return [f"expected a solution, got {got.exception_name}: {normalise(got.message, prefix)[:600]}"]
        for key in ("link", "unlink"):
            want, have = set(exp.get(key) or ()), set(getattr(got, key))
            if want != have:
                problems.append(f"{key}: missing {sorted(want - have)}, extra {sorted(have - want)}")
        return problems
    if got.status != "error":
        return [f"expected {exp['exception_name']}, got a solution: link={got.link} unlink={got.unlink}"]
    if got.exception_name != exp["exception_name"]:
        problems.append(f"exception {got.exception_name} != {exp['exception_name']}: "
                        f"{normalise(got.message, prefix)[:600]}")
        return problems
    want = exp.get("message") or ""
    have = normalise(got.message, prefix)
    if exp["exception_name"] == "UnsatisfiableError" or exp.get("message_line_order_varies"):
        if sorted(want.splitlines()) != sorted(have.splitlines()):
            problems.append(f"message lines differ:\n--- conda\n{want}\n--- ours\n{have}")
    elif exp["exception_name"].startswith("PackagesNotFound"):
        # the package lines come from a set in conda (hash order): compare them as a multiset
        if _listed(want) != _listed(have):
            problems.append(f"message differs:\n--- conda\n{want}\n--- ours\n{have}")
    elif want.strip() != have.strip():
        problems.append(f"message differs:\n--- conda\n{want}\n--- ours\n{have}")
    return problems


# ------------------------------------------------------------------------------------------------
# the tests
# ------------------------------------------------------------------------------------------------
DRIVER = os.environ.get("CONDA_DEEPDIVE_CASES_DRIVER", "cli")
_CASES = load_cases()
_RATCHET = load_ratchet()
# cases that took real conda over 3 s (the 2018 osx-64 snapshots, 16k-39k records) cost us
# seconds too: mark them slow so the quick suite stays quick (CI still runs them)
_SLOW_ORACLE_SECONDS = 3.0


def _params() -> list:
    params = []
    for case in _CASES:
        marks = []
        if case["id"] in _RATCHET:
            marks.append(pytest.mark.xfail(reason=_RATCHET[case["id"]], strict=True))
        if case["oracle_seconds"] > _SLOW_ORACLE_SECONDS:
            marks.append(pytest.mark.slow)
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


def test_cases_file_present() -> None:
    from conftest import shared_path

    shared_path("fidelity", "cli_cases.json")
    assert len(_CASES) == 247
    unknown = set(_RATCHET) - {c["id"] for c in _CASES}
    assert not unknown, f"ratchet lists ids that are not cases: {sorted(unknown)}"


@pytest.mark.parametrize("case", _params())
def test_cli_case(case: dict, tmp_path: Path) -> None:
    import time

    run = run_cli if DRIVER == "cli" else run_solver
    started = time.perf_counter()
    got = run(case, tmp_path)
    got.seconds = time.perf_counter() - started
    problems = compare(case, got, tmp_path / "env")
    assert not problems, f"{case['id']} ({case['command']} {' '.join(case['specs'])}):\n" + "\n".join(problems)
