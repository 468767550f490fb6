"""The console scripts ``labhooks`` and ``labhooks-check-large``, and ``python -m labhooks``.

``check-large`` runs on every commit and push and owns its own argument parser, so it
goes straight to the guard; every other command goes through the click application
in :mod:`labhooks.cli`, whose import alone would cost the guard a good part of its
start-up.
"""

from __future__ import annotations

import sys

from labhooks.errors import LabhooksError


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["check-large"]:
        return check_large(args[1:])
    from labhooks import cli

    return cli.main(args)


def check_large(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    listing = _early_store_listing(args)
    try:
        from labhooks import guard

        return guard.main(args, store_listing=listing)
    finally:
        if listing is not None:
            listing.close()


def _early_store_listing(args: list[str]):
    # --all is answered almost wholly by one listing of the object store: start git on
    # it before the guard and its option parser are imported, so the two overlap; a
    # listing the options turn out not to need is simply dropped.
    if "--all" not in args:
        return None
    from labhooks import plumbing

    try:
        return plumbing.StoreListing()
    except LabhooksError:
        return None  # git is missing: the guard says so in its own words


if __name__ == "__main__":
    sys.exit(main())
