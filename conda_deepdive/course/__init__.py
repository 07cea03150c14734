"""The workshop course: notebooks for every stage, a stage explorer, exercises.

``python -m conda_deepdive workshop DIR`` copies the course notebooks (``course/notebooks/``) into
``DIR`` and starts JupyterLab there. Inside a notebook:

* :class:`~conda_deepdive.course.sandbox.Sandbox` — one throw-away folder per notebook (prefix,
  package cache, condarc, HOME), pinned so stored outputs are the same on every machine;
* :func:`~conda_deepdive.course.display.show` — a stage, a result object, an error or any rich
  renderable as real HTML (tables that reflow, colour) with a stable plain-text twin;
* :class:`~conda_deepdive.course.explorer.StageExplorer` — the nine stages as a rail, Next /
  Back / run-to, each stage's rendering beside an inspector of its result object, the dependency
  graph, the optimisation passes, the action timeline and a fault picker that plays a rollback.

This package sits above the pipeline and the renderers (layer 11): it may use every stage, the
stages never use it. Importing it is cheap: the names below load their module on first use.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Sandbox", "show", "html", "StageExplorer"]

_LAZY = {
    "Sandbox": "conda_deepdive.course.sandbox",
    "show": "conda_deepdive.course.display",
    "html": "conda_deepdive.course.display",
    "StageExplorer": "conda_deepdive.course.explorer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'conda_deepdive.course' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
