"""The large-file guard: refuse staged or pushed blobs over a size limit.

Runs on every commit and push, so it imports only the light parts of the standard
library and the plumbing module; everything heavy stays in other commands.

Modes:
  commit (default)  the STAGED blob of each given file (or of every staged file): the
                    index, not the disk, is what the commit will hold;
  --push            every blob of every commit a push would send (pre-push stdin, or
                    pre-commit's PRE_COMMIT_* variables);
  --all             every blob reachable from any ref;
  --pre-receive     server side: every blob a push brings that the server lacks.
"""

from __future__ import annotations

import argparse
import os
import sys
from fnmatch import fnmatchcase

from labhooks import plumbing
from labhooks.errors import LabhooksError
from labhooks.sizes import format_size, git_size_arg, parse_size

DEFAULT_MAX = "100M"
DEFAULT_WARN = "50M"
# Above this many names, matching pathspecs costs git O(files x names): list the whole
# index once and filter by set membership instead.
_PATHSPEC_LIMIT = 64
_GITLINK_MODE = "160000"


class Finding(plumbing.Record):
    __slots__ = ("oid", "size", "paths", "commit")

    def __init__(self, oid: str, size: int, paths: list[str], commit: plumbing.CommitInfo | None = None):
        self.oid = oid
        self.size = size
        self.paths = paths
        self.commit = commit


class Report(plumbing.Record):
    __slots__ = ("mode", "max_size", "warn_size", "errors", "warnings", "unsized", "unreachable", "head_unpushed")

    def __init__(self, mode: str, max_size: int, warn_size: int | None):
        self.mode = mode
        self.max_size = max_size
        self.warn_size = warn_size
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []
        self.unsized = 0  # objects missing locally (partial clone), never fetched
        self.unreachable = 0  # big blobs in the store that no ref reaches (--all only)
        self.head_unpushed = False  # HEAD is the only commit to fix and not on any remote


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
    parser.add_argument("--max", default=DEFAULT_MAX, metavar="SIZE",
                        help=f"refuse blobs of at least SIZE (default {DEFAULT_MAX})")
    parser.add_argument("--warn", default=DEFAULT_WARN, metavar="SIZE",
                        help=f"print a warning, exit 0, for blobs of at least SIZE (default {DEFAULT_WARN}; 0 turns warnings off)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="allow blobs whose every path matches GLOB (on the full path or the "
                        "file name; '*' crosses '/'); repeatable")
    return parser


def main(argv: list[str] | None = None, *, store_listing: plumbing.StoreListing | None = None) -> int:
    """``store_listing``: a sizes-only listing of the store that the caller started early,
    for ``--all`` (closed once used; the caller closes it in any case)."""
    try:
        args = build_parser().parse_args(argv)
        max_size = parse_size(args.max)
        warn_size = parse_size(args.warn)
        if max_size <= 0:
            raise LabhooksError(f"--max must be more than 0 bytes, got {args.max!r}", 2)
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
        return 1 if report.errors else 0
    except LabhooksError as exc:
        print(f"labhooks: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("labhooks: interrupted", file=sys.stderr)
        return 130


# ---------------------------------------------------------------- classification

def _excluded(paths: list[str], globs: list[str]) -> bool:
    if not globs or not paths:
        return False
    return all(
        any(fnmatchcase(path, g) or fnmatchcase(path.rsplit("/", 1)[-1], g) for g in globs)
        for path in paths
    )


def _classify(report: Report, findings: list[Finding], excludes: list[str]) -> None:
    for finding in sorted(findings, key=lambda f: (-f.size, f.paths)):
        if _excluded(finding.paths, excludes):
            continue
        if finding.size >= report.max_size:
            report.errors.append(finding)
        elif report.warn_size is not None and finding.size >= report.warn_size:
            report.warnings.append(finding)


def _threshold(max_size: int, warn: int | None) -> int:
    return min(max_size, warn) if warn is not None else max_size


# ---------------------------------------------------------------- commit mode

def check_staged(files: list[str], max_size: int, warn: int | None, excludes: list[str]) -> Report:
    top, prefix, objects_dir = _worktree()
    report = Report("commit", max_size, warn)
    if files:
        wanted = [_root_relative(prefix, name) for name in files]
        if len(wanted) <= _PATHSPEC_LIMIT:
            entries = plumbing.staged_entries(wanted, cwd=top)
        else:
            entries = _filter_entries(plumbing.staged_entries(cwd=top), wanted)
    else:
        entries = plumbing.staged_entries(cwd=top)
    entries = [e for e in entries if e.mode != _GITLINK_MODE]
    if not entries:
        return report
    by_oid: dict[str, list[str]] = {}
    for entry in entries:
        by_oid.setdefault(entry.oid, []).append(entry.path)
    threshold = _threshold(max_size, warn)
    unproven = [oid for oid in by_oid if not _loose_and_small(objects_dir, oid, threshold)]
    sizes = plumbing.batch_check(unproven, cwd=top)
    findings = []
    for oid in unproven:
        paths = by_oid[oid]
        record = sizes.get(oid)
        if record is None or record.size is None:
            report.unsized += 1
        elif record.size >= threshold:
            findings.append(Finding(oid, record.size, paths))
    _classify(report, findings, excludes)
    return report


# deflate cannot shrink data more than 1032:1 (one 2-bit code per 258-byte match)
_DEFLATE_MAX_RATIO = 1032


def _loose_and_small(objects_dir: str, oid: str, threshold: int) -> bool:
    """True when ``oid`` is a loose object whose compressed file proves it under ``threshold``.

    A freshly staged file is a loose object; one stat of its file is far cheaper than
    having cat-file open and inflate thousands of them, and the bound is exact math, not
    a guess: anything not proven small this way is sized by git.
    """
    try:
        stored = os.stat(f"{objects_dir}/{oid[:2]}/{oid[2:]}").st_size
    except OSError:
        return False  # packed, in an alternate, or missing: ask git
    return (stored + 1) * _DEFLATE_MAX_RATIO < threshold


def _worktree() -> tuple[str, str, str]:
    proc = plumbing.run_git(["rev-parse", "--show-toplevel", "--show-prefix", "--git-path", "objects"],
                            check=False)
    lines = proc.stdout.split("\n")
    if proc.returncode != 0 or len(lines) < 3:
        if "work tree" in proc.stderr or proc.returncode == 0:
            raise LabhooksError("commit mode needs a working tree; this is a bare repository (use --all)", 2)
        raise plumbing.not_a_repository()
    top = lines[0]
    objects_dir = lines[2] if os.path.isabs(lines[2]) else os.path.join(os.getcwd(), lines[2])
    return top, lines[1], objects_dir


def _root_relative(prefix: str, name: str) -> str:
    if not prefix and "//" not in name and "/./" not in f"/{name}/" and "/../" not in f"/{name}/":
        return name  # already what pre-commit passes: root-relative and normal
    # git's own pathspec check refuses a name outside the working tree
    return os.path.normpath(prefix + name).replace(os.sep, "/")


def _filter_entries(entries, wanted: list[str]):
    targets = set(wanted)
    if "." in targets:
        return entries
    kept = []
    for entry in entries:
        path = entry.path
        if path in targets:
            kept.append(entry)
            continue
        # a directory given on the command line covers what is under it
        while "/" in path:
            path = path.rsplit("/", 1)[0]
            if path in targets:
                kept.append(entry)
                break
    return kept


# ---------------------------------------------------------------- push and history modes

def _read_lines(data: bytes) -> list[list[str]]:
    rows = []
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        if line.strip():
            # the local ref is what the user typed and may hold spaces: split from the right
            rows.append(line.rsplit(None, 3))
    return rows


def push_revisions(lines: list[list[str]], remote: str | None) -> list[str]:
    """rev-list arguments for 'everything this pre-push input would send'."""
    tips, pushed = [], []
    for parts in lines:
        if len(parts) != 4:
            raise LabhooksError(f"unexpected pre-push input line: {' '.join(parts)!r}", 2)
        _local_ref, local_oid, _remote_ref, remote_oid = parts
        if plumbing.is_null_oid(local_oid):
            continue  # a deletion sends no objects
        tips.append(local_oid)
        if not plumbing.is_null_oid(remote_oid):
            pushed.append(remote_oid)
    if not tips:
        return []
    return [*tips, "--not", *_existing_commits(pushed), *_remote_refs(remote)]


def _existing_commits(oids: list[str]) -> list[str]:
    """The commits among ``oids`` we have: a remote tip we never fetched bounds nothing.

    rev-list with --missing never lazy-fetches, so a partial clone is not sent to the
    network just to learn that it lacks a commit.
    """
    if not oids:
        return []
    out = plumbing.run_git(["rev-list", "--no-walk", "--ignore-missing", "--missing=allow-any", "--stdin"],
                           input="".join(o + "\n" for o in oids)).stdout
    return out.split()


def _remote_refs(remote: str | None) -> list[str]:
    # a URL or path given instead of a remote name matches no ref: harmless
    return [f"--remotes={remote}"] if remote else []


def precommit_revisions(env) -> list[str] | None:
    """The range pre-commit's pre-push stage describes, or None outside pre-commit."""
    remote = env.get("PRE_COMMIT_REMOTE_NAME")
    from_ref, to_ref = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
    if from_ref and to_ref:
        return [to_ref, "--not", from_ref, *_remote_refs(remote)]
    local = env.get("PRE_COMMIT_LOCAL_BRANCH")
    if local:
        # pre-commit sets no range when the whole branch is new to the remote
        return [local, "--not", *_remote_refs(remote)]
    return None


def check_push(max_size: int, warn: int | None, excludes: list[str], *, remote: str | None = None,
               stdin: bytes | None = None, env=None) -> Report:
    env = os.environ if env is None else env
    revs = None if remote else precommit_revisions(env)
    if revs is None:
        if stdin is None:
            if sys.stdin is None or sys.stdin.isatty():
                raise LabhooksError(
                    "--push needs a pre-push hook's input on stdin or pre-commit's PRE_COMMIT_* "
                    "variables; to check the whole history use --all", 2)
            stdin = sys.stdin.buffer.read()
        lines = _read_lines(stdin)
    report = Report("push", max_size, warn)
    plumbing.ensure_repo()
    if revs is None:
        revs = push_revisions(lines, remote or env.get("PRE_COMMIT_REMOTE_NAME"))
    if revs:
        _check_revisions(report, revs, excludes)
    return report


def check_pre_receive(max_size: int, warn: int | None, excludes: list[str], stdin: bytes) -> Report:
    plumbing.ensure_repo()
    tips = []
    for parts in _read_lines(stdin):
        if len(parts) != 3:
            raise LabhooksError(f"unexpected pre-receive input line: {' '.join(parts)!r}", 2)
        if not plumbing.is_null_oid(parts[1]):
            tips.append(parts[1])
    report = Report("pre-receive", max_size, warn)
    if tips:
        # refs are not updated before pre-receive accepts: --all is what the server has
        _check_revisions(report, [*tips, "--not", "--all"], excludes)
    return report


def _check_revisions(report: Report, revs: list[str], excludes: list[str]) -> None:
    query = plumbing.blobs_at_least(revs, _threshold(report.max_size, report.warn_size))
    report.unsized = query.missing
    if not query.blobs:
        return
    origins = plumbing.find_blob_origins([b.oid for b in query.blobs], [*revs, "--root"])
    findings = []
    for blob in query.blobs:
        origin = origins.get(blob.oid)
        paths = origin.paths if origin else [blob.path or "(path unknown)"]
        findings.append(Finding(blob.oid, blob.size, paths, origin.commit if origin else None))
    _classify(report, findings, excludes)
    _note_head(report)


def check_all(max_size: int, warn: int | None, excludes: list[str],
              listing: plumbing.StoreListing | None = None) -> Report:
    """``listing``: a sizes-only StoreListing the caller already started; closed here."""
    report = Report("all", max_size, warn)
    threshold = _threshold(max_size, warn)
    # The store listing is nearly all of the time this takes when nothing is that big:
    # start it first and check the repository while git lists on another core.
    with listing or plumbing.StoreListing() as listing:
        plumbing.ensure_repo()
        if plumbing.is_partial_clone():
            # the store cannot say what it lacks: walk, so missing objects get counted
            listing.close()
            _check_revisions(report, ["--all"], excludes)
            return report
        candidates = plumbing.store_blobs_at_least(threshold, listing=listing).blobs
    if not candidates:
        return report  # nothing that big anywhere: no history walk needed
    sizes = {b.oid: b.size for b in candidates}
    # One log walk confirms reachability and finds paths and the introducing commit:
    # a blob in any commit's tree shows up as added or modified in some commit's diff.
    origins = plumbing.find_blob_origins(sizes, ["--all", "--root"])
    findings = [Finding(oid, sizes[oid], o.paths, o.commit) for oid, o in origins.items()]
    leftovers = [oid for oid in sizes if oid not in origins]
    if leftovers:
        extra = _reachable_without_commits(leftovers)
        for record in extra:
            findings.append(Finding(record.oid, sizes[record.oid], [record.path or "(path unknown)"]))
        report.unreachable = len(leftovers) - len(extra)
    _classify(report, findings, excludes)
    _note_head(report)
    return report


def _reachable_without_commits(oids: list[str]) -> list[plumbing.ObjectRecord]:
    """Blobs among ``oids`` reached from refs that point (maybe via tags) at trees or blobs."""
    tips = plumbing.refs_to_trees_or_blobs()
    if not tips:
        return []
    wanted = set(oids)
    return [r for r in plumbing.stream_objects(tips) if r.oid in wanted]


def _note_head(report: Report) -> None:
    """Advice differs when every refused blob came in with HEAD and HEAD is unpushed."""
    if not report.errors or any(f.commit is None for f in report.errors):
        return
    head = plumbing.head_commit()
    if head is None or any(f.commit.oid != head for f in report.errors):
        return
    on_remote = plumbing.run_git(["for-each-ref", "--contains", head, "--count=1", "refs/remotes"], check=False)
    report.head_unpushed = on_remote.returncode == 0 and not on_remote.stdout.strip()


# ---------------------------------------------------------------- output

_LIMIT_NOTE = "GitHub refuses a push holding any blob over 100 MiB, even one deleted again later"


def _describe(finding: Finding, with_commit: bool) -> str:
    paths = ", ".join(plumbing.quote_path(p) for p in finding.paths)
    line = f"  {paths}  {format_size(finding.size)}"
    if with_commit:
        if finding.commit is not None:
            line += f"  (introduced in {finding.commit.short} {plumbing.quote_path(finding.commit.subject)})"
        else:
            line += f"  (blob {finding.oid[:10]}, not added by any commit walked)"
    return line


def print_report(report: Report) -> None:
    if report.mode == "pre-receive":
        _print_server_report(report)
        return
    out = sys.stdout
    with_commit = report.mode != "commit"
    where = {
        "commit": "staged",
        "push": "in the commits being pushed",
        "all": "reachable from the refs of this repository",
    }[report.mode]
    if report.errors:
        print(f"labhooks: {len(report.errors)} blob(s) of {format_size(report.max_size)} or more {where}:", file=out)
        for finding in report.errors:
            print(_describe(finding, with_commit), file=out)
    if report.warnings:
        print(f"labhooks: warning: {len(report.warnings)} blob(s) of {format_size(report.warn_size)} or more "
              f"{where} (GitHub warns above 50 MiB):", file=out)
        for finding in report.warnings:
            print(_describe(finding, with_commit), file=out)
    if report.errors:
        print(_advice(report), file=out)
    if report.unsized:
        print(f"labhooks: note: {report.unsized} object(s) are missing locally (partial clone) and could "
              "not be sized; they were not fetched", file=sys.stderr)
    if report.unreachable:
        print(f"labhooks: note: {report.unreachable} big blob(s) sit in the object store unreachable from "
              "any ref (no push sends them; `git gc --prune=now` deletes them)", file=sys.stderr)


def _print_server_report(report: Report) -> None:
    """Shaped like GitHub's refusal, since that is what users search the web for."""
    err = sys.stderr
    for finding in report.errors:
        paths = ", ".join(plumbing.quote_path(p) for p in finding.paths)
        where = f" (introduced in {finding.commit.short} {finding.commit.subject})" if finding.commit else ""
        print(f"error: File {paths} is {format_size(finding.size)}; this exceeds the file size limit "
              f"of {format_size(report.max_size)}{where}", file=err)
    for finding in report.warnings:
        paths = ", ".join(plumbing.quote_path(p) for p in finding.paths)
        print(f"warning: File {paths} is {format_size(finding.size)}; this is larger than the "
              f"recommended maximum of {format_size(report.warn_size)}", file=err)
    if report.errors:
        print("error: LH001: Large files detected. Take them out of the commits you push, then push again:",
              file=err)
        for step in _advice_steps(report):
            print(f"error:   {step}", file=err)
    if report.unsized:
        print(f"warning: {report.unsized} object(s) could not be sized", file=err)


def _advice(report: Report) -> str:
    return "\n".join([f"{_LIMIT_NOTE}. What to do:", *(f"  - {step}" for step in _advice_steps(report))])


def _advice_steps(report: Report) -> list[str]:
    size_arg = git_size_arg(report.max_size)
    quoted = _shell_quote(report.errors[0].paths[0])
    if report.mode == "commit":
        return [
            f"unstage it: git rm --cached -- {quoted}   (the file stays on disk; add it to .gitignore)",
            f"or store it with Git LFS: git lfs track {quoted} && git add .gitattributes {quoted}",
        ]
    if report.mode == "pre-receive":
        return [
            f"remove them from history: labhooks clean-large --max {size_arg}",
            f"or move them to Git LFS: git lfs migrate import --include={quoted}",
        ]
    steps = []
    if report.head_unpushed:
        steps.append(f"it came in with your last, unpushed commit: git rm --cached -- {quoted} && git commit --amend")
    steps += [
        f"{'or ' if steps else ''}remove it from history (backup first, then rewrite): labhooks clean-large --max {size_arg}",
        f"or store it with Git LFS: git lfs track {quoted} (and git lfs migrate import --include={quoted} "
        "for commits already made)",
    ]
    return steps


def _shell_quote(path: str) -> str:
    import shlex

    return shlex.quote(plumbing.quote_path(path))


if __name__ == "__main__":
    sys.exit(main())
