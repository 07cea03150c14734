"""Stage 1, the command line (conda: ``conda.cli``).

``parser.py`` builds conda's argparse parser and the inspectable :class:`ParsedCommand`;
``main.py`` is the entry point; each ``main_<command>.py`` has the ``execute(args, parser)`` that
``do_call`` imports lazily. Kept empty on purpose: ``--help`` must import almost nothing.
"""
