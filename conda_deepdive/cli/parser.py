"""Stage 1: the command line, parsed the way conda parses it.

conda counterpart: ``conda.cli.conda_argparse`` (``generate_parser``, ``do_call``) and the
argument helpers in ``conda.cli.helpers``.

What happens in conda: ``argparse`` turns ``conda install -c conda-forge numpy`` into a
``Namespace``. Two details matter for the rest of the pipeline:

* every option's ``dest`` is the *name of a Context setting* (``-c`` → ``channel``, an alias of
  ``channels``; ``--strict-channel-priority`` → ``channel_priority="strict"``; ``-y`` → ``yes``,
  an alias of ``always_yes``). That is how stage 2 folds flags into the configuration cascade
  without a hand-written mapping;
* options a user did not type stay ``None`` (conda uses a ``NULL`` sentinel), so they do not hide
  the value from a condarc file;
* each sub-command stores ``func`` — the *import path* of the module whose ``execute(args, parser)``
  runs the command. :func:`do_call` imports it only then, which keeps ``--help`` fast.

:func:`parse_command` returns a frozen :class:`ParsedCommand` you can look at in a notebook.
This module imports nothing but ``argparse``: it runs on every ``--help``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["generate_parser", "parse_command", "ParsedCommand", "do_call", "ArgumentParser",
           "COMMAND_ALIASES", "SOLVING_COMMANDS"]

#: ``conda upgrade`` is ``conda update``; ``conda uninstall`` is ``conda remove``.
COMMAND_ALIASES = {"upgrade": "update", "uninstall": "remove"}
SOLVING_COMMANDS = ("create", "install", "update", "remove")

_PKG = "conda_deepdive.cli"


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: ``$COLUMNS``, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """conda's help layout (descriptions kept as written). It measures the terminal itself:
    argparse's own measure imports ``shutil``, and with it ``bz2`` and ``lzma`` — about 3 ms of
    every start-up, since argparse builds a formatter for each option it is given."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None, **kwargs: Any) -> None:
        if width is None:
            width = _terminal_columns() - 2  # as argparse does
        super().__init__(prog, indent_increment, max_help_position, width, **kwargs)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with conda's touches: raw description formatting, capitalised help.

    An unknown sub-command raises :class:`~conda_deepdive.exceptions.CommandNotFoundError`
    (exit 1, like ``conda foo``); every other usage error exits 2 with argparse's message.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("formatter_class", HelpFormatter)
        add_custom_help = "add_help" not in kwargs
        if add_custom_help:
            kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        if add_custom_help:
            self.add_argument("-h", "--help", action="help", help="Show this help message and exit.")

    def error(self, message: str):  # type: ignore[override]
        exc = sys.exc_info()[1]
        if isinstance(exc, argparse.ArgumentError) and exc.argument_name in (None, "COMMAND") \
                and "invalid choice" in message:
            word = message.split("'", 2)[1] if "'" in message else ""
            if word:
                from conda_deepdive.exceptions import CommandNotFoundError

                raise CommandNotFoundError(word)
        super().error(message)


class _CountAction(argparse.Action):
    """``-v -v`` → 2, starting from ``None`` (not given) rather than 0 (conda: NullCountAction)."""

    def __init__(self, option_strings, dest, default=None, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, (getattr(namespace, self.dest, None) or 0) + 1)


# ------------------------------------------------------------------------------------------
# option groups shared by create / install / update / remove (conda.cli.helpers)
# ------------------------------------------------------------------------------------------

def _add_prefix(p: argparse.ArgumentParser, required: bool = False) -> None:
    group = p.add_argument_group("Target Environment Specification")
    npgroup = group.add_mutually_exclusive_group(required=required)
    npgroup.add_argument("-n", "--name", metavar="ENVIRONMENT", help="Name of environment.")
    npgroup.add_argument("-p", "--prefix", metavar="PATH",
                         help="Full path to environment location (i.e. prefix).")


def _add_channels(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Channel Customization")
    g.add_argument("-c", "--channel", dest="channel", action="append",
                   help="Additional channel to search for packages, searched in the order given "
                        "(a name, a URL or a local path), before the .condarc channels.")
    g.add_argument("--use-local", action="store_true", default=None,
                   help="Use locally built packages. Identical to '-c local'.")
    g.add_argument("--override-channels", action="store_true", default=None,
                   help="Do not search default or .condarc channels. Requires --channel.")
    g.add_argument("--repodata-fn", action="append", dest="repodata_fns", metavar="REPODATA_FN",
                   help="Repodata file name to try (repeatable; leftmost first). "
                        "repodata.json is the final fallback.")
    g.add_argument("--repodata-use-shards", action=argparse.BooleanOptionalAction,
                   dest="repodata_use_shards", default=None,
                   help="Use sharded repodata if available. Enabled by default.")


def _add_solver_mode(p: argparse.ArgumentParser, update_modifiers: bool) -> argparse._ArgumentGroup:
    g = p.add_argument_group("Solver Mode Modifiers")
    g.add_argument("--strict-channel-priority", action="store_const", dest="channel_priority",
                   const="strict", default=None,
                   help="Packages in lower priority channels are not considered if a package with "
                        "the same name appears in a higher priority channel.")
    g.add_argument("--no-channel-priority", action="store_const", dest="channel_priority",
                   const="disabled", default=None,
                   help="Package version takes precedence over channel priority.")
    deps = g.add_mutually_exclusive_group()
    deps.add_argument("--no-deps", action="store_const", const="no_deps", dest="deps_modifier",
                      default=None, help="Do not install, update, remove, or change dependencies.")
    deps.add_argument("--only-deps", action="store_const", const="only_deps", dest="deps_modifier",
                      default=None, help="Only install dependencies.")
    g.add_argument("--no-pin", action="store_true", dest="ignore_pinned", default=None,
                   help="Ignore pinned file.")
    if update_modifiers:
        u = g.add_mutually_exclusive_group()
        u.add_argument("--freeze-installed", "--no-update-deps", action="store_const",
                       const="freeze_installed", dest="update_modifier", default=None,
                       help="Do not update or change already-installed dependencies.")
        u.add_argument("--update-deps", action="store_const", const="update_deps",
                       dest="update_modifier", default=None,
                       help="Update dependencies that have available updates.")
        u.add_argument("-S", "--satisfied-skip-solve", action="store_const",
                       const="specs_satisfied_skip_solve", dest="update_modifier", default=None,
                       help="Exit early and do not run the solver if the requested specs are satisfied.")
        u.add_argument("--update-all", "--all", action="store_const", const="update_all",
                       dest="update_modifier", default=None,
                       help="Update all installed packages in the environment.")
        u.add_argument("--update-specs", action="store_const", const="update_specs",
                       dest="update_modifier", default=None,
                       help="Update based on provided specifications.")
    return g


def _add_networking(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Networking Options")
    g.add_argument("-C", "--use-index-cache", action="store_true", default=None,
                   help="Use cache of channel index files, even if it has expired.")
    g.add_argument("-k", "--insecure", action="store_false", dest="ssl_verify", default=None,
                   help="Allow \"insecure\" SSL connections (ssl_verify: false).")
    g.add_argument("--offline", action="store_true", default=None,
                   help="Offline mode. Don't connect to the Internet.")


def _add_output(p: argparse.ArgumentParser, dry_run: bool = True) -> argparse._ArgumentGroup:
    g = p.add_argument_group("Output, Prompt, and Flow Control Options")
    g.add_argument("--json", action="store_true", default=None,
                   help="Report all output as json. Suitable for using conda programmatically.")
    g.add_argument("-v", "--verbose", action=_CountAction, dest="verbosity",
                   help="Can be used multiple times. Once for detailed output, twice for INFO "
                        "logging, thrice for DEBUG logging, four times for TRACE logging.")
    g.add_argument("-q", "--quiet", action="store_true", default=None,
                   help="Do not display progress bar.")
    if dry_run:
        g.add_argument("-d", "--dry-run", action="store_true", default=None,
                       help="Only display what would have been done.")
        g.add_argument("-y", "--yes", action="store_true", default=None,
                       help="Sets any confirmation values to 'yes' automatically.")
    return g


def _add_create_install_update(p: argparse.ArgumentParser, command: str) -> None:
    _add_prefix(p, required=(command == "create"))
    _add_channels(p)
    solver = _add_solver_mode(p, update_modifiers=command in ("install", "update"))
    if command == "create":
        solver.add_argument("--no-default-packages", action="store_true", default=None,
                            help="Ignore create_default_packages in the .condarc file.")
    else:
        solver.add_argument("--force-reinstall", action="store_true", default=None,
                            help="Ensure that any user-requested package for the current "
                                 "operation is uninstalled and reinstalled.")
    link = p.add_argument_group("Package Linking and Install-time Options")
    link.add_argument("--force", action="store_true", default=None, help=argparse.SUPPRESS)
    link.add_argument("--copy", action="store_true", default=None,
                      help="Install all packages using copies instead of hard- or soft-linking.")
    if command in ("install", "update"):
        link.add_argument("--clobber", action="store_true", default=None,
                          help="Allow clobbering (i.e. overwriting) of overlapping file paths "
                               "within packages and suppress related warnings.")
    _add_networking(p)
    out = _add_output(p)
    out.add_argument("--download-only", action="store_true", default=None,
                     help="Solve an environment and ensure package caches are populated, but exit "
                          "prior to unlinking and linking packages into the prefix.")
    out.add_argument("--show-channel-urls", action="store_true", dest="show_channel_urls",
                     default=None, help="Show channel urls.")
    # "append", not nargs="*": --file must not swallow the package specs after it
    p.add_argument("--file", action="append", default=[],
                   help="Read package versions from the given file (repeatable).")
    p.add_argument("packages", metavar="package_spec", nargs="*",
                   help="Package specs (name, 'name=1.2', 'channel::name', "
                        "'channel/subdir::name'), like 'numpy>=1.20'.")


# ------------------------------------------------------------------------------------------
# sub-commands
# ------------------------------------------------------------------------------------------

def _configure_create(sub) -> None:
    p = sub.add_parser("create", help="Create a new conda environment from a list of specified packages.",
                       description="Create a new conda environment from a list of specified packages.",
                       epilog="Example:\n\n    conda-deepdive create -p /tmp/env numpy")
    _add_create_install_update(p, "create")
    p.set_defaults(func=f"{_PKG}.main_create.execute")


def _configure_install(sub) -> None:
    p = sub.add_parser("install", help="Install a list of packages into a specified conda environment.",
                       description="Install a list of packages into a specified conda environment.",
                       epilog="Example:\n\n    conda-deepdive install -p /tmp/env -c conda-forge numpy")
    _add_create_install_update(p, "install")
    p.set_defaults(func=f"{_PKG}.main_install.execute")


def _configure_update(sub, name: str = "update") -> None:
    text = ("Update conda packages to the latest compatible version." if name == "update"
            else "Alias for conda update.")
    p = sub.add_parser(name, help=text, description=text)
    _add_create_install_update(p, "update")
    p.set_defaults(func=f"{_PKG}.main_update.execute")


def _configure_remove(sub, name: str = "remove") -> None:
    text = ("Remove a list of packages from a specified conda environment." if name == "remove"
            else "Alias for conda remove.")
    p = sub.add_parser(name, help=text, description=text)
    _add_prefix(p)
    _add_channels(p)
    g = p.add_argument_group("Solver Mode Modifiers")
    g.add_argument("--features", action="store_true", default=None,
                   help="Remove features (instead of packages).")
    g.add_argument("--force-remove", "--force", action="store_true", dest="force_remove", default=None,
                   help="Forces removal of a package without removing packages that depend on it.")
    g.add_argument("--no-pin", action="store_true", dest="ignore_pinned", default=None,
                   help="Ignore pinned package(s) that apply to the current operation.")
    _add_networking(p)
    _add_output(p)
    p.add_argument("--all", action="store_true", default=None,
                   help="Remove all packages, i.e., the entire environment.")
    p.add_argument("--keep-env", action="store_true", default=None,
                   help="Used with --all, delete all packages but keep the environment.")
    p.add_argument("package_names", metavar="package_name", nargs="*",
                   help="Package names to remove from the environment.")
    p.set_defaults(func=f"{_PKG}.main_remove.execute")


def _comma_separated_stripped(value: str) -> list[str]:
    """``--fields "name, version"`` → ``['name', 'version']`` (conda.cli.helpers)."""
    return [part.strip() for part in value.split(",")]


def _configure_list(sub) -> None:
    p = sub.add_parser("list", help="List installed packages in a conda environment.",
                       description="List installed packages in a conda environment.")
    _add_prefix(p)
    g = _add_output(p, dry_run=False)
    g.add_argument("--show-channel-urls", action="store_true", dest="show_channel_urls",
                   default=None, help="Show channel urls.")
    # dest is the Context setting's name, like every option (conda: list_fields)
    p.add_argument("--fields", type=_comma_separated_stripped, dest="list_fields", default=None,
                   help="Comma-separated list of fields to print. Valid values: "
                        "arch,build,build_number,channel,channel_name,constrains,depends,"
                        "dist_str,features,fn,license,license_family,md5,name,noarch,"
                        "package_type,requested_spec,requested_specs,sha256,size,subdir,"
                        "timestamp,track_features,url,version.")
    p.add_argument("--reverse", action="store_true", default=None,
                   help="List installed packages in reverse order.")
    p.add_argument("-c", "--canonical", action="store_true", default=None,
                   help="Output canonical names of packages only.")
    p.add_argument("-f", "--full-name", action="store_true", default=None,
                   help="Only search for full names, i.e., ^<regex>$. "
                        "--full-name NAME is identical to regex '^NAME$'.")
    p.add_argument("--explicit", action="store_true", default=None,
                   help="List explicitly all installed conda packages with URL "
                        "(output may be used by conda create --file).")
    p.add_argument("--md5", action="store_true", default=None,
                   help="Add MD5 hashsum when using --explicit.")
    p.add_argument("--sha256", action="store_true", default=None,
                   help="Add SHA256 hashsum when using --explicit.")
    p.add_argument("-e", "--export", action="store_true", default=None,
                   help="Output explicit, machine-readable requirement strings.")
    p.add_argument("--auth", action="store_false", default=True, dest="remove_auth",
                   help="In explicit mode, leave authentication details in package URLs. "
                        "They are removed by default otherwise.")
    p.add_argument("regex", nargs="?", help="List only packages matching this regular expression.")
    p.set_defaults(func=f"{_PKG}.main_list.execute")


def _configure_config(sub) -> None:
    p = sub.add_parser("config", help="Modify configuration values in .condarc.",
                       description="Modify configuration values in .condarc (conda config): "
                                   "--show / --show-sources read, --set / --add / --remove … write.")
    _add_output(p, dry_run=False)
    loc = p.add_argument_group(
        "Config File Location Selection",
        "Without one of these flags, the user config file at '~/.condarc' is used.")
    where = loc.add_mutually_exclusive_group()
    where.add_argument("--system", action="store_true", default=None,
                       help="Write to the system .condarc file (<root prefix>/.condarc).")
    where.add_argument("--env", action="store_true", default=None,
                       help="Write to the active conda environment .condarc file ($CONDA_PREFIX). "
                            "If no environment is active, write to the user config file.")
    where.add_argument("--file", action="store", default=None, help="Write to the given file.")
    g = p.add_argument_group("Config Subcommands").add_mutually_exclusive_group()
    g.add_argument("--show", nargs="*", default=None, metavar="KEY",
                   help="Display configuration values as calculated and compiled. "
                        "If no arguments given, show information for all configuration values.")
    g.add_argument("--show-sources", action="store_true", default=None,
                   help="Display all identified configuration sources.")
    m = p.add_argument_group("Config Modifiers").add_mutually_exclusive_group()
    # dest names are conda's (args.get, args.prepend …): they are not Context settings, and
    # main_config reads them before any Context is built
    m.add_argument("--get", nargs="*", default=None, metavar="KEY", help="Get a configuration value.")
    m.add_argument("--append", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="Add one configuration value to the end of a list key.")
    m.add_argument("--prepend", "--add", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="Add one configuration value to the beginning of a list key.")
    m.add_argument("--set", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="Set a boolean or string key.")
    m.add_argument("--remove", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="Remove a configuration value from a list key. This removes all instances "
                        "of the value.")
    m.add_argument("--remove-key", action="append", default=[], metavar="KEY",
                   help="Remove a configuration key (and all its values).")
    p.set_defaults(func=f"{_PKG}.main_config.execute")


def _configure_mirror(sub) -> None:
    text = ("Mirror a channel (or part of it) into a local directory, like conda-mirror: "
            "parallel, verified, atomic, incremental.")
    p = sub.add_parser(
        "mirror", help=text, description=text,
        epilog="Examples:\n\n"
               "    conda-deepdive mirror --upstream-channel main --platform linux-64\n"
               "    conda-deepdive mirror --upstream-channel main --platform linux-64 -vvv "
               "--num-threads 12 --temp-directory ./temp/ -k --config conf.yaml\n"
               "    conda-deepdive mirror --upstream-channel conda-forge --closure numpy "
               "--target-directory ./mirror/conda-forge")
    p.add_argument("--upstream-channel", metavar="CHANNEL", default=None,
                   help="Channel to mirror: a name (resolved like conda: channel_alias, "
                        "default_channels, custom_channels) or a URL.")
    p.add_argument("--target-directory", metavar="DIR", default=None,
                   help="Where the mirror goes (default: ./anaconda/pkgs/<name> for defaults "
                        "channels, ./anaconda/cloud/<name> otherwise).")
    p.add_argument("--temp-directory", metavar="DIR", default=None,
                   help="Accepted for conda-mirror compatibility. Downloads are written under a "
                        "temporary name inside the target directory (same filesystem: the final "
                        "rename is atomic), so this directory is not used.")
    p.add_argument("--platform", action="append", default=None, metavar="SUBDIR",
                   help="Subdir to mirror (repeatable); noarch is always mirrored too.")
    p.add_argument("--config", metavar="FILE", default=None,
                   help="conda-mirror's YAML config: blacklist / whitelist (and default values "
                        "for the options).")
    p.add_argument("--include", action="append", default=None, metavar="SPEC",
                   help="Keep only records matching one of these MatchSpecs (repeatable).")
    p.add_argument("--exclude", action="append", default=None, metavar="SPEC",
                   help="Drop records matching one of these MatchSpecs (repeatable).")
    p.add_argument("--closure", action="append", default=None, metavar="SPEC",
                   help="Keep what the solver could ever look at for these specs "
                        "(the reduced index), across the platform and noarch (repeatable).")
    p.add_argument("-D", "--include-depends", action="store_true", default=None,
                   help="conda-mirror: also keep the dependencies of whitelisted records "
                        "(done here with the solver's closure).")
    p.add_argument("--num-threads", type=int, default=None, metavar="N",
                   help="Downloads in flight at once (default 8; 0 = number of CPUs).")
    p.add_argument("--max-retries", type=int, default=None, metavar="N",
                   help="Retries per file after the first attempt (default 5).")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="Connect/read timeout per request (default 30).")
    p.add_argument("--keep-removed", action="store_true", default=None,
                   help="Do not delete files that are no longer in the mirrored index.")
    p.add_argument("--no-validate-target", action="store_true", default=None,
                   help="Trust files already in the target without checking them.")
    p.add_argument("--no-progress", action="store_false", dest="show_progress", default=None,
                   help="Do not display progress bars.")
    p.add_argument("-k", "--insecure", action="store_false", dest="ssl_verify", default=None,
                   help="Allow \"insecure\" SSL connections (ssl_verify: false).")
    p.add_argument("--ssl-verify", "--ssl_verify", dest="ssl_verify", default=None,
                   help="A CA bundle path, or 'False' to disable verification.")
    p.add_argument("--proxy", default=None, help="Proxy URL.")
    p.add_argument("--json", action="store_true", default=None,
                   help="Report the result as a JSON document.")
    p.add_argument("-v", "--verbose", action=_CountAction, dest="verbosity",
                   help="More output (repeatable, as conda-mirror's -v/-vv/-vvv).")
    p.add_argument("-q", "--quiet", action="store_true", default=None, help="Only the summary.")
    p.add_argument("--dry-run", action="store_true", default=None,
                   help="Show what would be downloaded and removed; change nothing.")
    p.set_defaults(func=f"{_PKG}.main_mirror.execute")


def _configure_nested(sub, name: str, text: str) -> None:
    p = sub.add_parser(name, help=text, description=text,
                       epilog=f"Example:\n\n    conda-deepdive {name} --step install -p /tmp/env numpy")
    p.add_argument("--step", action="store_true", default=None,
                   help="Pause after each stage (step through the pipeline).")
    p.add_argument("--stage", metavar="NAME", default=None,
                   help="Run up to this stage and show it (parse, context, index, priority, specs, "
                        "reduce, solve, transaction, fetch, link).")
    p.add_argument("--export", metavar="FILE", default=None,
                   help="Write the recorded trace to FILE (.json, .html or .svg).")
    p.add_argument("--graph", metavar="FILE", default=None,
                   help="Write the solution's dependency graph to FILE (.dot or .svg).")
    if name == "trace":
        p.add_argument("--keep", action="store_true", default=None,
                       help="Keep the temporary environment (used when no -p/-n is given) instead "
                            "of removing it at the end.")
        p.add_argument("--json", action="store_true", default=None,
                       help="Print the trace document (the JSON of --export FILE.json) instead of "
                            "the sections.")
    p.add_argument("nested_argv", metavar="COMMAND ...", nargs=argparse.REMAINDER,
                   help="The conda command to run, e.g. 'install -p /tmp/env numpy'.")
    p.set_defaults(func=f"{_PKG}.main_{name}.execute")


def _configure_serve(sub) -> None:
    p = sub.add_parser("serve", help="Serve a directory of channels over HTTP (for offline workshops).",
                       description="Serve a directory of channels over HTTP (for offline workshops).")
    p.add_argument("directory", metavar="DIR", nargs="?", default=None,
                   help="Directory to serve (default: the bundled teaching channels).")
    p.add_argument("--port", type=int, default=None,
                   help="TCP port (default 8999; 0 picks a free port and prints the URL).")
    p.add_argument("--bind", metavar="ADDR", default=None, help="Address to bind (default 127.0.0.1).")
    p.set_defaults(func=f"{_PKG}.main_serve.execute")


def _configure_workshop(sub) -> None:
    text = "Copy the course notebooks into DIR and start JupyterLab there (one command for the room)."
    p = sub.add_parser("workshop", help=text, description=text)
    p.add_argument("directory", metavar="DIR", nargs="?", default=None,
                   help="Where the notebooks go (default: ./conda-deepdive-workshop).")
    p.add_argument("--copy-only", action="store_true", help="Copy the notebooks; do not start JupyterLab.")
    p.add_argument("--force", action="store_true",
                   help="Overwrite notebooks you edited with the course's version.")
    p.add_argument("--no-browser", action="store_true", help="Passed to JupyterLab: do not open a browser.")
    p.add_argument("--port", type=int, default=None, help="Passed to JupyterLab: the port to serve on.")
    p.add_argument("--lab-arg", dest="lab_args", action="append", default=[], metavar="ARG",
                   help="Any other JupyterLab option, e.g. --lab-arg=--ip=0.0.0.0 (repeatable).")
    p.set_defaults(func=f"{_PKG}.main_workshop.execute")


def _configure_info(sub) -> None:
    text = "Display information about current conda install."
    p = sub.add_parser("info", help=text, description=text,
                       epilog="Examples:\n\n    conda-deepdive info\n    conda-deepdive info --envs\n"
                              "    conda-deepdive info --json")
    _add_output(p, dry_run=False)
    p.add_argument("--offline", action="store_true", default=None, help=argparse.SUPPRESS)
    p.add_argument("-a", "--all", action="store_true", default=None, help="Show all information.")
    p.add_argument("--base", action="store_true", default=None, help="Display base environment path.")
    p.add_argument("-e", "--envs", action="store_true", default=None,
                   help="List all known conda environments. Combine with `--json` to obtain more details.")
    p.add_argument("-s", "--system", action="store_true", default=None, help="List environment variables.")
    p.add_argument("--size", action="store_true", default=None,
                   help="Show conda-managed disk usage for each environment (excludes untracked "
                        "files created after installation).")
    p.add_argument("--unsafe-channels", action="store_true", default=None,
                   help="Display list of channels with tokens exposed.")
    p.set_defaults(func=f"{_PKG}.main_info.execute")


def _configure_search(sub) -> None:
    text = ("Search for packages and display associated information using the MatchSpec format.")
    p = sub.add_parser(
        "search", help=text,
        description=f"{text}\n\nMatchSpec is a query language for conda packages.",
        epilog="Examples:\n\n    conda-deepdive search numpy\n    conda-deepdive search 'numpy>=1.26'\n"
               "    conda-deepdive search '*mutex*'\n    conda-deepdive search conda-forge::numpy\n"
               "    conda-deepdive search 'numpy[subdir=linux-64]' --info")
    p.add_argument("--envs", action="store_true", default=None,
                   help="Search all of the current user's environments.")
    p.add_argument("-i", "--info", action="store_true", default=None,
                   help="Provide detailed information about each package.")
    p.add_argument("--subdir", "--platform", dest="subdir", default=None,
                   help="Search the given subdir. Should be formatted like 'osx-64', 'linux-32', "
                        "'win-64', and so on. The default is to search the current platform.")
    p.add_argument("--skip-flexible-search", action="store_true", default=None,
                   help="Do not perform flexible search if initial search fails.")
    p.add_argument("match_spec", default="*", nargs="?", help=argparse.SUPPRESS)
    _add_channels(p)
    _add_networking(p)
    _add_output(p, dry_run=False)
    p.set_defaults(func=f"{_PKG}.main_search.execute")


def _configure_clean(sub) -> None:
    text = "Remove unused packages and caches."
    p = sub.add_parser("clean", help=text, description=text,
                       epilog="Examples:\n\n    conda-deepdive clean --tarballs\n"
                              "    conda-deepdive clean --all --dry-run")
    g = p.add_argument_group("Removal Targets")
    g.add_argument("-a", "--all", action="store_true", default=None,
                   help="Remove index cache, unused cache packages, tarballs, tempfiles, and logfiles.")
    g.add_argument("-i", "--index-cache", action="store_true", default=None, help="Remove index cache.")
    g.add_argument("-p", "--packages", action="store_true", default=None,
                   help="Remove unused packages from writable package caches. WARNING: This does "
                        "not check for packages installed using symlinks back to the package cache.")
    g.add_argument("-t", "--tarballs", action="store_true", default=None,
                   help="Remove cached package tarballs.")
    g.add_argument("-f", "--force-pkgs-dirs", action="store_true", default=None,
                   help="Remove *all* writable package caches. This option is not included with "
                        "the --all flag.")
    g.add_argument("-c", "--tempfiles", nargs="*", default=None, metavar="TEMPFILES",
                   help="Remove temporary files that could not be deleted earlier due to being "
                        "in-use. The argument is a path (or list of paths) to the environment(s) "
                        "where the tempfiles should be found and removed.")
    g.add_argument("-l", "--logfiles", action="store_true", default=None, help="Remove log files.")
    _add_output(p)
    p.set_defaults(func=f"{_PKG}.main_clean.execute")


def _configure_env(sub) -> None:
    p = sub.add_parser("env", help="Create and manage conda environments (here: env list).",
                       description="Create and manage conda environments (here: env list).")
    env_sub = p.add_subparsers(metavar="COMMAND", dest="env_cmd", title="commands")
    env_sub.required = True
    text = "An alias for `conda info --envs`. Lists all conda environments."
    lp = env_sub.add_parser("list", help=text, description=text,
                            epilog="Examples:\n\n    conda-deepdive env list\n"
                                   "    conda-deepdive env list --json")
    _add_output(lp, dry_run=False)
    lp.add_argument("--size", action="store_true", default=None,
                    help="Show conda-managed disk usage for each environment.")
    # conda: func=main_info.execute with the defaults of `conda info --envs`
    lp.set_defaults(func=f"{_PKG}.main_env.execute", envs=True, base=False, unsafe_channels=False,
                    system=False, all=False)


#: how each sub-command is added, in the order ``--help`` lists them
_COMMANDS: dict[str, Callable[[Any], None]] = {
    "config": _configure_config,
    "create": _configure_create,
    "install": _configure_install,
    "list": _configure_list,
    "remove": _configure_remove,
    "uninstall": lambda sub: _configure_remove(sub, "uninstall"),
    "update": _configure_update,
    "upgrade": lambda sub: _configure_update(sub, "upgrade"),
    "trace": lambda sub: _configure_nested(
        sub, "trace", "Run a conda command stage by stage and show what each stage did."),
    "explain": lambda sub: _configure_nested(
        sub, "explain", "Explain, stage by stage, what a conda command would do and why."),
    "serve": _configure_serve,
    "mirror": _configure_mirror,
    "workshop": _configure_workshop,
    "info": _configure_info,
    "search": _configure_search,
    "clean": _configure_clean,
    "env": _configure_env,
}


def generate_parser(command: str | None = None) -> ArgumentParser:
    """The whole command line: conda's sub-commands for installing, plus ``trace``,
    ``explain`` and ``serve`` of conda-deepdive.

    ``command``: the first word of the command line. When it names a sub-command that parses its
    line on its own (not ``trace``/``explain``, which parse another command), only that
    sub-command is added: argparse hands the rest of the line to it alone, so the parse is the
    same, and building the other sixteen costs more than the parse itself (~7 ms).
    """
    from conda_deepdive import CONDA_VERSION, __version__

    p = ArgumentParser(
        prog="conda-deepdive",
        description="Watch `conda install` happen, stage by stage. The same command lines as "
                    f"conda {CONDA_VERSION}, run by a step-through simulator.",
    )
    p.add_argument("-V", "--version", action="version",
                   version=f"conda-deepdive {__version__} (conda {CONDA_VERSION} semantics)",
                   help="Show the version number and exit.")
    sub = p.add_subparsers(metavar="COMMAND", dest="cmd", title="commands")
    sub.required = True
    if command in _COMMANDS and command not in ("trace", "explain"):
        _COMMANDS[command](sub)
    else:
        for configure in _COMMANDS.values():
            configure(sub)
    return p


# ------------------------------------------------------------------------------------------
# the inspectable result, and running it
# ------------------------------------------------------------------------------------------

class ParsedCommand:
    """The result of stage 1 (frozen).

    ``argv``: what was typed; ``command``: the canonical sub-command (``upgrade`` → ``update``);
    ``namespace``: argparse's Namespace (dest names = Context setting names); ``func``: import path
    of the ``execute(args, parser)`` that runs it; ``nested``: for ``trace``/``explain``, the
    :class:`ParsedCommand` of the command being traced.
    """

    __slots__ = ("argv", "command", "namespace", "func", "parser", "nested")

    def __init__(self, argv: Sequence[str], command: str, namespace: argparse.Namespace, func: str,
                 parser: argparse.ArgumentParser | None = None, nested: "ParsedCommand | None" = None):
        for name, value in (("argv", tuple(argv)), ("command", command), ("namespace", namespace),
                            ("func", func), ("parser", parser), ("nested", nested)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ParsedCommand is frozen")

    @classmethod
    def from_namespace(cls, namespace: argparse.Namespace, command: str | None = None,
                       argv: Sequence[str] = (), parser: argparse.ArgumentParser | None = None
                       ) -> "ParsedCommand":
        """Wrap a Namespace built elsewhere (e.g. by a test) without re-parsing."""
        cmd = command or getattr(namespace, "cmd", None) or ""
        func = getattr(namespace, "func", None) or f"{_PKG}.main_{COMMAND_ALIASES.get(cmd, cmd)}.execute"
        return cls(argv, COMMAND_ALIASES.get(cmd, cmd), namespace, func, parser,
                   getattr(namespace, "nested", None))

    @property
    def options(self) -> dict[str, Any]:
        """The options that were actually given (``None`` = not typed; ``cmd``/``func`` left out)."""
        return {k: v for k, v in vars(self.namespace).items()
                if k not in ("cmd", "func", "nested") and not k.startswith("_")
                and v not in (None, [], False)}

    def summary(self) -> dict[str, Any]:
        return {
            "argv": list(self.argv),
            "command": self.command,
            "func": self.func,
            "options": {k: v for k, v in self.options.items() if _is_plain(v)},
            "nested": self.nested.summary() if self.nested is not None else None,
        }

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"ParsedCommand(command={self.command!r}, func={self.func!r}{', ' if opts else ''}{opts})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParsedCommand) and (self.argv, self.command, self.func) == \
            (other.argv, other.command, other.func) and self.options == other.options

    def __hash__(self) -> int:
        return hash((self.argv, self.command, self.func))


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return False


#: the prefix a nested ``create`` gets when none was typed (see ``main_trace.prepare_nested``)
TEMPORARY_PREFIX = "<temporary>"


def _names_a_prefix(argv: Sequence[str]) -> bool:
    return any(a in ("-n", "-p", "--name", "--prefix") or a.startswith(("--name=", "--prefix="))
               or (a.startswith(("-n", "-p")) and not a.startswith("--") and len(a) > 2)
               for a in argv)


def parse_command(argv: Sequence[str], parser: argparse.ArgumentParser | None = None) -> ParsedCommand:
    """Parse ``argv`` (without the program name) into a :class:`ParsedCommand`.

    Usage errors raise ``SystemExit(2)`` like argparse (an unknown command raises
    ``CommandNotFoundError``). For ``trace``/``explain`` the rest of the line is parsed with the
    same parser and kept as ``nested`` (and on the namespace as ``args.nested``).
    """
    parser = parser or generate_parser()
    argv = list(argv)
    namespace = parser.parse_args(argv)
    command = COMMAND_ALIASES.get(namespace.cmd, namespace.cmd)
    nested = None
    if command in ("trace", "explain"):
        rest = list(namespace.nested_argv or [])
        if not rest or rest[0].startswith("-"):
            parser.error(f"{command}: give the command to {command}, e.g. "
                         f"'{command} install -p /tmp/env numpy'")
        if COMMAND_ALIASES.get(rest[0], rest[0]) not in SOLVING_COMMANDS:
            parser.error(f"{command}: can only {command} {', '.join(SOLVING_COMMANDS)} (got {rest[0]!r})")
        if COMMAND_ALIASES.get(rest[0], rest[0]) == "create" and not _names_a_prefix(rest):
            # `trace create numpy` is allowed: the tracer replaces this marker by a fresh
            # temporary prefix (conda's create requires -n/-p, so it cannot stay empty)
            rest += ["-p", TEMPORARY_PREFIX]
        nested = parse_command(rest, parser)
        namespace.nested = nested
    parsed = ParsedCommand(argv, command, namespace, namespace.func, parser, nested)
    namespace._parsed = parsed  # lets execute(args, parser) find argv again (history's "# cmd:")
    return parsed


def do_call(args: argparse.Namespace, parser: argparse.ArgumentParser, env: Any = None) -> Any:
    """Import the module named by ``args.func`` and run its ``execute(args, parser)``.

    The lazy import is why ``--help`` stays fast: the solver, the fetcher and YAML are only
    imported for the one command that runs. ``env`` (a mapping used instead of ``os.environ``) is
    passed on to ``execute`` when it accepts an ``env`` keyword.
    """
    from importlib import import_module

    module_name, func_name = args.func.rsplit(".", 1)
    execute = getattr(import_module(module_name), func_name)
    if env is not None:
        import inspect

        if "env" in inspect.signature(execute).parameters:
            return execute(args, parser, env=env)
    return execute(args, parser)
