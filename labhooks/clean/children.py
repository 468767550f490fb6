"""The long-running tools (the backends, repack, gc): stopped whenever labhooks stops.

Each runs in a process group of its own, so a signal meant for labhooks alone (``kill
-INT``, ``kill -TERM``, a terminal's Ctrl-C) reaches labhooks first; labhooks then stops
the whole group, grandchildren included (``git gc`` runs ``git repack`` runs ``git
pack-objects``), and waits for it before it says anything about the repository.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from labhooks.git.process import git_env

_GRACE_SECONDS = 10  # git and the JVM tidy their temporary files on SIGTERM


def _stop_group(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=_GRACE_SECONDS)
            # the leader is gone; members of its group may not be
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


def run_showing_output(cmd: list[str], cwd: Path, discard_stdout: bool = False) -> int:
    """Run a tool with its output on our stderr (stdout is kept for the report)."""
    try:
        err = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        err = None  # a stderr with no file behind it: pass the output on by hand
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if discard_stdout else err if err is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT if err is None else None, env=git_env(),
        start_new_session=True,  # its own process group (and session: a prompt fails, never hangs)
    )
    try:
        output, _ = proc.communicate()
    except BaseException:
        with signals_held():
            _stop_group(proc)
        raise
    if err is None and output:
        sys.stderr.write(output.decode("utf-8", "replace"))
    return proc.returncode


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled like Ctrl-C, so every exit path tidies up the same way."""


def _raise_terminated(signum, _frame):
    raise Terminated(signal.Signals(signum).name)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, _raise_terminated)
        except (ValueError, OSError):  # not the main thread
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """No interrupt while labhooks puts things back: a second Ctrl-C waits until it is done."""
    try:
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
