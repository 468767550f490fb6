from pathlib import Path

import click

from labhooks import projects


@click.command("new-project")
@click.argument("template", required=False)
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--name", help="Project name; the Python package name is derived from it.")
@click.option("--author", help="Author (default: git config user.name).")
@click.option("--list", "list_only", is_flag=True, help="List the starter projects and exit.")
@click.option("--dry-run", is_flag=True, help="List what would be written and write nothing.")
def command(template, directory, name, author, list_only, dry_run):
    """Start a runnable ML starter project: TEMPLATE into a new DIRECTORY."""
    if list_only:
        for template_name, description in projects.available():
            click.echo(f"{template_name:16} {description}")
        return 0
    if not template or directory is None:
        raise click.UsageError("give TEMPLATE and DIRECTORY (see --list for templates)")
    result = projects.new_project(template, directory, name=name, author=author, dry_run=dry_run)
    verb = "would write" if dry_run else "wrote"
    for rel in result.files:
        click.echo(f"  {verb} {result.target / rel}")
    if not dry_run:
        click.echo(f"Created {template} project in {result.target} ({len(result.files)} files).")
        click.echo(f"Next: cd {result.target} && see README.md to install and run its tests.")
    return 0
