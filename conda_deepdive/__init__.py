"""conda-deepdive: watch ``conda install`` happen, stage by stage.

Each stage of ``conda install`` (see ``docs/ARCHITECTURE.md``) lives in its own module and
returns an object you can hold in a notebook cell. This top-level module stays tiny on purpose:
``python -m conda_deepdive --help`` must answer fast, so nothing heavy is imported here.
"""

__version__ = "0.1.0"

# What we tell channels and history files we are: conda's version we mirror.
CONDA_VERSION = "26.7.1"
