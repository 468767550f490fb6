"""``labhooks clean-large``."""

from pathlib import Path

import click

from labhooks.clean.backends import BACKENDS


@click.command("clean-large")
@click.option("--max", "max_size", required=True, metavar="SIZE",
              help="Strip every blob of SIZE or more (e.g. 100M; K/M/G are powers of 1024).")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto",
              show_default=True, help="auto: bfg when a jar or launcher is found, else filter-repo.")
@click.option("--bfg-jar", metavar="PATH", help="BFG jar (default: $LABHOOKS_BFG_JAR, or bfg on PATH).")
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (nor before --push).")
@click.option("--backup-dir", type=click.Path(path_type=Path), metavar="DIR",
              help="Where the backup bundle goes (default: beside the repository).")
@click.option("--no-backup", is_flag=True, help="Skip the git bundle backup.")
@click.option("--protect-head", is_flag=True, help="bfg only: keep HEAD's tree as it is (BFG's default).")
@click.option("--keep-placeholders", is_flag=True,
              help="bfg only: keep BFG's <name>.REMOVED.git-id files where blobs were stripped.")
@click.option("--push", is_flag=True,
              help="Then push the rewritten branches and tags each remote has, leased on the replaced ids.")
@click.option("--wide", is_flag=True,
              help="On a terminal too, show the plan's paths and ids whole (a pipe always gets them whole).")
def command(max_size, backend, bfg_jar, dry_run, yes, backup_dir, no_backup, protect_head, keep_placeholders, push,
            wide):
    """Strip blobs over SIZE from every ref, with a verified backup first."""
    from labhooks.clean import cleaner

    options = cleaner.Options(max_size, backend, bfg_jar, dry_run, yes, backup_dir, no_backup, protect_head,
                              keep_placeholders, push, wide)
    result = cleaner.run(options, out=click.echo, confirm=lambda q: click.confirm(q, default=False))
    return result.exit_code
