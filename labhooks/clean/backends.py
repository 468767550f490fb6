"""The history-rewriting tools: finding them, their exact command lines, running them.

Each backend is judged by the repository it leaves behind (see verify.py), never by
its exit status alone: BFG exits 0 after refusing to work, for one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from labhooks.errors import LabhooksError
from labhooks.git.process import git_env, git_executable, run_git
from labhooks.git.repo import git_dir
from labhooks.sizes import bigger_than_arg

BACKENDS = ("auto", "bfg", "filter-repo", "lfs")
BFG_JAR_ENV = "LABHOOKS_BFG_JAR"


@dataclass
class Backend:
    name: str
    launcher: list[str]  # the program (and java -jar JAR) before the backend's own options
    strips: bool = True  # False: big files become LFS pointers instead of disappearing

    def command(self, max_bytes: int, protect_head: bool = False, gitdir: Path | None = None) -> list[str]:
        if self.name == "bfg":
            cmd = [*self.launcher, "--strip-blobs-bigger-than", bigger_than_arg(max_bytes)]
            if not protect_head:
                cmd.append("--no-blob-protection")
            if gitdir is not None:
                cmd.append(str(gitdir))  # BFG's <repo>: named, rather than trusting its working directory
            return cmd
        if self.name == "filter-repo":
            # --partial keeps filter-repo from deleting the origin remote, from turning
            # refs/remotes/origin/* into local branches and from its own gc; every ref is
            # still rewritten (it defaults to --refs --all). Nothing is pruned: a commit
            # that only added a big file stays, emptied, so every other commit keeps its place.
            return [
                *self.launcher, "--strip-blobs-bigger-than", bigger_than_arg(max_bytes),
                "--force", "--partial", "--prune-empty", "never", "--prune-degenerate", "never",
            ]
        if self.name == "lfs":
            # git-lfs reads --above as "at least", labhooks' own rule, in plain bytes ("b").
            return [*self.launcher, "migrate", "import", "--everything", "--skip-fetch", "--yes",
                    f"--above={max_bytes}b"]
        raise AssertionError(self.name)

    def prepare(self, root: Path) -> None:
        if self.name == "bfg":
            # BFG only reads packed objects: a loose big blob would survive unseen.
            run_git(["repack", "-a", "-d", "-q"], root)
        elif self.name == "filter-repo":
            # A leftover marker from an earlier run makes filter-repo treat this run as a
            # continuation (and older than a day, stop to ask on stdin).
            marker = git_dir(root) / "filter-repo" / "already_ran"
            marker.unlink(missing_ok=True)

    def run(self, root: Path, gitdir: Path, max_bytes: int, protect_head: bool = False) -> int:
        return run_showing_output(self.command(max_bytes, protect_head, gitdir), root)


def run_showing_output(cmd: list[str], cwd: Path) -> int:
    """Run a tool with its output on our stderr: stdout is kept for the report."""
    try:
        err = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        err = None  # a stderr with no file behind it: pass the output on by hand
    proc = subprocess.run(
        cmd, cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=err if err is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT if err is None else None, env=git_env(),
    )
    if err is None and proc.stdout:
        sys.stderr.write(proc.stdout.decode("utf-8", "replace"))
    return proc.returncode


def find_filter_repo() -> list[str] | None:
    """git-filter-repo on PATH, or beside this Python (a venv whose bin is not on PATH)."""
    found = shutil.which("git-filter-repo")
    if found:
        return [found]
    beside = Path(sys.executable).parent / "git-filter-repo"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    return None


def find_bfg(bfg_jar: str | None, environ=None) -> list[str] | None:
    """``java -jar JAR`` from --bfg-jar or LABHOOKS_BFG_JAR, else a ``bfg`` launcher on PATH.

    A jar that was named but is unusable is an error, not a reason to fall back silently.
    """
    environ = os.environ if environ is None else environ
    jar, source = (bfg_jar, "--bfg-jar") if bfg_jar else (environ.get(BFG_JAR_ENV) or None, BFG_JAR_ENV)
    if jar:
        jar_path = Path(jar).expanduser()
        if not jar_path.is_file():
            raise LabhooksError(f"BFG jar not found: {jar} (from {source})", 2)
        java = shutil.which("java")
        if not java:
            raise LabhooksError("java is not installed or not on PATH: BFG needs a Java runtime", 2)
        return [java, "-jar", str(jar_path.resolve())]
    launcher = shutil.which("bfg")
    return [launcher] if launcher else None


def lfs_available() -> bool:
    return run_git(["lfs", "version"], check=False).returncode == 0


def resolve(name: str, bfg_jar: str | None = None, environ=None) -> Backend:
    """The backend to use; refuses (exit 2) when the chosen one is not installed."""
    if name not in BACKENDS:
        raise LabhooksError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}", 2)
    if name in ("auto", "bfg"):
        bfg = find_bfg(bfg_jar, environ)
        if bfg:
            return Backend("bfg", bfg)
        if name == "bfg":
            raise LabhooksError(
                f"BFG not found: pass --bfg-jar PATH, set {BFG_JAR_ENV}, or put a bfg launcher on PATH", 2
            )
    elif bfg_jar:
        raise LabhooksError(f"--bfg-jar only applies to --backend bfg or auto, not {name}", 2)
    if name in ("auto", "filter-repo"):
        filter_repo = find_filter_repo()
        if not filter_repo:
            raise LabhooksError("git-filter-repo is not installed: pip install git-filter-repo", 2)
        return Backend("filter-repo", filter_repo)
    if not lfs_available():
        raise LabhooksError("git-lfs is not installed: install git-lfs (e.g. apt-get install git-lfs)", 2)
    return Backend("lfs", [git_executable(), "lfs"], strips=False)
