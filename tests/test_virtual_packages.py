"""Virtual packages: exactly what real conda 26.7.1 reported in the fidelity cases, and overrides."""

from __future__ import annotations

import os
import sys

import pytest

from conftest import load_fidelity
from conda_deepdive.index.virtual_packages import (
    VirtualPackage,
    native_subdir,
    virtual_package_records,
    virtual_packages,
)

# the environment the fidelity runner used (see ../shared/fidelity/README.md)
FIDELITY_OVERRIDES = {
    "linux-64": dict(override_glibc="2.17", override_linux="5.15"),
    "osx-64": dict(override_osx="10.13"),
    "win-64": {},
}


def make_context(**settings):
    from conda_deepdive.config.context import Context

    return Context.from_values(**settings)


def as_dict(vps) -> dict[str, str]:
    return {vp.name: f"{vp.version}={vp.build}" for vp in vps}


def fidelity_expectations() -> dict[str, dict[str, str]]:
    cases = load_fidelity("cli_cases.json")["cases"]
    seen: dict[str, dict[str, str]] = {}
    for case in cases:
        expected = case["settings"]["virtual_packages"]
        assert seen.setdefault(case["subdir"], expected) == expected, "one answer per subdir"
    return seen


def test_fidelity_cases_cover_three_platforms():
    assert set(fidelity_expectations()) == {"linux-64", "osx-64", "win-64"}


@pytest.mark.parametrize("subdir", ["linux-64", "osx-64", "win-64"])
def test_same_virtual_packages_as_conda(subdir):
    expected = fidelity_expectations()[subdir]
    ctx = make_context(subdir=subdir, override_cuda="", override_archspec="x86_64",
                       **FIDELITY_OVERRIDES[subdir])
    assert as_dict(virtual_packages(ctx)) == expected
    records = virtual_package_records(ctx)
    assert {r.name: f"{r.version}={r.build}" for r in records} == expected


def test_records_look_like_condas():
    ctx = make_context(subdir="linux-64", override_cuda="", override_glibc="2.28",
                       override_linux="6.1", override_archspec="x86_64")
    records = {r.name: r for r in virtual_package_records(ctx)}
    glibc = records["__glibc"]
    assert (glibc.version, glibc.build, glibc.build_number) == ("2.28", "0", 0)
    assert glibc.md5 == "12345678901234567890123456789012"
    assert glibc.fn == "__glibc" and glibc.subdir == "linux-64"
    assert str(glibc.channel).endswith("@") or getattr(glibc.channel, "name", None) == "@"
    assert str(getattr(glibc.package_type, "value", glibc.package_type)) == "virtual_system"


def test_empty_overrides_remove_packages_except_linux():
    ctx = make_context(subdir="linux-64", override_cuda="", override_glibc="", override_linux="",
                       override_archspec="")
    got = as_dict(virtual_packages(ctx))
    assert "__glibc" not in got and "__cuda" not in got and "__archspec" not in got
    assert got["__linux"] == "0=0"  # conda: an empty __linux override still exports __linux=0
    assert got["__unix"] == "0=0" and got["__conda"] == "26.7.1=0"
    osx = as_dict(virtual_packages(make_context(subdir="osx-arm64", override_osx="", override_cuda="")))
    assert "__osx" not in osx and osx["__unix"] == "0=0"


def test_overrides_set_versions_and_are_marked():
    ctx = make_context(subdir="linux-64", override_cuda="12.4", override_glibc="2.31",
                       override_linux="5.15.0-91-generic", override_archspec="skylake")
    by_name = {vp.name: vp for vp in virtual_packages(ctx)}
    assert by_name["__cuda"] == VirtualPackage("__cuda", "12.4", "0", "override")
    assert by_name["__linux"].version == "5.15.0"  # conda keeps only the numeric release part
    assert by_name["__archspec"].build == "skylake" and by_name["__archspec"].version == "1"
    assert by_name["__glibc"].source == "override"
    assert repr(by_name["__cuda"]) == "VirtualPackage(__cuda=12.4=0, override)"


def test_target_subdir_not_host_decides():
    # a subdir other than the host's still gets its own platform's packages (CONDA_SUBDIR)
    foreign = "osx-64" if not native_subdir().startswith("osx-") else "linux-64"
    got = as_dict(virtual_packages(make_context(subdir=foreign, override_cuda="")))
    if foreign == "osx-64":
        assert got["__osx"] == "0=0" and "__glibc" not in got and "__linux" not in got
        assert got["__archspec"] == "1=x86_64"  # not the host CPU: the target's machine
    else:
        assert got["__linux"] == "0=0" and got["__glibc"] == "0=0"
    win = as_dict(virtual_packages(make_context(subdir="win-64", override_cuda="")))
    assert win["__win"] == "0=0" and "__unix" not in win
    arm = as_dict(virtual_packages(make_context(subdir="linux-aarch64", override_cuda="")))
    if native_subdir() != "linux-aarch64":
        assert arm["__archspec"] == "1=aarch64"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the ld.so cache reading is Linux's")
def test_cuda_library_lookup_agrees_with_find_library(tmp_path):
    # the cheap lookup must answer what ctypes.util.find_library("cuda") (ldconfig -p, gcc)
    # answers on this machine, and see a driver library in an LD_LIBRARY_PATH folder
    import ctypes.util

    from conda_deepdive.index.virtual_packages import _CUDA_DRIVER_PATHS, cuda_library_present

    expected = bool(ctypes.util.find_library("cuda")) or any(os.path.exists(p) for p in _CUDA_DRIVER_PATHS)
    assert cuda_library_present({}) == expected
    (tmp_path / "empty").mkdir()
    assert cuda_library_present({"LD_LIBRARY_PATH": f"{tmp_path / 'missing'}:{tmp_path / 'empty'}"}) == expected
    (tmp_path / "drv").mkdir()
    (tmp_path / "drv" / "libcuda.so.1").write_bytes(b"")
    assert cuda_library_present({"LD_LIBRARY_PATH": f"{tmp_path / 'empty'}:{tmp_path / 'drv'}"})


def test_linux_version_is_read_as_condas_regex_reads_it():
    # string code instead of compiling conda's r"\d+\.\d+(\.\d+)?(\.\d+)?" (matched at the start)
    import random
    import re

    from conda_deepdive.index.virtual_packages import _linux_validate

    regex = re.compile(r"\d+\.\d+(\.\d+)?(\.\d+)?")
    rng = random.Random(3)
    samples = ["5.15.0-91-generic", "5.15", "5", "6.1.2.3.4", "4.19.0.", ".5.1", "5..1", "\u0663.\u0661"]
    samples += ["".join(rng.choice("0123456789..-x\u0663ab\u00b2") for _ in range(rng.randint(0, 10)))
                for _ in range(20000)]
    for text in samples:
        m = regex.match(text)
        assert _linux_validate(text) == (m.group() if m else None), text
