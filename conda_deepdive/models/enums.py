"""Small vocabularies used by package records (mirrors ``conda.models.enums``).

Every enum here is a ``str`` (or ``int``) enum, so ``record.noarch == "python"`` reads naturally
and the value dumps to JSON exactly as conda writes it into ``repodata.json`` and
``conda-meta/*.json``.

What to notice:

* ``NoarchType`` — a package built once for every platform. Old repodata wrote ``noarch: true``
  (meaning *generic*); :meth:`NoarchType.coerce` turns all historical spellings into the enum.
* ``PackageType`` — conda *derives* it from ``noarch`` when a record does not state it.
* ``PathType`` — how each file of a package ends up in the prefix (``paths.json``).
* ``LinkType`` — how a package was linked; conda stores the *number* in ``conda-meta``
  (``"link": {"type": 1}`` means hard-linked).
"""

from __future__ import annotations

from enum import Enum, IntEnum

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any


class NoarchType(str, Enum):
    """Which flavour of ``noarch`` package: architecture-independent files or Python code."""

    generic = "generic"
    python = "python"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def coerce(cls, value: Any) -> "NoarchType | None":
        """Map every spelling found in real repodata onto the enum (``None`` = not noarch)."""
        if value is None or value is False or isinstance(value, cls):
            return value or None
        if value is True:
            return cls.generic
        text = str(value).strip().lower()
        if text in ("", "false", "0", "none", "no", "off"):
            return None
        if text in ("true", "1", "yes", "on", "generic"):
            return cls.generic
        if text == "python":
            return cls.python
        raise ValueError(f"unknown noarch type {value!r} (expected 'generic' or 'python')")


class PackageType(str, Enum):
    """What kind of thing a record describes (conda's ``package_type`` field)."""

    NOARCH_GENERIC = "noarch_generic"
    NOARCH_PYTHON = "noarch_python"
    VIRTUAL_PRIVATE_ENV = "virtual_private_env"
    VIRTUAL_PYTHON_WHEEL = "virtual_python_wheel"
    VIRTUAL_PYTHON_EGG_MANAGEABLE = "virtual_python_egg_manageable"
    VIRTUAL_PYTHON_EGG_UNMANAGEABLE = "virtual_python_egg_unmanageable"
    VIRTUAL_PYTHON_EGG_LINK = "virtual_python_egg_link"
    VIRTUAL_SYSTEM = "virtual_system"

    def __str__(self) -> str:
        return self.value

    @staticmethod
    def conda_package_types() -> frozenset["PackageType"]:
        return frozenset({None, PackageType.NOARCH_GENERIC, PackageType.NOARCH_PYTHON})  # type: ignore[arg-type]

    @staticmethod
    def unmanageable_package_types() -> frozenset["PackageType"]:
        return frozenset(
            {
                PackageType.VIRTUAL_PYTHON_EGG_UNMANAGEABLE,
                PackageType.VIRTUAL_PYTHON_EGG_LINK,
                PackageType.VIRTUAL_SYSTEM,
            }
        )


class PathType(str, Enum):
    """How one path of a package is materialised in the prefix (``paths.json`` ``path_type``)."""

    hardlink = "hardlink"
    softlink = "softlink"
    directory = "directory"
    pyc_file = "pyc_file"
    unix_python_entry_point = "unix_python_entry_point"
    windows_python_entry_point_script = "windows_python_entry_point_script"
    windows_python_entry_point_exe = "windows_python_entry_point_exe"
    linked_package_record = "linked_package_record"

    def __str__(self) -> str:
        return self.value

    @property
    def is_generated(self) -> bool:
        """Paths conda creates itself at link time (not copied from the package)."""
        return self in (
            PathType.pyc_file,
            PathType.unix_python_entry_point,
            PathType.windows_python_entry_point_script,
            PathType.windows_python_entry_point_exe,
            PathType.linked_package_record,
        )


class LinkType(IntEnum):
    """How files were placed in the prefix; conda-meta stores the integer (1 = hardlink)."""

    hardlink = 1
    softlink = 2
    copy = 3
    directory = 4

    def __str__(self) -> str:
        return self.name

    @classmethod
    def coerce(cls, value: Any) -> "LinkType":
        if isinstance(value, cls):
            return value
        if isinstance(value, int):
            return cls(value)
        text = str(value).replace("-", "").replace("_", "").lower()
        aliases = {"hard": "hardlink", "soft": "softlink"}
        return cls[aliases.get(text, text)]


class FileMode(str, Enum):
    """Whether a prefix placeholder inside a file is replaced as text or as binary."""

    text = "text"
    binary = "binary"

    def __str__(self) -> str:
        return self.value


class Platform(str, Enum):
    """The operating-system half of a subdir (``linux`` in ``linux-64``)."""

    linux = "linux"
    win = "win32"
    openbsd = "openbsd5"
    osx = "darwin"
    zos = "zos"
    freebsd = "freebsd"
    emscripten = "emscripten"
    wasi = "wasi"

    def __str__(self) -> str:
        return self.name


__all__ = ["FileMode", "LinkType", "NoarchType", "PackageType", "PathType", "Platform"]
