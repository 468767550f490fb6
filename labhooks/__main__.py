"""``labhooks`` and ``python -m labhooks``.

``check-large`` runs on every commit and push and owns its own argument parser, so it
goes straight to the guard; every other command goes through the click application
in :mod:`labhooks.cli`, whose import alone would cost the guard a good part of its
start-up.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["check-large"]:
        from labhooks import guard

        return guard.main(args[1:])
    from labhooks import cli

    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
