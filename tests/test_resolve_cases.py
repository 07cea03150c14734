"""The engine's own fidelity check: ``Resolve.solve`` on the real-conda CLI cases.

For every case in ``../shared/fidelity/cli_cases.json`` without a prefix and without extra CLI
flags, load the case's channels straight from repodata (as conda's SubdirData would: the file's
subdir wins, ``.conda`` shadows ``.tar.bz2``, ``pip`` added to python 2/3 when
``add_pip_as_python_dependency``), add the virtual packages conda reported, solve the specs and
compare ``channel_dir::name-version-build`` sets with conda's LINK list (or the exception name,
and for UnsatisfiableError the message lines as a multiset).

The ratchet ``tests/resolve_cases_ratchet.json`` lists the ids that still fail; they are
``xfail(strict=True)``, so a fixed case must be removed from the list (the count never drops).
The end-to-end acceptance measure is the Solver's harness (``solve.py``); this one checks the
engine alone.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from conftest import SHARED

RATCHET = Path(__file__).with_name("resolve_cases_ratchet.json")
CASES_FILE = SHARED / "fidelity" / "cli_cases.json"
CHANNELS_DIR = SHARED / "data" / "channels"


def _cases() -> list[dict]:
    if not CASES_FILE.exists():
        return []
    data = json.loads(CASES_FILE.read_text())
    return [c for c in data["cases"] if not c.get("prefix") and not c.get("flags")]


@lru_cache(maxsize=None)
def _load_subdir(channel_dir: str, subdir: str, add_pip: bool) -> tuple:
    from conda_deepdive.models.channel import Channel
    from conda_deepdive.models.records import PackageRecord

    path = CHANNELS_DIR / channel_dir / subdir / "repodata.json"
    if not path.exists():
        return ()
    repodata = json.loads(path.read_text())
    info = repodata.get("info") or {}
    file_subdir = info.get("subdir") or subdir
    channel = Channel(f"file://{CHANNELS_DIR / channel_dir}")
    base_url = f"file://{CHANNELS_DIR / channel_dir}/{file_subdir}"
    legacy = repodata.get("packages") or {}
    modern = repodata.get("packages.conda") or {}
    shadowed = {fn[: -len(".conda")] + ".tar.bz2" for fn in modern}
    out = []
    for group in (modern.items(), ((f, r) for f, r in legacy.items() if f not in shadowed)):
        for fn, raw in group:
            raw = dict(raw)
            if add_pip and raw.get("name") == "python" and str(raw.get("version", "")).startswith(("2.", "3.")):
                raw["depends"] = [*(raw.get("depends") or ()), "pip"]
            out.append(
                PackageRecord.from_repodata(fn, raw, channel, file_subdir, base_url, info.get("arch"), info.get("platform"))
            )
    return tuple(out)


def virtual_records(case: dict) -> list:
    from conda_deepdive.models.records import PackageRecord

    out = []
    for name, vb in sorted(case["settings"].get("virtual_packages", {}).items()):
        version, _, build = vb.partition("=")
        out.append(
            PackageRecord.from_dict(
                {
                    "name": name, "version": version, "build": build or "0", "build_number": 0,
                    "channel": "@", "subdir": case["subdir"], "fn": name, "depends": [],
                    "package_type": "virtual_system",
                }
            )
        )
    return out


def case_records(case: dict) -> tuple[list, list]:
    """(records in channel-priority order + virtual packages, the channels)."""
    from conda_deepdive.models.channel import Channel

    add_pip = bool(case["settings"].get("add_pip_as_python_dependency"))
    records: list = []
    channels = []
    for ch in case["channels"]:
        channels.append(Channel(f"file://{CHANNELS_DIR / ch}"))
        for subdir in (case["subdir"], "noarch"):
            records.extend(_load_subdir(ch, subdir, add_pip))
    return records + virtual_records(case), channels


def _dir_name(prec) -> str:
    url = prec.url or ""
    marker = str(CHANNELS_DIR) + "/"
    rest = url.split(marker, 1)[1] if marker in url else prec.channel.name
    return rest.split("/", 1)[0]


def run_case(case: dict):
    """``("ok", sorted link list)`` or ``("error", exception name, message)``."""
    from conda_deepdive.exceptions import CondaError
    from conda_deepdive.models.match_spec import MatchSpec
    from conda_deepdive.solve.resolve import Resolve

    records, channels = case_records(case)
    r = Resolve(records, channels, case["settings"]["channel_priority"])
    try:
        # like the Solver, merge the requested specs per name (``python 3.6*`` + ``python 2.7*``)
        specs = list(MatchSpec.merge(MatchSpec(s) for s in case["specs"]))
        result = r.solve(specs, specs_to_add=specs, history_specs=())
    except CondaError as e:
        return ("error", type(e).__name__, str(e))
    links = sorted(f"{_dir_name(p)}::{p.name}-{p.version}-{p.build}" for p in result if p.channel.name != "@")
    return ("ok", links)


def outcome_matches(case: dict, outcome) -> bool:
    expected = case["expected"]
    if expected.get("status", "ok") == "ok" and "exception_name" not in expected:
        return outcome[0] == "ok" and outcome[1] == sorted(expected["link"])
    if outcome[0] != "error":
        return False
    name = expected["exception_name"]
    got = outcome[1]
    if name in ("PackagesNotFoundError", "PackagesNotFoundInChannelsError"):
        # the CLI turns Resolve's ResolvePackageNotFound into PackagesNotFoundError, listing
        # the same "  - spec" lines
        if got not in ("ResolvePackageNotFound", name):
            return False
        listed = expected["message"].split("\n\nCurrent channels")[0].splitlines()
        mine = [ln for ln in outcome[2].splitlines() if ln.startswith("  - ")]
        return bool(mine) and all(ln in listed for ln in mine)
    if got != name:
        return False
    if name == "UnsatisfiableError":
        return Counter(outcome[2].splitlines()) == Counter(expected["message"].splitlines())
    return True


CASES = _cases()
FAILING = set(json.loads(RATCHET.read_text())) if RATCHET.exists() else set()


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c["id"], marks=pytest.mark.xfail(strict=True, reason="in the ratchet file"))
        if c["id"] in FAILING
        else pytest.param(c, id=c["id"])
        for c in CASES
    ],
)
def test_resolve_case(case):
    if not CASES_FILE.exists():
        pytest.skip("../shared/fidelity/cli_cases.json is absent")
    if case["expected"].get("exception_name") == "InvalidMatchSpec":
        from conda_deepdive.exceptions import InvalidMatchSpec
        from conda_deepdive.models.match_spec import MatchSpec

        with pytest.raises(InvalidMatchSpec):
            for s in case["specs"]:
                MatchSpec(s)
        return
    outcome = run_case(case)
    assert outcome_matches(case, outcome), (outcome, case["expected"])


def test_ratchet_only_lists_known_cases():
    ids = {c["id"] for c in CASES}
    if not ids:
        pytest.skip("../shared/fidelity/cli_cases.json is absent")
    assert FAILING <= ids, sorted(FAILING - ids)


if __name__ == "__main__":  # python tests/test_resolve_cases.py [--write-ratchet]
    import sys
    import time

    failing = []
    t0 = time.perf_counter()
    for c in CASES:
        try:
            if c["expected"].get("exception_name") == "InvalidMatchSpec":
                ok = True
            else:
                out = run_case(c)
                ok = outcome_matches(c, out)
        except Exception as exc:  # noqa: BLE001 - report and go on
            out, ok = ("crash", repr(exc)), False
        if not ok:
            failing.append(c["id"])
            if os.environ.get("VERBOSE"):
                print(c["id"], c["specs"], "->", str(out)[:600], "\n   expected", str(c["expected"])[:600])
    print(f"{len(CASES) - len(failing)}/{len(CASES)} pass in {time.perf_counter() - t0:.1f} s")
    if "--write-ratchet" in sys.argv:
        RATCHET.write_text(json.dumps(sorted(failing), indent=1) + "\n")
