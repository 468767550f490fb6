"""Refusals that must happen before anything is written: each is one line and exit 2."""

from __future__ import annotations

from pathlib import Path

from labhooks.errors import LabhooksError
from labhooks.git.process import run_git
from labhooks.git.repo import git_dir, repo_root
from labhooks.sizes import format_size, parse_size

# marker in the git dir -> what the user is in the middle of
_IN_PROGRESS = (
    ("rebase-merge", "a rebase"),
    ("rebase-apply", "a rebase or git am"),
    ("MERGE_HEAD", "a merge"),
    ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ("REVERT_HEAD", "a revert"),
    ("BISECT_START", "a bisect"),
    ("BISECT_LOG", "a bisect"),
)


def parse_max(text: str) -> int:
    limit = parse_size(text)
    if limit <= 0:
        raise LabhooksError(f"--max must be more than 0 bytes, got {text!r}", 2)
    return limit


def find_repository(cwd=None) -> tuple[Path, Path]:
    """(work tree root, git dir); a bare repository or a non-repository is refused."""
    root = repo_root(cwd)
    return root, git_dir(root)


def ensure_nothing_in_progress(gitdir: Path) -> None:
    for marker, what in _IN_PROGRESS:
        if (gitdir / marker).exists():
            raise LabhooksError(
                f"{what} is in progress in {gitdir.parent}: finish or abort it before rewriting history", 2
            )


def ensure_complete_history(root: Path) -> None:
    """A shallow clone's missing ancestors cannot be rewritten, only grafted over: refuse."""
    shallow = run_git(["rev-parse", "--is-shallow-repository"], root, check=False).stdout.strip()
    if shallow == "true":
        raise LabhooksError(f"{root} is a shallow clone: fetch the whole history first (git fetch --unshallow)", 2)


def ensure_on_branch(root: Path) -> None:
    """The rewriters follow refs; a detached HEAD would keep pointing at the old history."""
    branch = run_git(["symbolic-ref", "-q", "HEAD"], root, check=False)
    if branch.returncode != 0:
        raise LabhooksError(f"HEAD is detached in {root}: check out a branch first (git switch BRANCH)", 2)


def changed_tracked(root: Path, *status_args: str) -> list[str]:
    """Tracked paths that differ from the index or HEAD (untracked files are not looked at)."""
    out = run_git(["status", "--porcelain=v1", "-z", "--untracked-files=no", *status_args], root).stdout
    return [entry[3:] for entry in out.split("\0") if len(entry) > 3 and entry[2] == " "]


def ensure_clean(root: Path) -> None:
    """Refuse staged or unstaged changes to tracked files; untracked files are left alone."""
    run_git(["update-index", "-q", "--refresh"], root, check=False)
    changed = changed_tracked(root, "--ignore-submodules=none")
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        raise LabhooksError(
            f"uncommitted or staged changes in {root} ({shown}): commit or stash them first", 2
        )


def describe_limit(limit: int) -> str:
    return f"{format_size(limit)} ({limit:,} bytes)"


def object_format(root: Path) -> str:
    """'sha1' or 'sha256': how the repository names its objects."""
    return run_git(["rev-parse", "--show-object-format"], root, check=False).stdout.strip() or "sha1"
