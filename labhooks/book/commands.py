"""The book's commands: new-minute and new-book scaffold, check-book checks."""

import shlex
from pathlib import Path

import click


@click.command("new-minute")
@click.argument("title")
@click.option("--kind", required=True, help="tool or paper (a templates/minute-<kind> template).")
@click.option("--author", help="Author (default: git config user.name).")
@click.option("--date", "date", metavar="YYYY-MM-DD", help="Date of the minute (default: today).")
@click.option("--slug", help="File name without extension (default: made from TITLE).")
@click.option("--format", "fmt", type=click.Choice(["md", "qmd"]), help="md or qmd (default: paper md, tool qmd).")
@click.option("--citekey", help="BibTeX key cited in a paper minute's title (default: the slug).")
@click.option("--book", "book_dir", type=click.Path(path_type=Path),
              help="The book's root folder (default: found upward).")
@click.option("--dry-run", is_flag=True, help="Say what would be written and write nothing.")
def new_minute(title, kind, author, date, slug, fmt, citekey, book_dir, dry_run):
    """Add a tool or paper minute titled TITLE to the lab's Quarto book."""
    from labhooks.book import minutes

    result = minutes.new_minute(
        title, kind, author=author, date=date, slug=slug, fmt=fmt,
        citekey=citekey, book_dir=book_dir, dry_run=dry_run,
    )
    verb = "would create" if dry_run else "created"
    for rel in result.files:
        click.echo(f"  {verb} {rel.as_posix()}")
    edit = result.edit
    how = "with a new part" if edit.part_created else "as its last chapter"
    lines = ", ".join(str(n) for n, _ in edit.added_lines)
    click.echo(
        f"  {'would add' if dry_run else 'added'} {result.chapter} to part {edit.part!r} of "
        f"{edit.config.name} {how} (line {lines})"
    )
    if dry_run:
        for _, text in edit.added_lines:
            click.echo(f"    + {text}")
        return 0
    folder = result.image_folder
    click.echo(f"Images for this minute go in {folder}/; link them as {folder.split('/')[-1]}/<file>.")
    if result.kind == "paper" and not result.citekey_known:
        click.echo(f"Add the paper's BibTeX entry with key {result.citekey!r} to references.bib "
                   "(check-book reports it until then).")
    click.echo(f"Next: write {result.chapter}, then run 'quarto preview' in {result.root}.")
    return 0


@click.command("new-book")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", help="The book's title (default: Lab minutes).")
@click.option("--author", help="Author (default: git config user.name).")
@click.option("--no-git", is_flag=True, help="Do not create a git repository.")
@click.option("--dry-run", is_flag=True, help="List what would be written and write nothing.")
def new_book(directory, title, author, no_git, dry_run):
    """Start a new Quarto minutes book in DIRECTORY (new or empty)."""
    from labhooks.book import minutes
    from labhooks.scaffold.commands import echo_written

    result = minutes.new_book(directory, title=title, author=author, git=not no_git, dry_run=dry_run)
    echo_written(result, dry_run, f"Created the book in {result.target}.")
    if dry_run:
        return 0
    if result.git.state == "inside":
        click.echo(
            "GitHub only runs workflows from the repository root: move .github/workflows/book.yml "
            "there and give the render/publish steps 'path:'."
        )
    click.echo(f"Then: cd {shlex.quote(str(result.target))} and follow README.md.")
    return 0


@click.command("check-book")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--book", "book_dir", type=click.Path(path_type=Path),
              help="The book's root folder, as for new-minute (same as DIRECTORY).")
@click.option("--staged", is_flag=True, help="Only what a commit would hold: skip untracked files.")
def check_book(directory, book_dir, staged):
    """Check the minutes book at (or above) DIRECTORY, default here; exit 1 on problems."""
    from labhooks.book import check

    folders = [str(p) for p in (directory, book_dir) if p is not None]
    return check.run(folders, staged_only=staged)
