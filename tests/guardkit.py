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
    return remote.refs()


def clone_pair(tmp_path: Path, *init_args: str) -> tuple[Repo, Repo]:
    """A work repository with one small commit and an empty bare remote called origin."""
    remote = bare(tmp_path / "remote.git", *init_args)
    work = Repo.init(tmp_path / "work", *init_args)
    work.git("remote", "add", "origin", str(remote.path))
    work.write("README.md", "hello\n")
    work.commit("initial")
    return work, remote


def add_then_delete(work: Repo, rel: str = "data/cache.db", size: int = 101 * MiB, seed: int = 1,
                    no_verify: bool = False) -> str:
    """Commit a big file, then a commit that deletes it: HEAD is clean, history is not.
    With ``no_verify`` the commit hooks never see it: only a push-time check can catch it."""
    work.big(rel, size, seed=seed)
    added = work.commit(f"add {rel}", no_verify=no_verify)
    work.git("rm", "-q", "--", rel)
    work.commit(f"remove {rel}", no_verify=no_verify)
    return added


def partial_clone(src: Repo, target: Path) -> Repo:
    """A blob-less clone of ``src``: any blob it lacks would be fetched on first read, which
    the guard must never cause."""
    src.git("config", "uploadpack.allowFilter", "true")
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", f"file://{src.path}", str(target)], check=True)
    return Repo(target)


def partial_clone_missing_a_dropped_blob(tmp_path: Path) -> Repo:
    """A partial clone whose history holds a 3 MiB blob, deleted again, that it never fetched."""
    src = Repo.init(tmp_path / "src")
    src.write("README.md")
    add_then_delete(src, "old.bin", 3 * MiB)
    return partial_clone(src, tmp_path / "clone")


def without_labhooks_on_path() -> dict:
    """An environment whose PATH finds no labhooks, as on a machine without it."""
    return {"PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                    if not os.path.isfile(os.path.join(p, "labhooks-check-large")))}


def install_hook_without_labhooks(repo: Repo) -> dict:
    """Install the pre-push hook pointed at a Python that does not exist and return an
    environment without labhooks on PATH: the hook is left with what git alone can prove."""
    from labhooks import install_hooks

    install_hooks.install(repo.path, python=str(repo.path.parent / "gone/python"))
    return without_labhooks_on_path()


def precommit(repo: Repo, home: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    """Real ``pre-commit ARGS`` in ``repo``, its environments kept under ``home``."""
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo.path, capture_output=True,
                          text=True, check=check, env={**os.environ, "PRE_COMMIT_HOME": str(home)})


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
