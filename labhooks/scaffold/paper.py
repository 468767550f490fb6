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
from labhooks.git.process import run_git
from labhooks.scaffold import repository
from labhooks.scaffold.context import base_context
from labhooks.scaffold.render import missing_folders, render, validate_name
from labhooks.text import single_line

TEMPLATE = "showyourwork"
# showyourwork's last release (2023-08); showyourwork.yml and the GitHub action pin it.
SHOWYOURWORK_VERSION = "0.4.3"

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
    git: repository.Repository | None = None
    remote: str | None = None
    message: str = ""  # the first commit's subject


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


def _add_origin(target: Path, remote: str) -> None:
    try:
        run_git(["remote", "add", "origin", remote], target)
    except LabhooksError as exc:
        raise LabhooksError(f"{exc.message} in {target}: add it with git remote add origin {remote}") from None


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

    where = repository.plan(target, git=git)
    if where.state == "inside" and remote:
        raise LabhooksError(
            f"{target} would be inside the git repository {where.root}: --github needs a "
            "new repository; choose a folder outside it"
        )
    context = paper_context(title, author, slug)
    created = missing_folders(target)
    rendered = render(TEMPLATE, target, context, dry_run=dry_run, allow_existing_dir=False)
    result = PaperResult(target=target, files=rendered.files, git=where,
                         message=f"Start paper: {title}")
    if dry_run:
        return result
    repository.record(where, target, rendered.files,
                      f"{result.message}\n\nScaffolded by labhooks new-paper.", created)
    if remote and where.state == "created":
        _add_origin(target, remote)
        result.remote = remote
    return result
