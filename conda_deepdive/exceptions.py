"""conda's exceptions, by conda's names (``conda.exceptions``).

Errors are part of the lesson: each one carries a message that names the input and what is wrong,
and :meth:`CondaError.dump_map` gives the JSON shape ``conda --json`` prints on failure
(``exception_name``, ``exception_type``, ``message``, ``error``, ``caused_by`` …).

Module owners add the classes their stage raises here, keeping conda's class names and
hierarchy, so ``--json`` output can be compared with real conda's.
"""

from __future__ import annotations


TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any


class CondaError(Exception):
    """Base of every error conda-deepdive raises on purpose (never shown with a traceback)."""

    return_code = 1

    def __init__(self, message: str = "", caused_by: BaseException | None = None, **kwargs: Any):
        self.message = message
        self._kwargs = kwargs
        self._caused_by = caused_by
        super().__init__(message)

    def __str__(self) -> str:
        try:
            return str(self.message % self._kwargs) if self._kwargs else str(self.message)
        except (KeyError, TypeError, ValueError):
            return str(self.message)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}: {self}"

    def dump_map(self) -> dict:
        """The error as ``conda --json`` prints it."""
        result = {k: v for k, v in vars(self).items() if not k.startswith("_") and k != "message"}
        result.update(
            exception_type=str(type(self)).replace("conda_deepdive.exceptions", "conda.exceptions"),
            exception_name=self.__class__.__name__,
            message=str(self),
            error=repr(self),
            caused_by=repr(self._caused_by),
        )
        for key, value in self._kwargs.items():
            result.setdefault(key, value)
        return {k: _plain(v) for k, v in result.items()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return str(value)


class CondaValueError(CondaError, ValueError):
    pass


class CondaKeyError(CondaError, KeyError):
    def __init__(self, key: Any, message: str = "", **kwargs: Any):
        self.key = key
        self.msg = f"{key!r}: {message}"  # conda's attribute: shown in the --json error document
        super().__init__(self.msg, **kwargs)


class ArgumentError(CondaError):
    return_code = 2


class InvalidVersionSpec(CondaValueError):
    """A version spec string that conda's grammar does not accept."""

    def __init__(self, invalid_spec: Any, details: str = ""):
        self.invalid_spec = str(invalid_spec)
        super().__init__(f"Invalid version '{invalid_spec}': {details}")


class InvalidMatchSpec(CondaValueError):
    """A package spec (``MatchSpec``) string that conda cannot parse."""

    def __init__(self, invalid_spec: Any, details: str = ""):
        self.invalid_spec = str(invalid_spec)
        super().__init__(f"Invalid spec '{invalid_spec}': {details}")


class ChannelError(CondaError):
    pass


class CondaHTTPError(CondaError):
    pass


class UnavailableInvalidChannel(ChannelError):
    pass


class CondaUpgradeError(CondaError):
    pass


class LoadError(CondaError):
    """A configuration (condarc) file that cannot be read."""


class ConfigurationLoadError(LoadError):
    pass


class CustomValidationError(CondaError):
    pass


class OfflineError(CondaError):
    pass


class EnvironmentLocationNotFound(CondaError):
    def __init__(self, location: str):
        self.location = location
        super().__init__(f"Not a conda environment: {location}")


class DirectoryNotACondaEnvironmentError(CondaError):
    pass


class DryRunExit(CondaError):
    def __init__(self) -> None:
        super().__init__("Dry run. Exiting.")


class CondaExitZero(CondaError):
    return_code = 0


def _dashes(items: Any, indent: int = 2) -> str:
    """conda's ``dashlist``: one ``- item`` line per item, each preceded by a newline."""
    return "".join("\n" + " " * indent + "- " + str(x) for x in items)


class PackagesNotFoundError(CondaError):
    """Specs that match nothing. conda 26.3+ raises one of two subclasses, chosen here by the
    arguments: with ``channel_urls`` -> :class:`PackagesNotFoundInChannelsError` (not in the
    index), with ``prefix`` -> :class:`PackagesNotFoundInPrefixError` (not installed)."""

    def __new__(cls, packages: Any = (), channel_urls: Any = (), prefix: Any = None, **kwargs: Any):
        if cls is PackagesNotFoundError:
            if channel_urls:
                cls = PackagesNotFoundInChannelsError
            elif prefix is not None:
                cls = PackagesNotFoundInPrefixError
        return Exception.__new__(cls)

    def __init__(self, packages: Any = (), channel_urls: Any = (), prefix: Any = None, **kwargs: Any):
        packages = [str(p) for p in packages]
        channel_urls = [str(u) for u in channel_urls]
        packages_formatted = "  - " + "\n  - ".join(packages)
        if channel_urls:
            message = (
                "The following packages are not available from current channels:\n\n"
                "%(packages_formatted)s\n\n"
                "Current channels:\n\n"
                "%(channels_formatted)s\n\n"
                "To search for alternate channels that may provide the conda package you're\n"
                "looking for, navigate to\n\n"
                "    https://anaconda.org\n\n"
                "and use the search bar at the top of the page.\n"
            )
            kwargs.update(channels_formatted="  - " + "\n  - ".join(channel_urls))
        elif prefix is not None:
            message = ("The following packages are missing from the target environment:\n"
                       "  prefix: %(prefix)s\n\n%(packages_formatted)s\n")
            kwargs.update(prefix=str(prefix))
        else:
            message = ("The following packages are missing from the target environment:\n"
                       "%(packages_formatted)s\n")
        super().__init__(message, packages=packages, packages_formatted=packages_formatted,
                         channel_urls=channel_urls, **kwargs)


class PackagesNotFoundInChannelsError(PackagesNotFoundError):
    """``The following packages are not available from current channels`` (+ the channel URLs)."""


class PackagesNotFoundInPrefixError(PackagesNotFoundError):
    """``The following packages are missing from the target environment`` (+ the prefix).

    conda 26.7.1 builds it as a ``PackageNotInstalledError`` with a list: its ``--json``
    document carries ``package_name`` (the list), ``packages_formatted`` (a dash list that
    starts with a newline) and ``prefix``."""

    def __init__(self, packages: Any = (), channel_urls: Any = (), prefix: Any = None, **kwargs: Any):
        if prefix is None or channel_urls:
            PackagesNotFoundError.__init__(self, packages, channel_urls, prefix, **kwargs)
            return
        names = [str(p) for p in packages]
        CondaError.__init__(
            self,
            "The following packages are missing from the target environment:\n"
            "  prefix: %(prefix)s\n%(packages_formatted)s\n",
            prefix=str(prefix), package_name=names,
            packages_formatted="".join(f"\n  - {n}" for n in names), **kwargs)


class PackageNotInstalledError(PackagesNotFoundInPrefixError):
    """``conda update NAME`` for a NAME that is not installed (a PackagesNotFoundInPrefixError
    since conda 26.3)."""

    def __new__(cls, prefix: Any = None, package_name: Any = None, **kwargs: Any):
        return Exception.__new__(cls)

    def __init__(self, prefix: Any = None, package_name: Any = None, **kwargs: Any):
        CondaError.__init__(
            self,
            "Package is not installed in prefix.\n  prefix: %(prefix)s\n  package name: %(package_name)s\n",
            prefix=str(prefix),
            package_name=str(package_name),
        )


class UnsatisfiableError(CondaError):
    pass


class SpecsConfigurationConflictError(CondaError):
    """Requested specs that conflict with pinned specs (``pinned_packages``/``conda-meta/pinned``)."""

    def __init__(self, requested_specs: Any = (), pinned_specs: Any = (), prefix: Any = ""):
        import os

        requested = [str(s) for s in requested_specs]
        pinned = [str(s) for s in pinned_specs]
        message = (
            "Requested specs conflict with configured specs.\n"
            f"  requested specs: {_dashes(requested, 4)}\n"
            f"  pinned specs: {_dashes(pinned, 4)}\n"
            "Use 'conda config --show-sources' to look for 'pinned_specs' and 'track_features'\n"
            "configuration parameters.  Pinned specs may also be defined in the file\n"
            f"{os.path.join(str(prefix), 'conda-meta', 'pinned')}.\n"
        )
        self.requested_specs = requested
        self.pinned_specs = pinned
        self.prefix = str(prefix)
        super().__init__(message)


class ResolvePackageNotFound(CondaError):
    pass


class NoPackagesFoundError(CondaError):
    pass


class CondaVerificationError(CondaError):
    pass


class ChecksumMismatchError(CondaError):
    pass


class CorruptedArchiveError(CondaError):
    pass


class SafetyError(CondaError):
    pass


class PaddingError(CondaError):
    pass


class LinkError(CondaError):
    pass


class CondaMultiError(CondaError):
    """Several errors at once. Printed as conda prints it: each error's ``repr`` on its own line
    (so a failed transaction reads ``LinkError: …`` — and, after conda's rollback, the empty
    ``()`` conda appends), ``--json`` as ``Multiple Errors Encountered.`` with every error's map."""

    def __init__(self, errors: list[BaseException]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors) + "\n"

    def __repr__(self) -> str:
        return "\n".join(str(e) if isinstance(e, OSError) and not isinstance(e, CondaError)
                         else e.__repr__() for e in self.errors)

    def dump_map(self) -> dict:
        def one(error: Any) -> dict:
            if isinstance(error, CondaError):
                return error.dump_map()
            return {"error": repr(error), "exception_name": type(error).__name__,
                    "exception_type": str(type(error)), "message": str(error)}

        return {"exception_type": "<class 'conda.CondaMultiError'>",
                "exception_name": "CondaMultiError",
                "errors": [one(e) for e in self.errors], "error": "Multiple Errors Encountered."}


class CondaSystemExit(CondaExitZero, SystemExit):
    """A "no" at a prompt: conda prints "CondaSystemExit: Exiting." and exits 0."""


# --- stage 3, index fetch (conda.gateways.repodata, conda.core.subdir_data) ---------------------


class RepodataIsEmpty(UnavailableInvalidChannel):
    """A 403/404 for the repodata of a non-``noarch`` subdir.

    conda (``conda.gateways.repodata``) treats such a subdir as empty for ``repodata.json`` and
    uses the error to fall back from ``current_repodata.json`` to ``repodata.json``.
    """


class RepodataDecodeError(CondaError):
    """Repodata that is not valid JSON (a truncated download, an HTML error page, …).

    conda itself has no dedicated class here (it crashes with a ``JSONDecodeError``); we name the
    channel, subdir and URL instead, and never write such data into the cache.
    """


class SparseIndexDamagedError(CondaError):
    """Our own stored sparse index (``<pkgs_dir>/cache/<hash>.sparse``) points at bytes of the
    repodata that are not the record it names: a damaged or tampered cache file. Not conda's
    (conda has no such file). The file is removed when this is raised, so the next run rebuilds
    it from the repodata."""


class CondaSSLError(CondaError):
    pass


class ProxyError(CondaError):
    pass


# --- stages 1-2, CLI parse and Context (conda.cli.conda_argparse, conda.common.configuration) --


class CommandNotFoundError(CondaError):
    """``conda <word>`` where ``<word>`` is not a command (conda exits 1, not argparse's 2)."""

    def __init__(self, command: str):
        self.command = command
        super().__init__(f"No command 'conda {command}'.")


class ValidationError(CondaError):
    """A configuration value that cannot be used (names the setting, value and source)."""

    def __init__(self, parameter_name: str, parameter_value, source: str, msg: str = "", **kwargs):
        self.parameter_name = parameter_name
        self.parameter_value = parameter_value
        self.source = source
        super().__init__(msg or f"Parameter {parameter_name} = {parameter_value!r} declared in {source} is invalid.",
                         **kwargs)


class InvalidTypeError(ValidationError):
    """A setting of the wrong shape, e.g. ``channels: 3`` where a list is expected."""

    def __init__(self, parameter_name: str, parameter_value, source: str, wrong_type: str,
                 valid_types: str, msg: str = ""):
        self.wrong_type = wrong_type
        self.valid_types = valid_types
        super().__init__(
            parameter_name, parameter_value, source,
            msg or (f"Parameter {parameter_name} = {parameter_value!r} declared in {source} has type "
                    f"{wrong_type}.\nValid types:\n  - {valid_types}"),
        )


class InvalidElementTypeError(InvalidTypeError):
    """One element of a list/map setting has the wrong type (``channels: [[a]]``)."""

    def __init__(self, parameter_name: str, parameter_value, source: str, wrong_type: str,
                 valid_types: str, index_or_key):
        qualifier = "at index" if isinstance(index_or_key, int) else "for key"
        super().__init__(
            parameter_name, parameter_value, source, wrong_type, valid_types,
            msg=(f"Parameter {parameter_name} declared in {source} has invalid element "
                 f"{parameter_value!r} {qualifier} {index_or_key}.\nValid element types:\n  - {valid_types}."),
        )


class MultipleKeysError(ValidationError):
    """One source sets a setting under two of its names (``channels`` and ``channel``)."""

    def __init__(self, source: str, keys, preferred_key: str):
        self.keys = list(keys)
        listed = "\n".join(f"  - {k}" for k in self.keys)
        super().__init__(
            preferred_key, None, source,
            msg=f"Multiple aliased keys in file {source}:\n{listed}\nMust declare only one. Prefer '{preferred_key}'",
        )


class OperationNotAllowed(CondaError):
    pass


class NoWritablePkgsDirError(CondaError):
    def __init__(self, pkgs_dirs):
        self.pkgs_dirs = list(pkgs_dirs)
        listed = "\n".join(f"  - {d}" for d in self.pkgs_dirs)
        super().__init__(f"No writeable pkgs directories configured.\n{listed}")


# --- stages 7-9: transaction, fetch/extract, link (conda.core.link / path_actions / package_cache_data)


class ClobberError(CondaError):
    """Two packages (or a package and a stray file) want the same path in the prefix."""


class KnownPackageClobberError(ClobberError):
    def __init__(self, target_path: str, incoming_dist: str, colliding_dist: str):
        self.target_path, self.incoming_dist, self.colliding_dist = target_path, incoming_dist, colliding_dist
        super().__init__(
            f"The package '{incoming_dist}' cannot be installed due to a\n"
            f"path collision for '{target_path}'.\n"
            f"This path already exists in the target prefix, and it won't be removed by\n"
            f"an uninstall action in this transaction. The path appears to be coming from\n"
            f"the package '{colliding_dist}', which is already installed in the prefix."
        )


class UnknownPackageClobberError(ClobberError):
    def __init__(self, target_path: str, incoming_dist: str):
        self.target_path, self.incoming_dist = target_path, incoming_dist
        super().__init__(
            f"The package '{incoming_dist}' cannot be installed due to a\n"
            f"path collision for '{target_path}'.\n"
            f"This path already exists in the target prefix, and it won't be removed\n"
            f"by an uninstall action in this transaction. The path is one that conda\n"
            f"doesn't recognize. It may have been created by another package manager."
        )


class SharedLinkPathClobberError(ClobberError):
    def __init__(self, target_path: str, incoming_dists):
        self.target_path, self.incoming_dists = target_path, list(incoming_dists)
        listed = "\n".join(f"  - {d}" for d in self.incoming_dists)
        super().__init__(
            f"This transaction has incompatible packages due to a shared path.\n"
            f"  packages:\n{listed}\n  path: '{target_path}'"
        )


class EnvironmentNotWritableError(CondaError):
    def __init__(self, environment_location: str):
        self.environment_location = environment_location
        super().__init__(
            f"The current user does not have write permissions to the target environment.\n"
            f"  environment location: {environment_location}"
        )


class RemoveError(CondaError):
    pass


class CacheLockTimeout(CondaError):
    """conda-deepdive: another process held a package cache's lock for too long."""


class InjectedFault(CondaError):
    """conda-deepdive: the failure asked for with ``CONDA_DEEPDIVE_FAIL_AT`` (teaching rollback)."""


class CouldntParseError(CondaError):
    """A condarc value has the wrong shape for the edit asked (``key 'channels' should be a list``)."""


class MirrorError(CondaError):
    """conda-deepdive: ``mirror`` could not do anything at all (upstream unreachable, bad options).

    Exit code 2, like conda-mirror's "nothing could be done"; a mirror that ran but lost some files
    exits 1 with the list instead (see :mod:`conda_deepdive.mirror.conda_mirror`).
    """

    return_code = 2


# --- interrupted runs, link scripts, removing environments (issue 12, part B) ------------------


class CondaSignalInterrupt(CondaError):
    """Ctrl-C or SIGTERM arrived (conda's name and message: ``Signal interrupt SIGINT``).

    conda raises it from its signal handler while a transaction executes and exits 1; a
    conda-deepdive run exits 130 (128 + SIGINT, the shell's convention) at any stage, after the
    same rollback an error gets.
    """

    return_code = 130

    def __init__(self, signum: int):
        import signal

        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        self.signum = signum
        super().__init__("Signal interrupt %(signal_name)s", signal_name=name, signum=signum)


class LinkScriptTimeout(CondaError):
    """conda-deepdive: a package script ran longer than ``link_script_timeout`` seconds (conda has
    no limit); it was stopped with its whole process group."""


class CondaEnvironmentError(CondaError, EnvironmentError):
    """conda's error for an operation on the wrong environment (``remove --all`` of base…)."""


class CondaEnvException(CondaError):
    """conda's error for environment-level misuse (e.g. removing ``default_activation_env``)."""


class NoSpaceLeftError(CondaError):
    """The disk filled up (conda turns an ``ENOSPC`` OSError into this one)."""

    def __init__(self, caused_by: BaseException, **kwargs: Any):
        super().__init__("No space left on devices.", caused_by=caused_by, **kwargs)


class CondaOSError(CondaError):
    """An operating-system error conda reports as itself (conda's ``CondaOSError``)."""


class ParseError(CondaError):
    """A file that cannot be parsed (conda's ``ParseError``): too deeply nested, not JSON/YAML…"""


def os_error(exc: OSError, path: str | None = None, doing: str = "writing") -> CondaError:
    """The documented CondaError for a disk error: ENOSPC → NoSpaceLeftError, else CondaOSError."""
    import errno

    if getattr(exc, "errno", None) == errno.ENOSPC:
        return NoSpaceLeftError(exc, target_path=path) if path else NoSpaceLeftError(exc)
    where = path or getattr(exc, "filename", None) or "?"
    return CondaOSError(f"Error {doing} {where}: {exc.strerror or exc}", caused_by=exc)


class CondaUpdatePackageError(CondaError):
    """``conda update`` with anything but package names (``numpy=2.1``, a package file or URL):
    conda 26.7.1's ``CondaUpdatePackageError``, raised before anything is fetched."""

    def __init__(self, spec: Any):
        if isinstance(spec, (list, tuple)):
            shown = "".join(f"\n    - {s}" for s in spec)  # conda's dashlist(spec, 4)
        else:
            shown = str(spec)
        super().__init__(
            f"`conda update` only supports name-only spec, but received: {shown}\n"
            "Use `conda install` to install a specific version of a package."
        )
