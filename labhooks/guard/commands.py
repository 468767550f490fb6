"""The guard's commands: check-large (its options are the guard's own) and install-hooks."""

import click


@click.command(
    "check-large",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def check_large(ctx):
    """Refuse staged or pushed blobs over a size limit (see --help)."""
    from labhooks.guard.main import main

    ctx.exit(main(list(ctx.args)))


@click.command("install-hooks")
@click.option("--server", is_flag=True,
              help="Install the server-side pre-receive hook (for a bare repository you host).")
@click.option("--chain", "chain_unknown", is_flag=True,
              help="Keep an unrecognised existing hook and run it after the guard.")
@click.option("--uninstall", is_flag=True, help="Remove labhooks' hook and restore the one it chained.")
def install_hooks(server, chain_unknown, uninstall):
    """Install the large-file guard as a git pre-push hook (respects core.hooksPath).

    An existing hook (git-lfs's, pre-commit's) is kept and runs after the guard with the
    same input, so LFS uploads still happen. Limits: git config labhooks.maxsize / labhooks.warnsize.
    """
    from labhooks.guard import install

    if uninstall:
        for change in install.uninstall(server=server):
            if change.action == "absent":
                click.echo(f"no labhooks {change.name} hook in {change.path.parent}; nothing to remove")
            else:
                click.echo(f"{change.action}: {change.path}")
        return 0
    for change in install.install(server=server, chain_unknown=chain_unknown):
        line = f"{change.action}: {change.path}"
        if change.chained:
            line += f" (runs {change.chained.name} after the guard)"
        click.echo(line)
    return 0
