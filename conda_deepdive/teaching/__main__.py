"""``python -m conda_deepdive.teaching``: (re)build the teaching channels.

The same as ``python -m conda_deepdive.teaching.build`` (see :mod:`.build`); error messages that
tell you to regenerate a channel name this shorter form.
"""

import sys

from conda_deepdive.teaching.build import main

if __name__ == "__main__":
    sys.exit(main())
