"""The PathAction class tree, whole: conda's ``conda.core.path_actions`` hierarchy in one picture.

The tree is spread over three modules, each readable in one sitting and each importing only what
is above it:

* :mod:`~conda_deepdive.link.path_actions` — the base classes (``PathAction``,
  ``PrefixPathAction``, ``CreateInPrefixPathAction``) and the actions that place package files
  (``LinkPathAction``, ``PrefixReplaceLinkAction``, menus, ``.nonadmin``);
* :mod:`~conda_deepdive.link.generated_actions` — actions that write files no package contains
  (pyc, entry points, the ``conda-meta`` record, ``history``, ``environments.txt``);
* :mod:`~conda_deepdive.link.unlink_actions` — the removals.

This module imports all three, so ``class_tree()`` sees every subclass.
"""

from __future__ import annotations

from conda_deepdive.link import generated_actions, unlink_actions  # noqa: F401  (register subclasses)
from conda_deepdive.link.path_actions import PathAction

__all__ = ["class_tree"]


def class_tree(root: type = PathAction) -> dict:
    """The action class hierarchy as a nested dict ``{"PathAction": {"PrefixPathAction": {…}}}``."""

    def children(cls: type) -> dict:
        return {sub.__name__: children(sub) for sub in cls.__subclasses__()
                if sub.__module__.startswith("conda_deepdive.")}

    return {root.__name__: children(root)}
