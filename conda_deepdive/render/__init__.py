"""Renderers: what the tracer's events and the stages' results look like (no conda counterpart;
conda prints from inside its stages, here the stages only report).

Stages never import rich or ipywidgets. They report to a :class:`conda_deepdive.reporting.Reporter`
and return result objects; the modules here turn those into a rich console trace
(``console.py``, ``sections.py``, ``actions.py``), conflict trees (``conflicts.py``), dependency
graphs (``graph.py``), deterministic JSON/HTML/SVG exports (``export.py``) and notebook output
(``notebook.py``). ``sanitize.py`` replaces temporary paths and timestamps so recordings compare
byte for byte.

What to notice: the same recording renders identically on a terminal, in a notebook and in an
export — the stages ran once.
"""
