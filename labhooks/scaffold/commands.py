"""The scaffolds' commands: new-project and new-paper."""

import shlex
from pathlib import Path

import click

from labhooks.scaffold import paper, projects


def echo_written(result, dry_run: bool, created: str) -> None:
    """The one report of new-book, new-paper and new-project: every file written (or that
    would be), then, when written, ``created`` and what happened in git."""
    verb = "would write" if dry_run else "wrote"
    for rel in result.files:
        click.echo(f"  {verb} {result.target / rel}")
    if not dry_run:
        click.echo(created)
        for line in result.git.summary(result.target, result.message):
            click.echo(line)


class _ListsTemplates(click.Command):
    """new-project's --help ends with the starter projects it can make."""

    def format_epilog(self, ctx, formatter):
        with formatter.section("Templates"):
            formatter.write_dl(projects.available())


@click.command("new-project", cls=_ListsTemplates)
@click.argument("template", required=False)
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--name", help="Project name; the Python package name is derived from it.")
@click.option("--author", help="Author (default: git config user.name).")
@click.option("--list", "list_only", is_flag=True, help="List the starter projects and exit.")
@click.option("--no-git", is_flag=True, help="Do not create a git repository.")
@click.option("--dry-run", is_flag=True, help="List what would be written and write nothing.")
def new_project(template, directory, name, author, list_only, no_git, dry_run):
    """Start a runnable ML starter project: TEMPLATE into a new DIRECTORY."""
    if list_only:
        for template_name, description in projects.available():
            click.echo(f"{template_name:16} {description}")
        return 0
    if not template or directory is None:
        raise click.UsageError("give TEMPLATE and DIRECTORY (see --list for templates)")
    result = projects.new_project(template, directory, name=name, author=author,
                                  git=not no_git, dry_run=dry_run)
    echo_written(result, dry_run, f"Created {template} project in {result.target} ({len(result.files)} files).")
    if not dry_run:
        click.echo(f"Then: cd {shlex.quote(str(result.target))} and follow README.md "
                   "to install and run its tests.")
    return 0


@click.command("new-paper")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", help="Paper title (default: the folder name).")
@click.option("--author", help="Author (default: git config user.name).")
@click.option("--github", metavar="OWNER/REPO",
              help="Set origin to https://github.com/OWNER/REPO.git (nothing is pushed).")
@click.option("--no-git", is_flag=True, help="Do not create a git repository.")
@click.option("--dry-run", is_flag=True, help="List what would be written and write nothing.")
def new_paper(directory, title, author, github, no_git, dry_run):
    """Start a showyourwork reproducible paper in a new DIRECTORY, offline."""
    result = paper.new_paper(
        directory, title=title, author=author, github=github, git=not no_git, dry_run=dry_run
    )
    echo_written(result, dry_run, f"Created showyourwork paper in {result.target} ({len(result.files)} files).")
    if dry_run:
        return 0
    if result.remote:
        click.echo(f"git: origin is {result.remote} (nothing pushed).")
    click.echo(f"Then: cd {shlex.quote(str(result.target))} and follow README.md to install and build the paper.")
    return 0
