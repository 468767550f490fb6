"""Where a scaffold's files go in git: a new repository on ``main`` with one first
commit, or, inside an existing work tree, staged there (never a nested repository).

Every scaffold calls :func:`plan` before it writes a file, so a missing identity or a
target inside a ``.git`` folder is refused with nothing written, and :func:`record`
after, undoing the render if git still fails. ``main`` is fixed rather than taken from
``init.defaultBranch``: the generated workflows build and publish from ``main``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from labhooks.errors import LabhooksError
from labhooks.git.process import git_output, run_git
from labhooks.scaffold.render import nearest_folder, remove_new_folder

BRANCH = "main"


@dataclass
class Repository:
    # "created": a new repository with one commit; "inside": staged in the enclosing
    # repository ``root``; "skipped": the user asked for no git
    state: str
    root: Path | None = None
    branch: str | None = None
    commit: str | None = None

    def summary(self, target: Path, message: str) -> list[str]:
        """What happened in git, for the user; inside a repository, the command that
        finishes the job (pasteable for every folder name and message)."""
        if self.state == "created" and self.commit:
            return [f"git: new repository on branch {self.branch}, first commit {self.commit[:12]}."]
        if self.state == "inside":
            return [
                f"git: inside the repository {self.root}: the files are staged, not committed "
                "(no repository nested in it).",
                f"Next: cd {shlex.quote(str(target))} && git commit -m {shlex.quote(message)}",
            ]
        return []


def enclosing_repository(target: Path) -> Path | None:
    """The work tree that ``target`` would land in, if any; refuses a .git folder."""
    where = nearest_folder(target)
    proc = run_git(["rev-parse", "--is-inside-git-dir", "--show-toplevel"], where, check=False)
    if proc.returncode != 0:
        # Not a repository, or only a bare one / a .git folder without a work tree.
        inside_git_dir = run_git(["rev-parse", "--is-inside-git-dir"], where, check=False)
        if inside_git_dir.returncode == 0 and inside_git_dir.stdout.strip() == "true":
            raise LabhooksError(f"{target} is inside a git metadata folder: choose another place")
        return None
    lines = proc.stdout.split("\n")
    if lines[0].strip() == "true":
        raise LabhooksError(f"{target} is inside a git metadata folder: choose another place")
    return Path(lines[1].strip()) if len(lines) > 1 and lines[1].strip() else None


def _require_identity(where: Path) -> None:
    """Fail before writing anything if ``git commit`` would not know who commits."""
    for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        if run_git(["var", ident], where, check=False).returncode != 0:
            raise LabhooksError(
                "git does not know who you are, so it cannot make the first commit: run "
                "git config --global user.name 'Your Name' and "
                "git config --global user.email you@example.org, or pass --no-git"
            )


def plan(target: Path, *, git: bool = True) -> Repository:
    """What :func:`record` will do for ``target``; refuses what would fail, writing nothing."""
    if not git:
        return Repository("skipped")
    enclosing = enclosing_repository(target)
    if enclosing is not None:
        return Repository("inside", root=enclosing)
    _require_identity(nearest_folder(target))
    return Repository("created", branch=BRANCH)


def record(repository: Repository, target: Path, files: list[Path], message: str,
           created: list[Path]) -> Repository:
    """Commit (or stage) exactly ``files``; on failure the render is undone and one line says so.

    ``created`` is :func:`labhooks.scaffold.render.missing_folders` of ``target``, taken
    before rendering.
    """
    if repository.state == "skipped":
        return repository
    # Exactly the rendered files, even ones a personal global gitignore would hide.
    paths = [p.as_posix() for p in files]
    try:
        if repository.state == "inside":
            run_git(["add", "--force", "--", *paths], target)
            return repository
        run_git(["init", "--quiet", f"--initial-branch={repository.branch}", "."], target)
        run_git(["add", "--force", "--", *paths], target)
        run_git(["commit", "--quiet", "-m", message], target)
        repository.commit = git_output(["rev-parse", "HEAD"], target)
        repository.root = target.resolve()
        return repository
    except BaseException as exc:
        remove_new_folder(target, created)
        if isinstance(exc, LabhooksError):
            raise LabhooksError(f"{exc.message}; nothing was left in {target}", exc.exit_code) from None
        raise
