"""Helpers shared by the guard's tests: run the real CLI, push for real, set up remotes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gitutil import MiB, Repo, bare  # noqa: F401  (re-exported for the test modules)


def cli(cwd: Path, *args: str, input: bytes | str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``labhooks check-large ARGS`` as a user types it, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "labhooks", "check-large", *args],
        cwd=cwd, input=input.encode() if isinstance(input, str) else input, capture_output=True,
        env={**os.environ, **(env or {})},
    )


def labhooks(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "labhooks", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )


def push(repo: Repo, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """A real ``git push``; hooks run as they would for a user."""
    return subprocess.run(
        ["git", "push", "--porcelain", *args], cwd=repo.path, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )


def text(proc: subprocess.CompletedProcess) -> str:
    out, err = proc.stdout, proc.stderr
    if isinstance(out, bytes):
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return out + err


def remote_refs(remote: Repo) -> dict[str, str]:
    out = remote.git("for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ") for line in out.splitlines() if line)


def clone_pair(tmp_path: Path, *init_args: str) -> tuple[Repo, Repo]:
    """A work repository with one small commit and an empty bare remote called origin."""
    remote = bare(tmp_path / "remote.git", *init_args)
    work = Repo.init(tmp_path / "work", *init_args)
    work.git("remote", "add", "origin", str(remote.path))
    work.write("README.md", "hello\n")
    work.commit("initial")
    return work, remote


def add_then_delete(work: Repo, rel: str = "data/cache.db", size: int = 101 * MiB, seed: int = 1) -> str:
    """Commit a big file, then a commit that deletes it: HEAD is clean, history is not."""
    work.big(rel, size, seed=seed)
    added = work.commit(f"add {rel}")
    work.git("rm", "-q", "--", rel)
    work.commit(f"remove {rel}")
    return added


def snapshot_worktree(source: Path, target: Path) -> None:
    """Copy the files git would see in ``source`` (tracked and untracked, not ignored)."""
    import shutil

    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source, capture_output=True, check=True,
    ).stdout
    for rel in filter(None, listing.decode("utf-8", "surrogateescape").split("\0")):
        src = source / rel
        if not src.is_file():
            continue  # deleted in the working tree but still in the index
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)
