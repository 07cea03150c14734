"""conda-deepdive: watch ``conda install`` happen, stage by stage.

Each stage of ``conda install`` (see ``docs/ARCHITECTURE.md``) lives in its own module and
returns an object you can hold in a notebook cell. This top-level module stays tiny on purpose:
``python -m conda_deepdive --help`` must answer fast, so nothing heavy is imported here.
"""

__version__ = "0.1.0"

# What we tell channels and history files we are: conda's version we mirror.
CONDA_VERSION = "26.7.1"


def lazy_exports(package: str, where: dict[str, str]):
    """``__getattr__``/``__dir__`` for a stage package: ``from conda_deepdive.solve import Solver``
    works, but the submodule loads only on first use, so ``import conda_deepdive.<stage>`` stays
    free (``--help`` must not pay for the solver). ``where`` maps each exported name to its module."""
    import sys
    from importlib import import_module

    def __getattr__(name: str):
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        # kept on the package: the next ``from <package> import name`` (often inside a function
        # that runs thousands of times) is a plain attribute lookup, not this function again
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
