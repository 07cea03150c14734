"""conda's exceptions, by conda's names (``conda.exceptions``).

Errors are part of the lesson: each one carries a message that names the input and what is wrong,
and :meth:`CondaError.dump_map` gives the JSON shape ``conda --json`` prints on failure
(``exception_name``, ``exception_type``, ``message``, ``error``, ``caused_by`` …).

Module owners add the classes their stage raises here, keeping conda's class names and
hierarchy, so ``--json`` output can be compared with real conda's.
"""

from __future__ import annotations

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
        super().__init__(f"{key!r}: {message}", **kwargs)


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


class PackagesNotFoundError(CondaError):
    pass


class PackagesNotFoundInChannelsError(PackagesNotFoundError):
    pass


class PackagesNotFoundInPrefixError(PackagesNotFoundError):
    pass


class PackageNotInstalledError(CondaError):
    pass


class UnsatisfiableError(CondaError):
    pass


class SpecsConfigurationConflictError(CondaError):
    pass


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
    def __init__(self, errors: list[BaseException]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class CondaSystemExit(CondaError, SystemExit):
    pass


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


class CondaSSLError(CondaError):
    pass


class ProxyError(CondaError):
    pass
