from pathlib import Path

import click

from labhooks import paper


@click.command("new-paper")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", help="Paper title (default: the folder name).")
@click.option("--author", help="Author (default: git config user.name).")
@click.option("--github", metavar="OWNER/REPO", help="Set origin to https://github.com/OWNER/REPO.git (nothing is pushed).")
@click.option("--no-git", is_flag=True, help="Do not create a git repository.")
@click.option("--dry-run", is_flag=True, help="List what would be written and write nothing.")
def command(directory, title, author, github, no_git, dry_run):
    """Start a showyourwork reproducible paper in a new DIRECTORY, offline."""
    result = paper.new_paper(
        directory, title=title, author=author, github=github, git=not no_git, dry_run=dry_run
    )
    verb = "would write" if dry_run else "wrote"
    for rel in result.files:
        click.echo(f"  {verb} {result.target / rel}")
    if dry_run:
        return 0
    click.echo(f"Created showyourwork paper in {result.target} ({len(result.files)} files).")
    if result.git == "created":
        click.echo(f"git: new repository on branch {result.branch}, first commit {result.commit[:12]}.")
        if result.remote:
            click.echo(f"git: origin is {result.remote} (nothing pushed).")
    elif result.git == "inside":
        click.echo(f"git: inside the repository {result.enclosing_repo}; the files are not committed.")
    click.echo(f"Next: cd {result.target} && pre-commit install, then see README.md to build the paper.")
    return 0
