"""Running git: one process runner, its environment, and one reading of git's error line.

Nothing here ever fetches: commands that read objects run with no transport allowed,
so a partial clone's missing objects are reported, never downloaded.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator

from labhooks.errors import LabhooksError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


CHUNK = 1 << 20


class GitError(LabhooksError):
    pass


# Lazy fetching of a missing object goes through a transport; with no transport allowed
# it fails instead of downloading (GIT_NO_LAZY_FETCH only exists from git 2.44 on).
NO_FETCH_ENV = {"GIT_ALLOW_PROTOCOL": "labhooks-never-fetch", "GIT_NO_LAZY_FETCH": "1"}


def git_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    # Never turn a check into a download: honoured by git >= 2.44, harmless before.
    env["GIT_NO_LAZY_FETCH"] = "1"
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    if extra:
        env.update(extra)
    return env


def no_fetch_env() -> dict:
    """The environment for commands that only read objects: nothing is ever fetched."""
    return git_env(NO_FETCH_ENV)


def git_executable() -> str:
    path = _which("git")
    if not path:
        raise GitError("git is not installed or not on PATH: install git and try again")
    return path


def _which(name: str) -> str | None:
    if os.name == "nt":  # PATHEXT and friends: leave Windows to shutil
        from shutil import which

        return which(name)
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or os.curdir, name)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


def last_line(stderr: str | bytes, fallback: str) -> str:
    """The last non-empty line of a command's error output (git says why there), or ``fallback``."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else fallback


def run_git(
    args: list[str],
    cwd: Path | str | None = None,
    *,
    input: str | bytes | None = None,
    check: bool = True,
    text: bool = True,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run one git command and capture its output; a failure becomes one GitError line."""
    cmd = [git_executable(), *args]
    decoding: dict = {"encoding": "utf-8", "errors": "surrogateescape"} if text else {}
    try:
        proc = subprocess.run(cmd, cwd=cwd, input=input, capture_output=True, text=text,
                              env=git_env(env), **decoding)
    except FileNotFoundError as exc:
        raise GitError(f"cannot run git in {cwd}: {exc.strerror}") from None
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {last_line(proc.stderr, f'exit {proc.returncode}')}")
    return proc


def git_output(args: list[str], cwd: Path | str | None = None, **kw) -> str:
    return run_git(args, cwd, **kw).stdout.rstrip("\n")


def line_blocks(stream) -> Iterator[bytes]:
    """Whole lines from a binary stream, about a MiB at a time (each block ends in a newline).

    Reading in big blocks and handing whole blocks to C-level splitting or regex search
    is what keeps listings of hundreds of thousands of objects cheap in Python.
    """
    carry = b""
    read = stream.read
    while True:
        block = read(CHUNK)
        if not block:
            break
        block = carry + block
        cut = block.rfind(b"\n") + 1
        carry = block[cut:]
        if cut:
            yield block[:cut]
    if carry:
        yield carry + b"\n"


def split_revs(revs: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split rev-list arguments into (options for argv, plain revisions for ``--stdin``).

    Older git (< 2.42) refuses options on stdin, while a long list of tips must not go on
    the command line; ``--not`` is folded into ``^`` prefixes so meaning is unchanged.
    """
    options: list[str] = []
    plain: list[str] = []
    negate = False
    for rev in revs:
        if rev == "--not":
            negate = not negate
            options.append(rev)
        elif rev.startswith("-"):
            options.append(rev)
        elif negate:
            plain.append(rev[1:] if rev.startswith("^") else "^" + rev)
        else:
            plain.append(rev)
    return options, plain


def scratch_file():
    """An unnamed read-write file that is gone once closed."""
    flag = getattr(os, "O_TMPFILE", 0)  # Linux: no name, no tempfile import
    if flag:
        try:
            fd = os.open(os.environ.get("TMPDIR") or "/tmp", flag | os.O_RDWR, 0o600)
            return os.fdopen(fd, "w+b")
        except OSError:
            pass  # a file system without O_TMPFILE
    import tempfile

    return tempfile.TemporaryFile(prefix="labhooks-")
