from __future__ import annotations

import argparse
import sys

from labhooks.errors import EXIT_FINDINGS, LabhooksError, run
from labhooks.git.process import run_git
from labhooks.git.store import StoreListing
from labhooks.guard.checks import check_all, check_pre_receive, check_push, check_staged
from labhooks.guard.report import print_report
from labhooks.sizes import SizeError, parse_size

DEFAULT_MAX = "100M"
DEFAULT_WARN = "50M"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, like every other labhooks error
        raise LabhooksError(f"{message} (see labhooks check-large --help)", 2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="labhooks check-large",
        description=(
            "Refuse blobs over --max (GitHub refuses any push holding a blob over 100 MiB, "
            "even one deleted again later) and warn over --warn. Without a mode option, "
            "checks the staged blob of each FILE (or of every staged file)."
        ),
        epilog="Sizes: 100M, 1.5G, 512KiB or plain bytes; K/M/G/T are powers of 1024. "
        "Exit status: 0 clean, 1 blobs over --max, 2 usage or environment error.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="staged files to check (commit mode)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--push", action="store_true",
        help="check every blob of every commit being pushed: reads a pre-push hook's stdin, "
        "or pre-commit's PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF "
        "(PRE_COMMIT_LOCAL_BRANCH + PRE_COMMIT_REMOTE_NAME on a first push)",
    )
    mode.add_argument("--all", action="store_true", help="check every blob reachable from any ref")
    mode.add_argument(
        "--pre-receive", action="store_true",
        help="server-side hook mode: read '<old> <new> <ref>' lines on stdin and check "
        "every blob the push brings",
    )
    parser.add_argument(
        "--remote", metavar="NAME",
        help="push mode: the remote being pushed to (a pre-push hook's first argument); "
        "its remote-tracking refs count as already pushed",
    )
    parser.add_argument("--max", metavar="SIZE",
                        help=f"refuse blobs of SIZE or more (default: git config labhooks.maxsize, else {DEFAULT_MAX})")
    parser.add_argument("--warn", metavar="SIZE",
                        help="print a warning, exit 0, for blobs of SIZE or more (default: git config "
                        f"labhooks.warnsize, else {DEFAULT_WARN}; 0 turns warnings off)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="allow blobs whose every path matches GLOB (on the full path or the "
                        "file name; '*' crosses '/'); repeatable")
    return parser


def main(argv: list[str] | None = None, *, store_listing: StoreListing | None = None) -> int:
    """``store_listing``: a sizes-only listing of the store that the caller started early,
    for ``--all`` (closed once used; the caller closes it in any case)."""
    return run(lambda: _check(argv, store_listing))


def _check(argv: list[str] | None, store_listing: StoreListing | None) -> int:
    args = build_parser().parse_args(argv)
    max_size, warn_size = limits(args.max, args.warn)
    if args.files and (args.push or args.all or args.pre_receive):
        raise LabhooksError("FILE arguments are for commit mode; leave them out with --push, --all or --pre-receive", 2)
    warn = warn_size if 0 < warn_size < max_size else None
    if args.push:
        report = check_push(max_size, warn, args.exclude, remote=args.remote)
    elif args.all:
        report = check_all(max_size, warn, args.exclude, listing=store_listing)
    elif args.pre_receive:
        report = check_pre_receive(max_size, warn, args.exclude, sys.stdin.buffer.read())
    else:
        report = check_staged(args.files, max_size, warn, args.exclude)
    print_report(report)
    return EXIT_FINDINGS if report.errors else 0


def limits(max_option: str | None, warn_option: str | None) -> tuple[int, int]:
    """(max, warn) in bytes: the options, else ``git config labhooks.maxsize/warnsize``,
    else the defaults; an error names whichever the value came from."""
    configured = _configured_limits() if max_option is None or warn_option is None else {}
    sizes = []
    for option, key, default in (("--max", "labhooks.maxsize", DEFAULT_MAX),
                                 ("--warn", "labhooks.warnsize", DEFAULT_WARN)):
        given = max_option if option == "--max" else warn_option
        if given is not None:
            text, source = given, option
        elif key in configured:
            text, source = configured[key], f"git config {key}"
        else:
            text, source = default, option
        try:
            size = parse_size(text)
        except SizeError as exc:
            raise LabhooksError(f"{source}: {exc.message}") from None
        if option == "--max" and size <= 0:
            raise LabhooksError(f"{source} must be more than 0 bytes, got {text!r}")
        sizes.append(size)
    return sizes[0], sizes[1]


def _configured_limits() -> dict[str, str]:
    """The size settings of the repository we are in (none outside one); the last wins."""
    proc = run_git(["config", "--get-regexp", r"^labhooks\.(max|warn)size$"], check=False)
    settings = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(" ")
        settings[key.lower()] = value.strip()
    return settings


if __name__ == "__main__":
    sys.exit(main())
