"""The removal half of the PathAction tree (conda's ``conda.core.path_actions``, continued).

Unlinking a package never deletes anything at first: every file is *renamed* to ``<path>.c~``
(``UnlinkPathAction.execute``), so a rollback is just the rename back. Only when the whole
transaction has succeeded does ``cleanup()`` delete the ``.c~`` files and every directory left
empty. What to notice: ``os.path.isdir`` follows symlinks, so a renamed *directory symlink*
survives its own cleanup as ``<dir>.c~`` — conda 26.7.1 really leaves it behind, and so do we.

Import them from here; :mod:`conda_deepdive.link.action_tree` shows the whole tree.
"""

from __future__ import annotations

import os
from abc import ABC

from conda_deepdive.link.link import LinkType
from conda_deepdive.link.generated_actions import _EnvironmentsTxt
from conda_deepdive.link.path_actions import HOLD, PathAction, PrefixPathAction, _rm

__all__ = [
    "RemoveFromPrefixPathAction", "UnlinkPathAction", "RemoveMenuAction",
    "RemoveLinkedPackageRecordAction", "UnregisterEnvironmentLocationAction",
]


class RemoveFromPrefixPathAction(PrefixPathAction, ABC):
    """Removes one path of an installed package (``linked_package_data``: its conda-meta dict)."""

    def __init__(self, transaction_context, linked_package_data, target_prefix, target_short_path):
        super().__init__(transaction_context, target_prefix, target_short_path)
        self.linked_package_data = linked_package_data

    def verify(self):
        # whether a path can be removed is only known by trying; a failure triggers the rollback
        self._verified = True
        return None


class UnlinkPathAction(RemoveFromPrefixPathAction):
    """Rename ``path`` to ``path.c~`` now; delete it (and emptied parents) in ``cleanup()``."""

    def __init__(self, transaction_context, linked_package_data, target_prefix, target_short_path,
                 link_type=LinkType.hardlink):
        super().__init__(transaction_context, linked_package_data, target_prefix, target_short_path)
        self.holding_short_path = target_short_path + HOLD
        self.holding_full_path = self.target_full_path + HOLD
        self.link_type = LinkType(link_type)

    def execute(self) -> None:
        if self.link_type != LinkType.directory and os.path.lexists(self.target_full_path):
            if os.path.lexists(self.holding_full_path):
                _rm(self.holding_full_path)
            self._moving = True  # no stale <path>.c~ is left: one that appears from now is ours
            os.replace(self.target_full_path, self.holding_full_path)
        self._execute_successful = True

    def reverse(self) -> None:
        # only a rename this action made (or was making when it was interrupted) is undone:
        # a <path>.c~ left over from an earlier run is not put back over the file
        if getattr(self, "_moving", False) and self.link_type != LinkType.directory and \
                os.path.lexists(self.holding_full_path):
            os.replace(self.holding_full_path, self.target_full_path)
        self._execute_successful = self._moving = False

    def cleanup(self) -> None:
        # os.path.isdir follows symlinks: a renamed *directory symlink* is therefore never
        # deleted and "<dir>.c~" stays behind — conda 26.7.1 does exactly this (a conda bug).
        if not os.path.isdir(self.holding_full_path):
            if os.path.lexists(self.holding_full_path):
                os.unlink(self.holding_full_path)
            parent = os.path.dirname(self.holding_full_path)
            prefix = os.path.abspath(self.target_prefix)
            while os.path.abspath(parent).startswith(prefix + os.sep):
                try:
                    if os.path.isdir(parent) and not os.path.islink(parent) and not os.listdir(parent):
                        os.rmdir(parent)
                    else:
                        break
                except OSError:
                    break
                parent = os.path.dirname(parent)


class RemoveMenuAction(RemoveFromPrefixPathAction):
    """Windows start-menu removal; on Linux no actions are created."""

    @classmethod
    def create_actions(cls, tc, linked_package_data, target_prefix):
        return ()

    def execute(self) -> None:
        self._execute_successful = True

    def reverse(self) -> None:
        self._execute_successful = False

    def cleanup(self) -> None:
        pass


class RemoveLinkedPackageRecordAction(UnlinkPathAction):
    """Rename ``conda-meta/<dist>.json`` away: from now on the package is not installed."""


class UnregisterEnvironmentLocationAction(_EnvironmentsTxt, PathAction):
    """Drop the prefix from ``environments.txt`` once ``conda-meta`` holds nothing but
    ``history`` (conda's ``unregister_env``, which also drops lines that are no environment).
    The register action that follows in the same transaction adds the prefix back, as in conda."""

    def execute(self) -> None:
        self._execute_successful = True
        self._changed = self._unregister()

    def reverse(self) -> None:
        if self._changed:
            self._add_line()
            self._changed = False
        self._execute_successful = False
