"""Virtual packages: the machine itself, described as packages (``__glibc``, ``__osx``, ``__cuda``…).

conda counterparts: ``conda.plugins.virtual_packages.{archspec,conda,cuda,freebsd,linux,osx,
windows}`` and ``CondaVirtualPackage.to_virtual_package`` in ``conda.plugins.types``.

A package can depend on ``__glibc >=2.17`` or ``__cuda >=12``; the solver treats those like any
other dependency, satisfied by *virtual* records that conda adds to the index on channel ``@``.
Their version (and for ``__archspec`` the build) is detected from the running machine, unless a
``CONDA_OVERRIDE_<NAME>`` variable says otherwise (Context: ``override_glibc``, ``override_osx``…).

What to notice as a learner:

* They follow the **target** subdir, not the host: ``CONDA_SUBDIR=osx-64`` on Linux still gets
  ``__osx`` and ``__unix`` (with version ``0`` unless ``CONDA_OVERRIDE_OSX`` says otherwise).
* An **empty** override means "pretend it is absent": ``CONDA_OVERRIDE_CUDA=""`` removes
  ``__cuda``, ``CONDA_OVERRIDE_GLIBC=""`` removes ``__glibc``. ``__linux`` is the exception —
  an empty override gives ``__linux=0=0``. ``CONDA_OVERRIDE_WIN`` cannot remove ``__win``.
* Missing versions and builds become ``"0"``: ``__unix=0=0``, ``__win=0=0``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from conda_deepdive import CONDA_VERSION
from conda_deepdive.models.channel import host_uname
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["VirtualPackage", "virtual_packages", "virtual_package_records", "native_subdir"]

_MD5 = "12345678901234567890123456789012"  # the fixed md5 conda gives every virtual record
_NON_X86 = {"armv6l", "armv7l", "aarch64", "arm64", "ppc64", "ppc64le", "riscv64", "s390x"}
_ARCH_NAMES = {"32": "x86", "64": "x86_64"}


class _Absent:
    """Marker: the plugin decided this virtual package does not exist (conda's ``NULL``)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


@value_object(frozen=True, repr=False)  # its own __repr__ below
class VirtualPackage:
    """One virtual package and where its values came from (``"override"`` or ``"detected"``)."""

    name: str
    version: str
    build: str
    source: str = "detected"

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"

    def __repr__(self) -> str:
        return f"VirtualPackage({self}, {self.source})"

    def summary(self) -> dict:
        return {"name": self.name, "version": self.version, "build": self.build, "source": self.source}


# ------------------------------------------------------------------------------------------------
# Host detection (what conda's Context and plugins look at)
# ------------------------------------------------------------------------------------------------
def native_subdir() -> str:
    """The subdir of the machine we run on (``linux-64``, ``osx-arm64``, ``win-64``…)."""
    plat = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(sys.platform)
    if plat is None and sys.platform.startswith("freebsd"):
        plat = "freebsd"
    machine = host_uname("machine").lower()
    if machine in ("amd64", "x86_64"):
        arch = "64"
    elif machine in ("i386", "i686", "x86"):
        arch = "32"
    else:
        arch = machine
    return f"{plat or 'unknown'}-{arch}"


def _host_libc() -> tuple[str | None, str | None]:
    if not sys.platform.startswith("linux"):
        return None, None
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError, AttributeError):
        return None, None
    family, _, version = text.partition(" ")
    if family == "NPTL":  # very old glibc reported the threading library instead
        family = "glibc"
    return (family.lower() or None), (version or None)


def _host_linux_release() -> str | None:
    return host_uname("release") if host_uname("system") == "Linux" else None


def _host_osx_version() -> str | None:
    if sys.platform != "darwin":
        return None
    import platform

    return platform.mac_ver()[0] or None


def _archspec_name(subdir: str) -> str | None:
    """conda's ``get_archspec_name``: the target machine, or the host CPU's microarchitecture."""
    plat, _, arch = subdir.partition("-")
    if arch in _NON_X86:
        machine = arch
    elif arch in _ARCH_NAMES:
        machine = _ARCH_NAMES[arch]
    else:
        return None  # zos, unknown
    if native_subdir() != subdir:
        return machine
    try:  # conda uses archspec for e.g. "skylake"; it is not one of our dependencies
        import archspec.cpu  # type: ignore[import-not-found]

        return str(archspec.cpu.host())
    except ImportError:
        return machine


_CUDA_DRIVER_PATHS = ("/usr/lib64/nvidia/libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
                      "/usr/lib/wsl/lib/libcuda.so.1",
                      # the loader's default folders, searched even when the cache is stale
                      "/lib/libcuda.so.1", "/usr/lib/libcuda.so.1", "/lib64/libcuda.so.1",
                      "/usr/lib64/libcuda.so.1")


def cuda_library_present(env: Any = None) -> bool:
    """Is a CUDA driver library installed at all?

    A cheap filter before the real probe (a child process that loads the library, as conda's
    cuda plugin does). On Linux it looks where the dynamic loader (``dlopen``) would: its cache
    names the library, or a folder of ``LD_LIBRARY_PATH`` holds it, or it sits in a default
    folder or where drivers put it. That avoids ``ctypes.util.find_library("cuda")`` (~40 ms
    on every run: importing ctypes and subprocess, running ``ldconfig -p`` and maybe ``gcc``).
    Elsewhere: find_library."""
    env = os.environ if env is None else env
    if sys.platform.startswith("linux"):
        try:
            with open("/etc/ld.so.cache", "rb") as fh:
                if b"libcuda.so" in fh.read():
                    return True
        except OSError:
            pass
        for folder in (env.get("LD_LIBRARY_PATH") or "").split(os.pathsep):
            try:
                if folder and any(n.startswith("libcuda.so") for n in os.listdir(folder)):
                    return True
            except OSError:
                continue
    else:
        import ctypes.util

        if ctypes.util.find_library("cuda"):
            return True
    return any(os.path.exists(p) for p in _CUDA_DRIVER_PATHS)


def _host_cuda_version() -> Any:
    """The CUDA driver version, probed in a child process like conda (crashes stay contained);
    ``ABSENT`` when there is no driver, so no ``__cuda`` at all (conda's cuda plugin returns NULL)."""
    if not cuda_library_present():
        return ABSENT  # no driver library: skip spawning a process at all
    import subprocess

    probe = (
        "import ctypes,sys\n"
        "for n in ('libcuda.so.1','libcuda.so','libcuda.dylib','nvcuda.dll'):\n"
        "    try: lib=ctypes.CDLL(n); break\n"
        "    except OSError: lib=None\n"
        "if lib is None or lib.cuInit(0)!=0: sys.exit(0)\n"
        "v=ctypes.c_int(0)\n"
        "if lib.cuDriverGetVersion(ctypes.byref(v))==0: print(f'{v.value//1000}.{(v.value%1000)//10}')\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ABSENT
    return out.stdout.strip() or ABSENT


# ------------------------------------------------------------------------------------------------
# The plugins, in conda's registration order
# ------------------------------------------------------------------------------------------------
def _override(context: Any, name: str) -> str | None:
    """``CONDA_OVERRIDE_<NAME>`` as Context exposes it; ``None`` = not set, ``""`` = set empty."""
    value = getattr(context, f"override_{name}", None)
    if value is None:
        table = getattr(context, "override_virtual_packages", None) or {}
        value = table.get(name)
    return None if value is None else str(value)


def _make(context: Any, name: str, version: Any, build: Any, *, entity: str | None = None,
          empty: Any = ABSENT, validate: Callable[[str], str | None] | None = None
          ) -> VirtualPackage | None:
    """conda's ``CondaVirtualPackage.to_virtual_package``: apply override, evaluate, validate."""
    source = "detected"
    if entity is not None:
        value = _override(context, name)
        if value is not None:
            value = value.strip() or empty
            source = "override"
            if entity == "version":
                version = value
            else:
                build = value
    version = version() if callable(version) else version
    build = build() if callable(build) else build
    if version is ABSENT or build is ABSENT:
        return None
    if validate is not None and version is not None:
        version = validate(version)
    return VirtualPackage(f"__{name}", str(version or "0"), str(build or "0"), source)


def _linux_validate(version: str) -> str | None:
    """The leading ``\\d+\\.\\d+(\\.\\d+)?(\\.\\d+)?`` of ``version`` (conda's regex), or ``None``:
    ``5.15.0-91-generic`` -> ``5.15.0``. (Digits are what ``\\d`` means: ``str.isdecimal``.)"""
    size = len(version)

    def digits_end(start: int) -> int:
        end = start
        while end < size and version[end].isdecimal():
            end += 1
        return end

    end = digits_end(0)
    if end == 0 or end >= size or version[end] != ".":
        return None
    after = digits_end(end + 1)
    if after == end + 1:
        return None
    end = after
    for _ in range(2):  # up to two more ".<digits>"
        if end < size and version[end] == ".":
            after = digits_end(end + 1)
            if after > end + 1:
                end = after
                continue
        break
    return version[:end]


def virtual_packages(context: Any) -> tuple[VirtualPackage, ...]:
    """The virtual packages conda 26 would add for ``context.subdir`` (sorted by name)."""
    subdir = context.subdir
    found: list[VirtualPackage | None] = []
    # archspec: version 1, the build is the CPU name; CONDA_OVERRIDE_ARCHSPEC replaces the build
    found.append(_make(context, "archspec", "1", lambda: _archspec_name(subdir) or ABSENT,
                       entity="build"))
    found.append(VirtualPackage("__conda", CONDA_VERSION, "0"))
    found.append(_make(context, "cuda", _host_cuda_version, None, entity="version"))
    if subdir.startswith("freebsd-"):
        found.append(VirtualPackage("__unix", "0", "0"))
    if subdir.startswith("linux-"):
        found.append(VirtualPackage("__unix", "0", "0"))
        found.append(_make(context, "linux", _host_linux_release, None, entity="version",
                           empty=None, validate=_linux_validate))
        family, version = _host_libc()
        if not (family and version):
            family = "glibc"  # e.g. CONDA_SUBDIR=linux-64 on a Mac: still __glibc (version 0)
        found.append(_make(context, family, version, None, entity="version"))
    if subdir.startswith("osx-"):
        found.append(VirtualPackage("__unix", "0", "0"))
        found.append(_make(context, "osx", _host_osx_version, None, entity="version"))
    if subdir.startswith("win-"):
        # conda reads CONDA_OVERRIDE_WIN itself; an empty value falls back to detection
        version = _override(context, "win") or (host_uname("version") if sys.platform == "win32" else None)
        found.append(VirtualPackage("__win", str(version or "0"), "0",
                                    "override" if _override(context, "win") else "detected"))
    return tuple(sorted((vp for vp in found if vp is not None), key=lambda vp: vp.name))


def virtual_package_records(context: Any) -> tuple:
    """The virtual packages as ``PackageRecord``s on channel ``@`` (what the solver sees)."""
    from conda_deepdive.models.records import PackageRecord

    return tuple(
        PackageRecord.from_dict({
            "name": vp.name,
            "version": vp.version,
            "build": vp.build,
            "build_number": 0,
            "channel": "@",
            "subdir": context.subdir,
            "fn": vp.name,
            "md5": _MD5,
            "depends": [],
            "package_type": "virtual_system",
        })
        for vp in virtual_packages(context)
    )
