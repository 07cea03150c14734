"""Compile conda_deepdive's bytecode before a whole-process benchmark measures anything.

An installed wheel has its ``.pyc`` files written by pip at install time. A checkout run with
``PYTHONDONTWRITEBYTECODE=1`` (set on some machines, CI images among them) never writes them,
so every measured process would compile every module it imports — tens of milliseconds that a
user never pays, and that the tool we compare against (installed from PyPI) does not pay either.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "conda_deepdive"


def compile_package() -> None:
    compileall.compile_dir(str(PACKAGE), quiet=1)
