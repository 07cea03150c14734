"""Where ``noarch: python`` files go, and the entry-point scripts conda writes for them.

conda counterparts: ``conda.common.path`` (``get_python_noarch_target_path``, ``pyc_path``,
``parse_entry_point_def``…), ``conda.core.portability.generate_shebang_for_entry_point`` and
``conda.gateways.disk.create.create_python_entry_point``.

A ``noarch: python`` package is built once for every Python version, so its files are stored
under neutral names: ``site-packages/…`` and ``python-scripts/…``. Only at link time, when conda
knows which Python the environment has, do they get their real places:
``lib/python3.11/site-packages/…`` and ``bin/…``. The package's ``info/link.json`` lists
*entry points* (``pyhello = pyhello.cli:main``); conda writes a small Python script into ``bin/``
for each, with a ``#!`` line pointing at the environment's interpreter.

What to notice: if that ``#!`` line would be longer than 127 characters or contain a space, conda
writes a ``#!/bin/sh`` line plus a line that is both shell and Python (``'''exec' …``): the shell
re-executes the file with the right interpreter, Python sees a harmless string.
"""

from __future__ import annotations

import os
import re

from conda_deepdive.link.prefix_replace import MAX_SHEBANG_LENGTH

__all__ = [
    "BIN_DIRECTORY",
    "get_major_minor_version",
    "python_short_path",
    "site_packages_short_path",
    "noarch_python_target_path",
    "pyc_path",
    "parse_entry_point_def",
    "generate_shebang_for_entry_point",
    "entry_point_script",
    "write_entry_point",
]

BIN_DIRECTORY = "bin"


def get_major_minor_version(version: str) -> str | None:
    """``"3.11.2"`` → ``"3.11"`` (None when the string has no major.minor)."""
    match = re.match(r"^(\d+)\.(\d+)", version or "")
    return f"{match.group(1)}.{match.group(2)}" if match else None


def python_short_path(python_version: str) -> str:
    """The interpreter inside a prefix: ``bin/python3.11``."""
    return f"{BIN_DIRECTORY}/python{python_version}"


def site_packages_short_path(python_version: str | None) -> str | None:
    return None if python_version is None else f"lib/python{python_version}/site-packages"


def noarch_python_target_path(source_short_path: str, site_packages: str) -> str:
    """Map a path stored in a ``noarch: python`` package to its place in the prefix."""
    if source_short_path.startswith("site-packages/"):
        return site_packages + source_short_path[len("site-packages"):]
    if source_short_path.startswith("python-scripts/"):
        return BIN_DIRECTORY + source_short_path[len("python-scripts"):]
    return source_short_path


def pyc_path(py_short_path: str, python_version: str) -> str:
    """Where CPython 3 caches the byte code of a module: ``pkg/__pycache__/mod.cpython-311.pyc``."""
    major, _, minor = python_version.partition(".")
    if major == "2":
        return py_short_path + "c"
    directory, _, filename = py_short_path.rpartition("/")
    stem = filename[:-3] if filename.endswith(".py") else filename
    cached = f"__pycache__/{stem}.cpython-{major}{minor}.pyc"
    return f"{directory}/{cached}" if directory else cached


_ENTRY_POINT = re.compile(r"^\s*([^=\s]+)\s*=\s*([^:\s]+)\s*:\s*([^\s\[]+)")


def parse_entry_point_def(definition: str) -> tuple[str, str, str]:
    """``"pyhello = pyhello.cli:main"`` → ``("pyhello", "pyhello.cli", "main")``."""
    match = _ENTRY_POINT.match(definition)
    if not match:
        from conda_deepdive.exceptions import CondaValueError

        raise CondaValueError(
            f"Invalid entry point {definition!r}: expected 'command = module:function'"
        )
    command = match.group(1)
    if command in (".", "..") or "/" in command or "\\" in command or "\x00" in command:
        from conda_deepdive.exceptions import CondaValueError

        # bin/<command> must be a file directly in bin/, never bin/.. or bin/../../x
        raise CondaValueError(
            f"Invalid entry point {definition!r}: the command name {command!r} is not a plain file name"
        )
    return command, match.group(2), match.group(3)


def generate_shebang_for_entry_point(executable: str) -> str:
    """The first line(s) of an entry point script (conda's rules for long paths and spaces)."""
    shebang = f"#!{executable}\n"
    if len(shebang) > MAX_SHEBANG_LENGTH or " " in shebang:
        # Valid shell *and* valid Python: sh runs the exec line, Python sees a string literal.
        shebang = f"#!/bin/sh\n'''exec' \"{executable}\" \"$0\" \"$@\" #'''\n"
    return shebang


def entry_point_script(python_full_path: str, module: str, func: str) -> str:
    """The text conda writes for one entry point (byte-for-byte as observed in conda 26.7.1)."""
    # ``func`` may be dotted ("Class.method"): import the first part, call the whole.
    import_name = func.split(".")[0]
    return (
        generate_shebang_for_entry_point(python_full_path)
        + "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        "\n"
        f"from {module} import {import_name}\n"
        "\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({func}())\n"
    )


def write_entry_point(target_full_path: str, python_full_path: str, module: str, func: str) -> None:
    """Write the script (mode 0755) — refusing to overwrite whatever is already there."""
    text = entry_point_script(python_full_path, module, func)
    os.makedirs(os.path.dirname(target_full_path), exist_ok=True)
    fd = os.open(target_full_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(target_full_path, 0o755)
