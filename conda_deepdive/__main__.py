"""``python -m conda_deepdive``: the same entry point as the ``conda-deepdive`` script."""

import sys

from conda_deepdive.cli.main import console_main

sys.exit(console_main())
