"""Package scripts: ``pre-link``, ``post-link``, ``pre-unlink`` (and the ``post-unlink`` that never runs).

conda counterpart: ``conda.core.link.run_script`` and ``conda.core.link.messages``.

A package may ship ``bin/.<name>-<action>.sh``. conda runs it with these environment variables:
``PREFIX`` (the environment), ``PKG_NAME``, ``PKG_VERSION``, ``PKG_BUILDNUM``, ``ROOT_PREFIX`` and
a ``PATH`` that starts with the script's own directory. How it runs differs per action
(observed in conda 26.7.1, see ``../shared/reference/conda-link-behaviour.md``):

* **pre-link** runs from the *package cache* (``<pkgs>/<dist>/bin/.x-pre-link.sh``), as
  ``bash -x``, with ``SOURCE_DIR`` set to the extracted package, before any file is linked.
  conda warns that pre-link scripts are dangerous.
* **post-link** runs from the prefix, *sourced* inside a wrapper script that first activates the
  environment (so ``CONDA_PREFIX``, ``CONDA_DEFAULT_ENV``, ``CONDA_SHLVL`` are set and
  ``<prefix>/bin`` is on ``PATH``). A failure (non-zero exit) is a ``LinkError``: the transaction
  is rolled back.
* **pre-unlink** runs from the prefix as ``bash -x``, without activation; a failure is only a
  warning.
* **post-unlink** never runs: by then the script itself has been unlinked.

After each script conda prints ``<prefix>/.messages.txt`` (if the script wrote one) and deletes it.
What to notice: script output is only shown when the script fails.

Each script runs in a process group of its own (``start_new_session``), listed in
:data:`ACTIVE_SCRIPTS` while it runs. If the install is interrupted (Ctrl-C, SIGTERM) or the
script outlives ``link_script_timeout`` seconds (a conda-deepdive setting; default ``None``, no
limit, as in conda), the whole group is terminated — a script's own children included — so
nothing survives the tool. conda only forwards the signal to the script it started
(``conda.ACTIVE_SUBPROCESSES``).

Difference from conda: conda's wrapper runs ``conda shell.posix hook`` and ``conda activate``;
we do not have a conda executable, so our wrapper exports the same variables itself and
sources the environment's ``etc/conda/activate.d/*.sh`` scripts, as activation does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile

from conda_deepdive.values import value_object

__all__ = ["ScriptResult", "script_path", "run_script", "read_messages", "ACTIVE_SCRIPTS",
           "terminate_active_scripts", "hold_interrupt"]

#: the script processes running right now (each the leader of its own process group)
ACTIVE_SCRIPTS: set = set()


class _Spawning:
    """Set while a script is being started: between the fork and the moment the script is
    registered, an interruption must wait, or the tool would exit leaving the script running."""

    active = False
    held: int | None = None


def hold_interrupt(signum: int) -> bool:
    """Asked by the signal handler: is a script being started right now? Then the signal is
    held (and raised as soon as the script can be stopped with its group) and this returns True."""
    if _Spawning.active:
        _Spawning.held = signum
        return True
    return False

#: how long a terminated script's group gets to exit after SIGTERM before SIGKILL (seconds)
_GRACE_SECONDS = 2.0


@value_object(frozen=True)
class ScriptResult:
    """What happened when conda-deepdive ran (or skipped) one package script."""

    action: str
    package: str
    path: str
    ran: bool
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    messages: str | None = None
    command: tuple = ()

    def summary(self) -> dict:
        return {
            "action": self.action, "package": self.package, "path": self.path, "ran": self.ran,
            "returncode": self.returncode, "command": list(self.command), "messages": self.messages,
        }


def script_path(prefix: str, name: str, action: str) -> str:
    # the package name comes from the channel: it must not turn bin/.<name>-x.sh into another path
    if not name or "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
        from conda_deepdive.exceptions import CondaVerificationError

        raise CondaVerificationError(f"The package name {name!r} cannot name a {action} script.")
    return os.path.join(prefix, "bin", f".{name}-{action}.sh")


def read_messages(prefix: str) -> str | None:
    """Read and delete ``<prefix>/.messages.txt`` (conda prints it, then removes it)."""
    path = os.path.join(prefix, ".messages.txt")
    try:
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        return None
    finally:
        if os.path.lexists(path):
            os.unlink(path)


def _env_name(target_prefix: str, envs_dirs) -> str:
    # conda shows an env by name when it lives directly in one of the envs dirs, else by path
    parent = os.path.dirname(target_prefix.rstrip("/"))
    if any(os.path.abspath(parent) == os.path.abspath(d) for d in envs_dirs or ()):
        return os.path.basename(target_prefix.rstrip("/"))
    return target_prefix


def run_script(
    prefix: str,
    record,
    action: str,
    *,
    target_prefix: str | None = None,
    root_prefix: str = "",
    activate: bool = False,
    base_env: dict | None = None,
    envs_dirs=(),
    timeout: float | None = None,
) -> ScriptResult:
    """Run ``<prefix>/bin/.<name>-<action>.sh`` the way conda does; raise ``LinkError`` on a
    failed pre-link/post-link. ``prefix`` is where the script lives (the extracted package for
    pre-link), ``target_prefix`` is the environment (``PREFIX``)."""
    from conda_deepdive.exceptions import LinkError, LinkScriptTimeout

    name, version = record.name, record.version
    path = script_path(prefix, name, action)
    dist = _dist_str(record)
    if not os.path.isfile(path):
        return ScriptResult(action, dist, path, ran=False)

    env = dict(os.environ if base_env is None else base_env)
    env_prefix = target_prefix or prefix
    if action == "pre-link":
        env["SOURCE_DIR"] = prefix
    env["ROOT_PREFIX"] = root_prefix or ""
    env["PREFIX"] = env_prefix
    env["PKG_NAME"] = name
    env["PKG_VERSION"] = str(version)
    env["PKG_BUILDNUM"] = str(getattr(record, "build_number", 0))
    env["PATH"] = os.pathsep.join((os.path.dirname(path), env.get("PATH", "")))

    wrapper = None
    if activate:
        # Stand-in for `conda shell.posix hook` + `conda activate <prefix>`, then source the script.
        # Observed in conda 26.7.1 from a non-activated shell: the hook activates base first
        # (CONDA_SHLVL=1) and then the env (2); PATH then starts "<prefix>/bin:<root_prefix>:".
        shlvl = int(env["CONDA_SHLVL"]) + 1 if env.get("CONDA_SHLVL", "").isdigit() else 2
        path_head = os.path.join(env_prefix, "bin") + (f":{root_prefix}" if root_prefix else "")
        fd, wrapper = tempfile.mkstemp()
        with os.fdopen(fd, "w") as fh:
            fh.write(
                f"export CONDA_PREFIX={_q(env_prefix)}\n"
                f"export CONDA_DEFAULT_ENV={_q(_env_name(env_prefix, envs_dirs))}\n"
                f"export CONDA_SHLVL={shlvl}\n"
                f"export PATH={_q(path_head)}:\"$PATH\"\n"
                # activation also sources the env's activate.d scripts (packages rely on it)
                'for _f in "$CONDA_PREFIX"/etc/conda/activate.d/*.sh; do\n'
                '    [ -f "$_f" ] && . "$_f"\n'
                "done\n"
                "unset _f\n"
                f". {_q(path)}\n"
            )
        command = ("bash", wrapper)
    else:
        command = ("bash", "-x", path)
    try:
        returncode, stdout, stderr = _run_in_own_group(command, os.path.dirname(path), env, timeout)
    except subprocess.TimeoutExpired:
        read_messages(prefix)
        raise LinkScriptTimeout(
            f"{action} script for package {dist} did not finish within {timeout:g} seconds "
            f"(link_script_timeout) and was stopped with its process group\n"
            f"location of script: {path}"
        ) from None
    finally:
        if wrapper:
            os.unlink(wrapper)
    messages = read_messages(prefix)
    result = ScriptResult(
        action, dist, path, True, returncode, stdout, stderr, messages, command
    )
    if returncode != 0 and action in ("pre-link", "post-link"):
        error = LinkError(
            f"{action} script failed for package {dist}\n"
            f"location of failed script: {path}\n"
            f"==> script messages <==\n{messages or '<None>'}\n"
            f"==> script output <==\n"
            f"stdout: {stdout}\n"
            f"stderr: {stderr}\n"
            f"return code: {returncode}\n"
        )
        error._script_messages = messages  # conda prints them before it raises (not in --json)
        raise error
    return result


def _run_in_own_group(command, cwd: str, env: dict, timeout: float | None) -> tuple[int, str, str]:
    """Run ``command`` as the leader of a new process group; on a timeout or any interruption
    (KeyboardInterrupt, a signal turned into an exception) terminate the whole group first."""
    _Spawning.active, _Spawning.held = True, None
    try:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
    except BaseException:
        _Spawning.active = False
        raise
    ACTIVE_SCRIPTS.add(proc)
    try:
        _Spawning.active = False
        if _Spawning.held is not None:  # Ctrl-C / SIGTERM came while the script was starting
            from conda_deepdive.exceptions import CondaSignalInterrupt

            signum, _Spawning.held = _Spawning.held, None
            raise CondaSignalInterrupt(signum)
        stdout, stderr = proc.communicate(timeout=timeout)
    except BaseException:
        _terminate_group(proc)
        raise
    finally:
        ACTIVE_SCRIPTS.discard(proc)
    return proc.returncode, stdout, stderr


def _terminate_group(proc) -> None:
    """SIGTERM to the script's process group, SIGKILL after a grace period; reap the leader."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.communicate(timeout=_GRACE_SECONDS if sig == signal.SIGTERM else None)
            # the leader is gone; its children may not be: SIGKILL the group once more
            if sig == signal.SIGTERM:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            break
        except subprocess.TimeoutExpired:
            continue
        except BaseException:  # a second interruption while we clean up: finish cleaning up
            continue


def terminate_active_scripts() -> None:
    """Stop every script still running (the CLI's signal handler calls this)."""
    for proc in list(ACTIVE_SCRIPTS):
        _terminate_group(proc)


def _q(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _dist_str(record) -> str:
    from conda_deepdive.link.link import dist_str

    return dist_str(record)
