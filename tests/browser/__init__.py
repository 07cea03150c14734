"""Browser tests (a package, so that its conftest is ``browser.conftest`` and does not shadow
``tests/conftest.py`` for modules that ``from conftest import SHARED``)."""
