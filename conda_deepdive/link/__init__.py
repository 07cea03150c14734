"""Stage 9, link and unlink: files into and out of the prefix (conda: ``conda.core.path_actions``,
``conda.core.link``'s helpers, ``conda.core.portability``, ``conda.gateways.disk``).

Every change to a prefix is a :class:`PathAction` with ``verify()``, ``execute()``,
``reverse()`` and ``cleanup()``. The class tree reads top to bottom, each module importing only
the ones above it:

* ``link.py`` — what an extracted package *is* (``info/paths.json``), how its files may be placed
  (``determine_link_type``: hardlink, softlink, copy) and the action groups;
* ``path_actions.py`` — the base classes and the actions that place package files (prefix
  replacement in ``prefix_replace.py``);
* ``generated_actions.py`` — files no package contains: pyc, entry points (``entry_points.py``),
  the ``conda-meta`` record, ``history``, ``environments.txt``;
* ``unlink_actions.py`` — removal (a rename to ``.c~``, undone by a rename back);
* ``link_scripts.py`` — pre-link, post-link and pre-unlink scripts; ``action_tree.py`` — the tree.

What to notice: nothing is deleted until the whole transaction has succeeded, which is what makes
rollback possible.

Exports: ``PathAction``, ``LinkPathAction``, ``PrefixReplaceLinkAction``, ``UnlinkPathAction``,
``CreatePrefixRecordAction``, ``determine_link_type``, ``read_paths_data``, ``class_tree``.
"""

from conda_deepdive import lazy_exports

_WHERE = {
    "PathAction": "path_actions",
    "LinkPathAction": "path_actions",
    "PrefixReplaceLinkAction": "path_actions",
    "UnlinkPathAction": "unlink_actions",
    "CreatePrefixRecordAction": "generated_actions",
    "determine_link_type": "link",
    "read_paths_data": "link",
    "class_tree": "action_tree",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
