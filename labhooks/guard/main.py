from __future__ import annotations

import os
import sys

from labhooks import forges
from labhooks.errors import EXIT_FINDINGS, LabhooksError, run
from labhooks.git.repo import ConfigQuery, config_values
from labhooks.guard.checks import Limits, StagedQuery, check_all, check_pre_receive, check_push, check_staged
from labhooks.guard.notebooks import DEFAULT_NOTEBOOK_WARN, notebook_limits
from labhooks.guard.report import print_report
from labhooks.sizes import SizeError, parse_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    from labhooks.git.store import StoreListing

DEFAULT_MAX = "100M"
DEFAULT_WARN = "50M"
SIZE_KEYS = ("labhooks.maxsize", "labhooks.warnsize")
# a push of this estimated size or more is refused, whatever the forge (0: no such rule);
# for self-hosted forges, whose push limits are their admins' choice
PUSH_LIMIT_KEY = "labhooks.pushlimit"
# what the guard reads from git config: its settings and the remotes' URLs (forge rules)
SETTINGS_PATTERN = (r"^(labhooks\.(maxsize|warnsize|pushlimit|forge|baseline|notebookwarn|notebookmax)"
                    r"|remote\..*\.(url|pushurl))$")


# Every option of check-large, once: (option, metavar or None for a flag, help). The
# modes exclude one another; --exclude may be given again and again.
_MODES = (
    ("--push", None,
     "check every blob of every commit being pushed: reads a pre-push hook's stdin, "
     "or pre-commit's PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF "
     "(PRE_COMMIT_LOCAL_BRANCH + PRE_COMMIT_REMOTE_NAME on a first push)"),
    ("--all", None, "check every blob reachable from any ref"),
    ("--pre-receive", None,
     "server-side hook mode: read '<old> <new> <ref>' lines on stdin and check "
     "every blob the push brings"),
)
_OPTIONS = (
    ("--remote", "NAME",
     "push mode: the remote being pushed to (a pre-push hook's first argument); "
     "its remote-tracking refs count as already pushed"),
    ("--remote-url", "URL",
     "push mode: the URL being pushed to (a pre-push hook's second argument); with "
     "--remote, picks the forge whose limits apply"),
    ("--max", "SIZE",
     "refuse blobs of SIZE or more (default: git config labhooks.maxsize, else the "
     f"forge's limit: GitHub {DEFAULT_MAX}, Hugging Face Hub 10M, ...: docs/guard.md, "
     "Limits by forge)"),
    ("--warn", "SIZE",
     "print a warning, exit 0, for blobs of SIZE or more (default: git config "
     f"labhooks.warnsize, else the forge's warn size, GitHub {DEFAULT_WARN}, or half "
     "its limit; 0 turns warnings off)"),
    ("--write-baseline", "FILE",
     "with --all: record the blobs refused today (by blob id, with size and path "
     "for humans) in FILE, so that --baseline FILE allows exactly those"),
    ("--baseline", "FILE",
     "allow the blobs FILE lists (written by --write-baseline), never new ones "
     "(default: git config labhooks.baseline)"),
    ("--notebook-warn", "SIZE",
     "commit mode: warn about staged .ipynb notebooks whose saved outputs come to SIZE "
     f"or more (default: git config labhooks.notebookwarn, else {DEFAULT_NOTEBOOK_WARN}; 0 "
     "turns it off)"),
    ("--notebook-max", "SIZE",
     "commit mode: refuse staged notebooks whose outputs come to SIZE or more "
     "(default: git config labhooks.notebookmax, else off)"),
    ("--exclude", "GLOB",
     "allow blobs whose every path matches GLOB (on the full path or the "
     "file name; '*' crosses '/'); repeatable"),
    ("--wide", None,
     "on a terminal too, show every path and id whole instead of fitting each "
     "finding to one line (output that is not a terminal is never fitted)"),
)
_REPEATED = {"--exclude"}


def build_parser():
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):  # one line, exit 2, like every other labhooks error
            raise LabhooksError(f"{message} (see labhooks check-large --help)", 2)

    parser = Parser(
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
    for group, table in ((mode, _MODES), (parser, _OPTIONS)):
        for option, metavar, text in table:
            if metavar is None:
                group.add_argument(option, action="store_true", help=text)
            elif option in _REPEATED:
                group.add_argument(option, action="append", default=[], metavar=metavar, help=text)
            else:
                group.add_argument(option, metavar=metavar, help=text)
    return parser


def parse_arguments(argv: list[str]):
    """What argparse would make of ``argv``. The common shapes, every option written out
    whole before the file names (what pre-commit and prek pass, often 10,000 names), are
    read straight from the option table; anything else goes to argparse itself, so every
    error, abbreviation and ``--help`` is argparse's."""
    return _plain_arguments(argv) or build_parser().parse_args(argv)


def _plain_arguments(argv: list[str]):
    from types import SimpleNamespace

    values: dict[str, object] = {}
    for option, metavar, _ in (*_MODES, *_OPTIONS):
        values[_dest(option)] = [] if option in _REPEATED else (False if metavar is None else None)
    takes_value = {option: metavar is not None for option, metavar, _ in (*_MODES, *_OPTIONS)}
    at = 0
    while at < len(argv) and argv[at].startswith("-"):
        option, equals, value = argv[at].partition("=")
        if option not in takes_value or (equals and not takes_value[option]):
            return None  # "--", -h, an abbreviation, a typo, "--all=x": argparse's to judge
        if takes_value[option] and not equals:
            at += 1
            if at == len(argv) or argv[at].startswith("-"):
                return None
            value = argv[at]
        dest = _dest(option)
        if option in _REPEATED:
            values[dest].append(value)  # type: ignore[attr-defined]
        else:
            values[dest] = value if takes_value[option] else True
        at += 1
    files = argv[at:]
    if any(name.startswith("-") for name in files):
        return None  # an option after a file name, or a file that looks like one
    if sum(bool(values[_dest(option)]) for option, _, _ in _MODES) > 1:
        return None  # argparse says which two clash
    return SimpleNamespace(files=files, **values)


def _dest(option: str) -> str:
    return option[2:].replace("-", "_")


def main(argv: list[str] | None = None, *, store_listing: StoreListing | None = None) -> int:
    """``store_listing``: a sizes-only listing of the store that the caller started early,
    for ``--all`` (closed once used; the caller closes it in any case)."""
    return run(lambda: _check(argv, store_listing))


def _check(argv: list[str] | None, store_listing: StoreListing | None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    if args.files and (args.push or args.all or args.pre_receive):
        raise LabhooksError("FILE arguments are for commit mode; leave them out with --push, --all or --pre-receive", 2)
    # git is asked everything commit mode needs at once, and answers on the other core
    settings_query = ConfigQuery(SETTINGS_PATTERN)
    staged = None
    try:
        staged = StagedQuery(args.files) if not (args.push or args.all or args.pre_receive) else None
        settings = settings_query.values()
        remote = args.remote or (os.environ.get("PRE_COMMIT_REMOTE_NAME") if args.push else None)
        url = args.remote_url or (os.environ.get("PRE_COMMIT_REMOTE_URL") if args.push else None)
        choice = None if args.pre_receive else forges.choose(settings, remote, url)
        rules = limits(args.max, args.warn, settings, choice.forge if choice else None)
        if args.push:
            report = check_push(rules, args.exclude, remote=args.remote)
        elif args.all:
            report = check_all(rules, args.exclude, listing=store_listing)
        elif args.pre_receive:
            report = check_pre_receive(rules, args.exclude, sys.stdin.buffer.read())
        else:
            notebooks = notebook_limits(args.notebook_warn, args.notebook_max, settings)
            assert staged is not None
            report = check_staged(staged, rules, args.exclude, notebooks)
    finally:
        # every git started is waited for, answered or not (an error, an early return)
        settings_query.close()
        if staged is not None:
            staged.close()
    report.forge_why = choice.why if choice else None
    if args.write_baseline:
        if not args.all:
            raise LabhooksError("--write-baseline records what --all finds; give --all with it", 2)
        write_baseline(args.write_baseline, report)
        return 0
    baseline = args.baseline or settings.get("labhooks.baseline")
    if baseline:
        source = "--baseline" if args.baseline else "git config labhooks.baseline"
        allowed = read_baseline(baseline, source)
        report.baselined = [f for f in report.errors + report.not_lfs if f.oid in allowed]
        report.errors = [f for f in report.errors if f.oid not in allowed]
        report.not_lfs = [f for f in report.not_lfs if f.oid not in allowed]
        report.baseline = baseline
    print_report(report, wide=args.wide)
    return EXIT_FINDINGS if report.refused else 0


def limits(max_option: str | None, warn_option: str | None, settings: dict[str, str] | None = None,
           forge: forges.Forge | None = None) -> Limits:
    """The sizes a check applies: the options, else ``git config labhooks.maxsize/warnsize``,
    else the forge's own figures (no forge: the defaults); an error names whichever the
    value came from. Where a forge gives no warn size, warnings start at half its limit."""
    settings = configured_settings() if settings is None else settings
    chosen: list[tuple[int, str]] = []
    for option, key in (("--max", "labhooks.maxsize"), ("--warn", "labhooks.warnsize")):
        given = max_option if option == "--max" else warn_option
        if given is not None:
            text, source = given, option
        elif key in settings:
            text, source = settings[key], f"git config {key}"
        else:
            text, source = None, "forge" if forge is not None else "default"
        if text is None:
            size = _forge_size(option, forge, chosen)
        else:
            try:
                size = parse_size(text)
            except SizeError as exc:
                raise LabhooksError(f"{source}: {exc.message}") from None
            if option == "--max" and size <= 0:
                raise LabhooksError(f"{source} must be more than 0 bytes, got {text!r}")
        chosen.append((size, source))
    (max_size, max_source), (warn_size, _) = chosen
    warn = warn_size if 0 < warn_size < max_size else None
    push_limit, push_source = _push_limit(settings, forge)
    return Limits(max_size, warn, max_source, forge, push_limit, push_source)


def _push_limit(settings: dict[str, str], forge: forges.Forge | None) -> tuple[int | None, str | None]:
    """``git config labhooks.pushlimit`` (0: no push-size rule), else the forge's."""
    if PUSH_LIMIT_KEY in settings:
        source = f"git config {PUSH_LIMIT_KEY}"
        try:
            size = parse_size(settings[PUSH_LIMIT_KEY])
        except SizeError as exc:
            raise LabhooksError(f"{source}: {exc.message}") from None
        return (size, source) if size > 0 else (None, None)
    if forge is None or forge.push_limit is None:
        return None, None
    return forge.push_limit, forge.name


def smallest_push_limit() -> int:
    """The smallest push limit of any forge: a push estimated under it passes every
    forge's push-size rule (the pre-push hook's fast path)."""
    return min(forge.push_limit for forge in forges.FORGES.values() if forge.push_limit is not None)


def _forge_size(option: str, forge: forges.Forge | None, chosen: list[tuple[int, str]]) -> int:
    if option == "--max":
        return forge.file_limit if forge is not None else parse_size(DEFAULT_MAX)
    if forge is None:
        return parse_size(DEFAULT_WARN)
    return forge.file_warning if forge.file_warning is not None else chosen[0][0] // 2


_BASELINE_HEADER = ("# labhooks baseline: blobs allowed although refused (over the limit, or raw at a filter=lfs "
                    "path) (blob id, size, path)\n")


def write_baseline(path: str, report) -> None:
    """One line per refused blob, written whole or not at all."""
    from labhooks.errors import writing
    from labhooks.text import printable

    lines = [_BASELINE_HEADER] + [
        f"{f.oid} {f.size} {printable(', '.join(f.paths))}\n" for f in report.errors + report.not_lfs]
    scratch = path + ".labhooks-tmp"
    with writing(path):
        try:
            with open(scratch, "w", encoding="utf-8") as out:
                out.writelines(lines)
            os.replace(scratch, path)
        finally:
            if os.path.exists(scratch):
                os.unlink(scratch)
    from labhooks.sizes import format_size

    raw_lfs = f", and {len(report.not_lfs)} raw one(s) at filter=lfs paths," if report.not_lfs else ""
    print(f"labhooks: wrote {len(report.errors)} blob(s) of {format_size(report.max_size)} or more{raw_lfs} to {path}; "
          f"check with: labhooks check-large --all --baseline {path}   # or: git config labhooks.baseline {path}")


def read_baseline(path: str, source: str) -> set[str]:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as listing:
            lines = listing.read().splitlines()
    except OSError as exc:
        from labhooks.errors import describe_os_error

        raise LabhooksError(f"{source}: cannot read {describe_os_error(exc, path)}", 2) from None
    allowed = set()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        oid = line.split(" ", 1)[0]
        if len(oid) not in (40, 64) or any(ch not in "0123456789abcdef" for ch in oid):
            raise LabhooksError(f"{source}: {path} line {number} does not start with a blob id", 2)
        allowed.add(oid)
    return allowed


def smallest_rule_size() -> int:
    """The smallest size any unconfigured rule of the guard looks at, whatever the forge:
    a push with no blob this big passes every check (the pre-push hook's fast path)."""
    sizes = []
    for forge in (None, *forges.FORGES.values()):
        rules = limits(None, None, {}, forge)
        sizes += [rules.max_size, rules.warn_size or rules.max_size]
    return min(sizes)


def configured_settings() -> dict[str, str]:
    """The guard's settings and the remotes' URLs in the repository we are in (none
    outside one), from one git process; the last value wins, as in git. Keys as git
    prints them: section and name lower-cased, a remote's name as written."""
    return config_values(SETTINGS_PATTERN)


if __name__ == "__main__":
    sys.exit(main())
