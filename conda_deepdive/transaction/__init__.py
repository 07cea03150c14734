"""Stage 7, the transaction: one :class:`UnlinkLinkTransaction` per change (conda: ``conda.core.link``).

The solver hands over a diff — records to unlink, records to link — as a :class:`PrefixSetup`
(:func:`solve_for_transaction`). The transaction prints conda's package plan
(``package_plan.py``), then runs the stages after it in conda's order: download and extract
(stage 8, :mod:`conda_deepdive.fetch`), ``prepare()`` the action groups, ``verify()`` every
action, ``execute()`` them (stage 9, :mod:`conda_deepdive.link`) and roll back on failure.

Why it sits *above* fetch and link: in conda the transaction drives both
(``UnlinkLinkTransaction.download_and_extract`` and ``_execute``), so ``conda.core.link`` imports
``conda.core.package_cache_data`` and ``conda.core.path_actions``, never the reverse.

What to notice: ``nothing_to_do``, the legacy action groups that ``--json`` prints, and the
order of the action groups in ``execute()``.

Exports: ``PrefixSetup``, ``UnlinkLinkTransaction``, ``solve_for_transaction``, ``change_report``.
"""

from conda_deepdive import lazy_exports

_WHERE = {
    "PrefixSetup": "transaction",
    "UnlinkLinkTransaction": "transaction",
    "solve_for_transaction": "transaction",
    "change_report": "package_plan",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
