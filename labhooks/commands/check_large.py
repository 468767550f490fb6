"""``labhooks check-large``: a thin door to :mod:`labhooks.guard`, which owns the options."""

import click


@click.command(
    "check-large",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def command(ctx):
    """Refuse staged or pushed blobs over a size limit (see --help)."""
    from labhooks import guard

    ctx.exit(guard.main(list(ctx.args)))
