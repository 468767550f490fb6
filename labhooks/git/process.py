"""Running git: one process runner, its environment, and one reading of git's error line.

Nothing here ever fetches: commands that read objects run with no transport allowed,
so a partial clone's missing objects are reported, never downloaded.
"""

from __future__ import annotations

import os

from labhooks.errors import LabhooksError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
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
) -> GitResult:
    """Run one git command and capture its output; a failure becomes one GitError line."""
    return BackgroundGit(args, cwd, input=input, env=env).result(check=check, text=text)


class GitResult:
    """What a git command answered: the fields of ``subprocess.CompletedProcess`` that
    labhooks reads."""

    __slots__ = ("args", "returncode", "stdout", "stderr")

    def __init__(self, args: list[str], returncode: int, stdout, stderr):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def _checked(args: list[str], proc: GitResult, check: bool) -> GitResult:
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {last_line(proc.stderr, f'exit {proc.returncode}')}")
    return proc


# Where POSIX spawning is there, git is started with os.posix_spawn and read with poll
# instead of through the subprocess module, whose import alone (with locale, re, enum,
# signal and selectors) costs the commit hook about a tenth of its time (docs/guard.md).
_SPAWN = hasattr(os, "posix_spawn") and os.name == "posix"


class BackgroundGit:
    """One git command started now and read later, so that several run at once while
    Python goes on (the commit hook's queries); :meth:`result` is :func:`run_git`'s
    answer. Input that fits in the pipe is written at once; more is written by a thread,
    so neither side's pipe can fill up."""

    def __init__(self, args: list[str], cwd: Path | str | None = None, *,
                 input: str | bytes | None = None, env: dict | None = None):
        self.args = args
        payload = input.encode("utf-8", "surrogateescape") if isinstance(input, str) else input
        argv = [git_executable(), *args]
        self._answer: tuple[int, bytes, bytes] | None = None
        env = git_env(env)
        child: _SpawnedGit | _PopenGit | None = _SpawnedGit.start(argv, cwd, env, payload) if _SPAWN else None
        self._child = child or _PopenGit(argv, cwd, env, payload)

    def result(self, check: bool = True, text: bool = True) -> GitResult:
        if self._answer is None:
            self._answer = self._child.collect()
        return self._result(check, text)

    def close(self) -> None:
        """Wait for git if nobody asked for its answer, so that no process or pipe is
        left behind (the guard also runs in-process, in tests and in other tools)."""
        if self._answer is None:
            try:
                self._answer = self._child.collect()
            except OSError:
                self._answer = (-1, b"", b"")

    def _result(self, check: bool, text: bool) -> GitResult:
        assert self._answer is not None
        code, out, err = self._answer
        if not text:
            return _checked(self.args, GitResult(self.args, code, out, err), check)
        return _checked(self.args, GitResult(self.args, code, out.decode("utf-8", "surrogateescape"),
                                             err.decode("utf-8", "surrogateescape")), check)


class _SpawnedGit:
    @classmethod
    def start(cls, argv: list[str], cwd, env: dict, payload: bytes | None) -> _SpawnedGit | None:
        """None when this process's own standard streams are closed: a pipe would then
        take fd 0, 1 or 2, which posix_spawn cannot hand on (subprocess can)."""
        fds = [*os.pipe(), *os.pipe(), *(os.pipe() if payload is not None else ())]
        if min(fds) < 3:
            for fd in fds:
                os.close(fd)
            return None
        return cls(argv, cwd, env, payload, fds)

    def __init__(self, argv: list[str], cwd, env: dict, payload: bytes | None, fds: list[int]):
        if cwd is not None and os.fspath(cwd) != "":
            argv = [argv[0], "-C", os.fspath(cwd), *argv[1:]]  # posix_spawn has no cwd
        out_read, out_write, err_read, err_write = fds[:4]
        in_read, in_write = (fds[4], fds[5]) if payload is not None else (None, None)
        actions: list[tuple] = [(os.POSIX_SPAWN_DUP2, out_write, 1), (os.POSIX_SPAWN_DUP2, err_write, 2)]
        if in_read is None:
            actions.append((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
        else:
            actions.append((os.POSIX_SPAWN_DUP2, in_read, 0))
        try:
            # the signals Python ignores go back to their defaults, as subprocess does
            self.pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsigdef=_RESET_SIGNALS)
        except OSError as exc:
            for fd in (out_read, err_read, in_write):
                if fd is not None:
                    os.close(fd)
            raise GitError(f"cannot run git: {exc.strerror}") from None
        finally:
            for fd in (out_write, err_write, in_read):
                if fd is not None:
                    os.close(fd)
        self.out, self.err = out_read, err_read
        widen_pipe(out_read)  # git then writes a whole index listing without waiting
        self._writer = None
        if payload is not None:
            assert in_write is not None
            if len(payload) < widen_pipe(in_write):
                _write_all(in_write, payload)  # fits in the pipe: cannot block
            else:
                import threading

                self._writer = threading.Thread(target=_write_all, args=(in_write, payload), daemon=True)
                self._writer.start()

    def collect(self) -> tuple[int, bytes, bytes]:
        import select

        chunks: dict[int, list[bytes]] = {self.out: [], self.err: []}
        poller = select.poll()
        for fd in chunks:
            poller.register(fd, select.POLLIN)
        open_fds = set(chunks)
        while open_fds:
            for fd, _ in poller.poll():
                data = os.read(fd, CHUNK)
                if data:
                    chunks[fd].append(data)
                else:
                    poller.unregister(fd)
                    os.close(fd)
                    open_fds.discard(fd)
        if self._writer is not None:
            self._writer.join()
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status), b"".join(chunks[self.out]), b"".join(chunks[self.err])


def _write_all(fd: int, payload: bytes) -> None:
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        pass  # git stopped reading: its exit status and stderr say why
    finally:
        os.close(fd)


def _reset_signals() -> tuple[int, ...]:
    import _signal  # the C module the interpreter has loaded already; signal imports enum

    return tuple(getattr(_signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(_signal, name))


_RESET_SIGNALS = _reset_signals() if _SPAWN else ()


class _PopenGit:
    """The same through the subprocess module, where there is no POSIX spawning."""

    def __init__(self, argv: list[str], cwd, env: dict, payload: bytes | None):
        import subprocess

        try:
            self.proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL if payload is None else subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError as exc:
            raise GitError(f"cannot run git in {cwd}: {exc.strerror}") from None
        self.payload = payload

    def collect(self) -> tuple[int, bytes, bytes]:
        out, err = self.proc.communicate(self.payload)
        return self.proc.returncode, out, err


def widen_pipe(fd: int) -> int:
    """Ask Linux for a 1 MiB pipe: git then blocks, and wakes us, far less often. Returns
    the bytes the pipe now holds (0 where that is not known)."""
    try:
        import fcntl

        return fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), CHUNK)
    except (ImportError, OSError):
        return 0  # not Linux, or over /proc/sys/fs/pipe-max-size: the default pipe works too


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
