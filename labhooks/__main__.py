"""The console scripts ``labhooks``, ``labhooks-check-large`` and ``labhooks-check-book``,
and ``python -m labhooks``: each ends in :func:`labhooks.errors.run`.

``check-large`` runs on every commit and push and owns its own argument parser, so it
goes straight to the guard; every other command goes through the click application
in :mod:`labhooks.cli`, whose import alone would cost the guard a good part of its
start-up.
"""

from __future__ import annotations

import sys

from labhooks.errors import LabhooksError, run


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["check-large"]:
        return check_large(args[1:])
    # scan --max is often answered by the store listing alone: git lists while click
    # and the scan's modules are imported
    listing = _early_store_listing(args[1:], "--max") if args[:1] == ["scan"] else None
    try:
        from labhooks import cli

        return run(lambda: cli.main(args, obj={"store_listing": listing}))
    finally:
        if listing is not None:
            listing.close()


def check_large(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    # --all is answered almost wholly by the store listing: git lists while the guard
    # and its option parser are imported
    listing = _early_store_listing(args, "--all")
    try:
        from labhooks.guard.main import main as guard

        return guard(args, store_listing=listing)
    finally:
        if listing is not None:
            listing.close()


def check_book(argv: list[str] | None = None) -> int:
    from labhooks.book.check import main as check_book_main

    return check_book_main(sys.argv[1:] if argv is None else list(argv))


def _early_store_listing(args: list[str], option: str):
    """A sizes-only listing of the object store, started now when ``option`` is given.

    The command itself decides whether to use it; one the options turn out not to need
    is simply dropped.
    """
    if not any(arg == option or arg.startswith(option + "=") for arg in args):
        return None
    from labhooks.git.store import StoreListing

    try:
        return StoreListing()
    except LabhooksError:
        return None  # git is missing: the guard says so in its own words


if __name__ == "__main__":
    sys.exit(main())
