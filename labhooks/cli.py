"""The ``labhooks`` command: parse, call one function, print, map errors to exit codes.

Sub-commands are imported only when they run, so the guard that runs on every commit
never pays for polars, GitPython or jinja2.
"""

from __future__ import annotations

import importlib
import sys

import click

from labhooks import __version__
from labhooks.errors import LabhooksError, exit_code_for

# command name -> "module:attribute" of a click command
COMMANDS = {
    "check-large": "labhooks.guard.commands:check_large",
    "install-hooks": "labhooks.guard.commands:install_hooks",
    "scan": "labhooks.scan.command:command",
    "clean-large": "labhooks.clean.command:command",
    "new-minute": "labhooks.book.commands:new_minute",
    "new-book": "labhooks.book.commands:new_book",
    "check-book": "labhooks.book.commands:check_book",
    "new-paper": "labhooks.scaffold.commands:new_paper",
    "new-project": "labhooks.scaffold.commands:new_project",
}

SHORT_HELP = {
    "check-large": "Refuse staged or pushed blobs over a size limit.",
    "install-hooks": "Install the guard as a git pre-push hook (chains existing hooks).",
    "scan": "Report where the weight in a repository's history is.",
    "clean-large": "Strip blobs over a size from history, safely, with a backup.",
    "new-minute": "Add a tool or paper minute to the lab's Quarto book.",
    "new-book": "Start a new minutes book (Quarto).",
    "check-book": "Check a minutes book for the mistakes Quarto will not catch.",
    "new-paper": "Start a showyourwork reproducible-paper project, offline.",
    "new-project": "Start a runnable ML starter project from a template.",
}


class _OutputFailed(Exception):
    """An OSError carried past click, which would turn a closed pipe into exit 1."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("labhooks"):
                return None
            raise
        return getattr(module, attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, SHORT_HELP.get(name, "")) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def make_context(self, *args, **kwargs):
        try:  # --help and --version print while the group's options are parsed
            return super().make_context(*args, **kwargs)
        except OSError as exc:
            raise _OutputFailed(exc) from None

    def invoke(self, ctx):
        # Mapped here, before click turns an interrupt into a bare Abort and a closed pipe
        # into exit 1, so every command fails the same way (labhooks.errors).
        try:
            rv = super().invoke(ctx)
            sys.stdout.flush()
            return rv
        except (LabhooksError, OSError, KeyboardInterrupt) as exc:
            code = exit_code_for(exc)
            if code is None:
                raise
            ctx.exit(code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="labhooks")
def cli():
    """Repository hygiene and lab scaffolding.

    Guard commits and pushes against oversized files, see where a history's weight is,
    rewrite history safely, and scaffold minutes, papers and starter projects.
    """


def main(argv: list[str] | None = None, obj: dict | None = None) -> int:
    """``obj``: what the entry point hands the commands (``store_listing``: a listing of
    the object store it started early, which it closes)."""
    try:
        rv = cli.main(args=argv, prog_name="labhooks", standalone_mode=False, obj=obj or {})
    except _OutputFailed as exc:
        return exit_code_for(exc.error) or 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # argparse-based hooks (check-large) exit on --help
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except click.UsageError as exc:
        # one line, like every other labhooks error, with where to look next
        where = exc.ctx.command_path if exc.ctx else "labhooks"
        click.echo(f"labhooks: {exc.format_message()} (see '{where} --help')", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"labhooks: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("labhooks: aborted", err=True)
        return 1
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
