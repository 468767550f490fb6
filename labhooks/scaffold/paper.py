"""A showyourwork paper project in one offline step: render, then one first commit.

Rendering and the first commit are one transaction: if git cannot make the commit
(no identity, a failing global hook, a signing error), the rendered folder is taken
away again and nothing is left half-made. Everything git needs is checked before a
single file is written, so the usual failures never get that far.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from labhooks.errors import LabhooksError
from labhooks.git.process import git_output, run_git
from labhooks.scaffold.context import base_context
from labhooks.scaffold.render import (
    missing_folders,
    nearest_folder,
    remove_new_folder,
    render,
    validate_name,
)
from labhooks.text import single_line

TEMPLATE = "showyourwork"
# showyourwork's last release (2023-08); showyourwork.yml and the GitHub action pin it.
SHOWYOURWORK_VERSION = "0.4.3"
DEFAULT_BRANCH = "main"

# GitHub's rules: owner 1-39 of [A-Za-z0-9-], no leading/trailing/double hyphen;
# repository 1-100 of [A-Za-z0-9._-].
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


@dataclass
class PaperResult:
    target: Path
    files: list[Path] = field(default_factory=list)
    # "created": new repository with one commit; "inside": left to the enclosing
    # repository; "skipped": --no-git
    git: str = "skipped"
    enclosing_repo: Path | None = None
    commit: str | None = None
    branch: str | None = None
    remote: str | None = None


def parse_github(slug: str) -> tuple[str, str]:
    """``OWNER/REPO`` (a trailing ``.git`` is allowed) -> (owner, repo); one line if not."""
    parts = slug.strip().split("/") if isinstance(slug, str) else []
    if len(parts) != 2 or slug != slug.strip():
        raise LabhooksError(f"invalid --github {slug!r}: expected OWNER/REPO, e.g. my-lab/my-paper")
    owner, repo = parts
    if repo.endswith(".git"):
        repo = repo[: -len(".git")]
    if not _OWNER.match(owner):
        raise LabhooksError(
            f"invalid GitHub owner {owner!r}: letters, digits and single hyphens, at most 39"
        )
    if not _REPO.match(repo) or repo in (".", ".."):
        raise LabhooksError(
            f"invalid GitHub repository name {repo!r}: letters, digits, '.', '-' and '_', at most 100"
        )
    return owner, repo


def github_remote_url(owner: str, repo: str) -> str:
    return f"https://github.com/{owner}/{repo}.git"


def latex_escape(text: str) -> str:
    """Plain text -> LaTeX that prints it, so a title like ``50% & more`` compiles."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)




def paper_context(title: str, author: str | None, github: str | None) -> dict:
    context = base_context(author=author)
    single_line(context["author"], "author")
    context.update(
        title=title,
        title_tex=latex_escape(title),
        author_tex=latex_escape(context["author"]),
        github=github or "",
        showyourwork_version=SHOWYOURWORK_VERSION,
    )
    return context


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


def _initial_branch(where: Path) -> str:
    configured = run_git(["config", "--get", "init.defaultBranch"], where, check=False)
    return configured.stdout.strip() or DEFAULT_BRANCH


def _first_commit(result: PaperResult, title: str, branch: str, remote: str | None) -> None:
    target = result.target
    run_git(["init", "--quiet", f"--initial-branch={branch}", "."], target)
    # Exactly the rendered files, even ones a personal global gitignore would hide.
    run_git(["add", "--force", "--", *(p.as_posix() for p in result.files)], target)
    run_git(["commit", "--quiet", "-m", f"Start paper: {title}\n\nScaffolded by labhooks new-paper."], target)
    result.commit = git_output(["rev-parse", "HEAD"], target)
    result.branch = branch
    if remote:
        run_git(["remote", "add", "origin", remote], target)
        result.remote = remote


def new_paper(
    target: Path | str,
    *,
    title: str | None = None,
    author: str | None = None,
    github: str | None = None,
    git: bool = True,
    dry_run: bool = False,
) -> PaperResult:
    target = Path(target)
    validate_name(target.name, what="paper folder name")
    title = single_line(title if title is not None else target.name, "title")
    if author is not None:
        single_line(author, "author")
    remote = None
    slug = None
    if github is not None:
        if not git:
            raise LabhooksError("--github sets the remote of the new repository: it cannot go with --no-git")
        owner, repo = parse_github(github)
        slug = f"{owner}/{repo}"
        remote = github_remote_url(owner, repo)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise LabhooksError(f"{target} exists and is not empty: choose a new folder")

    result = PaperResult(target=target)
    branch = None
    if git:
        enclosing = enclosing_repository(target)
        if enclosing is not None:
            if remote:
                raise LabhooksError(
                    f"{target} would be inside the git repository {enclosing}: --github needs a "
                    "new repository; choose a folder outside it"
                )
            result.git = "inside"
            result.enclosing_repo = enclosing
        else:
            where = nearest_folder(target)
            _require_identity(where)
            branch = _initial_branch(where)
            result.git = "created"

    context = paper_context(title, author, slug)
    created = missing_folders(target)
    rendered = render(TEMPLATE, target, context, dry_run=dry_run, allow_existing_dir=False)
    result.files = rendered.files
    if dry_run or result.git != "created":
        return result
    try:
        _first_commit(result, title, branch, remote)
    except BaseException as exc:
        remove_new_folder(target, created)
        if isinstance(exc, LabhooksError):
            raise LabhooksError(f"{exc.message}; nothing was left in {target}", exc.exit_code) from None
        raise
    return result
