"""The one home for failures: what each becomes on the user's screen, and the exit code.

Exit codes (README): 0 success, 1 findings, 2 usage or environment error, 130
interrupted (Ctrl-C), 141 the reader of our output went away (``| head``), which, as for
``git log | head``, is no error and prints nothing. Every other failure is one line on
stderr that names what the user gave (a path, a setting), never a traceback and never a
scratch file of ours. Every entry point (the ``labhooks`` command, the hook scripts,
``labhooks-check-large``, ``labhooks-check-book``) ends in :func:`run`.
"""

from __future__ import annotations

import errno
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE, what git and the shell report for the same thing

# Failures of our own output (stdout), not of a file the user named.
_OUTPUT_ERRORS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG}


class LabhooksError(Exception):
    """A failure the user can act on; ``exit_code`` 2 means usage or environment."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


def run(command: Callable[[], int | None]) -> int:
    """Run one command to its exit code, its output flushed and every failure mapped."""
    try:
        code = command()
        sys.stdout.flush()  # a full disk or closed pipe shows up here, not at exit
        return code if isinstance(code, int) else 0
    except BaseException as exc:
        mapped = exit_code_for(exc)
        if mapped is None:
            raise
        return mapped


def exit_code_for(exc: BaseException) -> int | None:
    """Say ``exc`` in one line and return its exit code; None for what is not ours to map."""
    if isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE):
        _silence_stdout()
        return EXIT_CLOSED_PIPE
    if isinstance(exc, KeyboardInterrupt):
        _say("interrupted")
        return EXIT_INTERRUPTED
    if isinstance(exc, LabhooksError):
        _say(exc.message)
        return exc.exit_code
    if isinstance(exc, OSError):
        if exc.filename is None and exc.errno in _OUTPUT_ERRORS:
            _silence_stdout()  # else the interpreter fails again flushing it at exit
            _say(f"cannot write the output: {exc.strerror}")
        else:
            _say(describe_os_error(exc))
        return EXIT_USAGE
    return None


def describe_os_error(exc: OSError, path: object | None = None) -> str:
    """``PATH: why``, with ``path`` (what the user gave) in place of the file git or we used."""
    where = path if path is not None else exc.filename
    why = exc.strerror or str(exc)
    return f"{where}: {why}" if where is not None else why


class writing:
    """``with writing(path):`` names ``path`` in any failure to write it or what it holds
    (a scratch file beside it, a folder under it): the user gave ``path``, not our
    scratch names. A class, not a contextlib generator: contextlib costs the commit
    hook's start-up its import."""

    def __init__(self, path: object):
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, traceback) -> None:
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise LabhooksError(f"cannot write {describe_os_error(exc, self.path)}") from None


def _say(message: str) -> None:
    try:
        print(f"labhooks: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # stderr is gone too: the exit code is all that is left


def _silence_stdout() -> None:
    """Point stdout at /dev/null so nothing buffered is written (and fails) again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
