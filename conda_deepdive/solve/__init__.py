"""Stages 4–6, the solve: channel priority, the specs, index reduction and the SAT problem (conda:
``conda.core.solve``, ``conda.resolve``, ``conda.common.logic``, ``conda.cli.install``).

* ``channel_priority.py`` — stage 4: strict priority drops every record of a name that a
  higher-priority channel also has (``Resolve`` with ``channel_priority: strict``);
* ``solve_specs.py`` — stage 5: the request plus the prefix state (history, pins, frozen
  packages, aggressive updates) become the spec set (``Solver._collect_all_metadata`` and
  ``_add_specs``);
* ``reduction.py`` — stage 5b: keep only what the specs can reach (``Resolve.get_reduced_index``);
* ``logic.py``/``logic_stats.py`` — clauses, pycosat, and the minimisation that conda's
  optimisation passes use (``conda.common.logic``);
* ``resolve.py`` with ``resolve_clauses.py``, ``resolve_install.py``, ``resolve_details.py`` and
  ``resolve_conflicts.py`` — stage 6: ``Resolve.solve``, its passes and the conflict report;
* ``solve.py`` — :class:`Solver` and conda's retry loop (``current_repodata.json`` first, then
  ``repodata.json``; ``freeze_installed`` first, then not); ``install_flow.py`` — the decisions
  ``conda.cli.install`` makes around it.

What to notice: the solver never sees the whole channel — only the reduced index — and
"no solution" is explained by a second, separate search for the conflicting specs.

Exports: ``Solver``, ``solve_with_retries``, ``Resolve``, ``apply_channel_priority``,
``get_reduced_index``, ``Clauses``, ``SolveStageResult``.
"""

from conda_deepdive import lazy_exports

_WHERE = {
    "Solver": "solve",
    "solve_with_retries": "solve",
    "Resolve": "resolve",
    "apply_channel_priority": "channel_priority",
    "get_reduced_index": "reduction",
    "Clauses": "logic",
    "SolveStageResult": "install_flow",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
