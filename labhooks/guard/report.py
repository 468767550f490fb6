"""The guard's one report format: what was found, what was checked, and what to do.

Every hook's refusal is this text: the shell hooks start the Python guard whenever
anything is near a limit, and print nothing of their own but one fixed line when
labhooks cannot be found.
"""

from __future__ import annotations

import sys

from labhooks import fit
from labhooks.guard.checks import Finding, Report
from labhooks.guard.notebooks import NotebookReport
from labhooks.sizes import format_size, git_size_arg
from labhooks.text import printable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _describe(finding: Finding, with_commit: bool) -> str:
    paths = ", ".join(printable(p) for p in finding.paths)
    line = f"  {paths}  {format_size(finding.size)}"
    return f"{line}  {_origin_note(finding)}" if with_commit else line


def _origin_note(finding: Finding) -> str:
    if finding.commit is not None:
        return f"(introduced in {finding.commit.short} {printable(finding.commit.subject)})"
    return f"(blob {finding.oid[:10]}, not added by any commit walked)"


def rule_words(report: Report) -> str:
    """Which limit applied and why: "GitHub's limit; remote origin is github.com"."""
    limits = report.limits
    if limits.max_source in ("--max", "default") or limits.forge is None:
        source = "the default" if limits.max_source == "default" else limits.max_source
        return f"limit {format_size(limits.max_size)} from {source}"
    if limits.max_source == "forge":
        words = f"{limits.forge.name}'s limit"
    else:
        words = f"limit from {limits.max_source}"
    return f"{words}; {report.forge_why}" if report.forge_why else words


def print_report(report: Report, wide: bool = False) -> None:
    """The report on stdout (notes on stderr). On a terminal every finding is one line
    of the terminal's width and prose is folded to it; ``wide``, or output that is not a
    terminal (a pipe, pre-commit, a CI log), gets every path and id whole."""
    if report.mode == "pre-receive":
        _print_server_report(report)
        return
    width = None if wide else fit.terminal_width(sys.stdout)
    if width is None:
        _print_findings(report, None)
        return
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        _print_findings(report, width)
    for line in buffer.getvalue().splitlines():
        print("\n".join(_fold(line, width)))


# Where a command the report gives to paste starts: after "fix: " or another colon.
# where a printed command starts in a line (re is imported only once there is a finding)
_COMMAND_START = r"(?:^|: )(?=(?:git|labhooks|nbstripout) )"


# A fix line's remark follows its command as a shell comment, so that the rest of the
# line pasted whole runs the command and nothing else.
REMARK = "   # "


def _command_in(body: str) -> str:
    """The command in a report line: from its start to the end of the line, or to the
    remark that ends it (the first REMARK outside quotes: a quoted path may hold one)."""
    import re

    start = re.search(_COMMAND_START, body)
    if start is None:
        return ""
    command = body[start.end():]
    at = command.find(REMARK)
    while at != -1:
        if _outside_quotes(command[:at]):
            return command[:at]
        at = command.find(REMARK, at + 1)
    return command


def _outside_quotes(shell_text: str) -> bool:
    import shlex

    try:
        shlex.split(shell_text)
    except ValueError:  # an open quote: the REMARK is inside a quoted word
        return False
    return True


def _fold(line: str, width: int) -> list[str]:
    """An already fitted line as it is, a longer one folded at its blanks."""
    if fit.cell_width(line) <= width:
        return [line]
    body = line.lstrip(" ")
    indent = line[:len(line) - len(body)]
    return fit.fold(body, width, indent, keep=_command_in(body), later=indent + "  ")


def _print_findings(report: Report, width: int | None) -> None:
    out = sys.stdout
    with_commit = report.mode != "commit"
    where = {
        "commit": "staged",
        "push": "in the commits being pushed",
        "all": "reachable from the refs of this repository",
    }[report.mode]
    forge = report.limits.forge
    if report.errors:
        print(f"labhooks: {len(report.errors)} blob(s) of {format_size(report.max_size)} or more {where} "
              f"({rule_words(report)}):", file=out)
        _list(report.errors, with_commit, lambda finding: fix_line(report, finding), width=width)
    if report.warnings:
        warned_by = ""
        if forge is not None and forge.file_warning:
            warned_by = f"; {forge.name} warns from {format_size(forge.file_warning)}"
        print(f"labhooks: warning: {len(report.warnings)} blob(s) of {format_size(report.warn_size)} or more "
              f"{where}{warned_by}:", file=out)
        _list(report.warnings, with_commit, width=width)
    if report.baselined:
        print(f"labhooks: note: {len(report.baselined)} blob(s) over the limit allowed by the baseline "
              f"{printable(report.baseline or '')} (they were there before; no new ones are)", file=sys.stderr)
    if report.not_lfs and report.mode == "commit":
        print(f"labhooks: {len(report.not_lfs)} file(s) that .gitattributes stores through Git LFS "
              "(filter=lfs) are staged as raw content, not as LFS pointers:", file=out)
        _list(report.not_lfs, False,
              lambda finding: f"{_LFS_FILTERS_ON} && git add --renormalize -- {shell_word(finding.paths[0])}",
              width=width)
    elif report.not_lfs:
        print(f"labhooks: {len(report.not_lfs)} blob(s) {where} are raw content at paths that their commit's "
              ".gitattributes stores through Git LFS (filter=lfs), not LFS pointers (committed without "
              "git-lfs installed?):", file=out)
        _list(report.not_lfs, True, lambda finding: lfs_history_fix(report, finding), width=width)
    if report.not_lfs and report.lfs_hook_missing:
        print("labhooks: then let git-lfs upload the files when you push (its pre-push hook is not "
              f"installed here): {_LFS_HOOK_IN.get(report.lfs_hook_missing, _LFS_HOOK_BY_HAND)}", file=out)
    if report.notebooks is not None:
        _print_notebooks(report.notebooks, width)
    if report.excluded:
        print(f"labhooks: note: --exclude let through {len(report.excluded)} blob(s) that {forge.name} "
              f"refuses ({format_size(forge.file_limit)} or more): the push will still fail there:", file=out)
        _list(report.excluded, with_commit, width=width)
    if report.push_too_big:
        limits = report.limits
        print(f"labhooks: this push comes to about {format_size(report.push_bytes)} (the size its objects "
              f"take in the store), and {_push_rule_owner(limits.push_source)} refuses a push of "
              f"{format_size(limits.push_limit)} or more: push older commits first, a part at a time "
              "(git push REMOTE COMMIT:refs/heads/BRANCH)", file=out)
    if report.errors:
        print(_advice(report), file=out)
    for name in report.not_staged:
        print(f"labhooks: note: {printable(name)} is not staged, so nothing was checked for it "
              f"(git add -- {shell_word(name)} first)", file=sys.stderr)
    if report.unsized:
        print(f"labhooks: note: {report.unsized} object(s) are missing locally (partial clone) and could "
              "not be sized; they were not fetched", file=sys.stderr)
    if report.lfs_unchecked:
        print("labhooks: note: LFS conformance was not checked: a .gitattributes it needs is missing locally "
              "(partial clone) and was not fetched", file=sys.stderr)
    if report.unreachable:
        print(f"labhooks: note: {report.unreachable} big blob(s) sit in the object store unreachable from "
              "any ref (no push sends them; `git gc --prune=now` deletes them)", file=sys.stderr)
    if not report.refused and report.mode != "commit":
        print(summary_line(report), file=out)


def _list(findings: list[Finding], with_commit: bool, fix: Callable[[Finding], str] | None = None,
          width: int | None = None) -> None:
    """One line per finding, each followed by its own fix when there is one; fitted to
    ``width`` as one table, so that sizes line up and paths give way in the middle."""
    if width is None:
        rows = [_describe(finding, with_commit) for finding in findings]
    else:
        rows = _fitted_rows(findings, with_commit, width)
    for finding, row in zip(findings, rows):
        print(row)
        if fix is not None:
            print(f"    fix: {fix(finding)}")


# A finding's columns on a terminal: the path gives way in the middle (its file name
# stays), the size never changes, the commit note loses its end first (its id stays).
_FINDING_COLUMNS = [
    fit.Column("", fit.MIDDLE, least=20, label="path"),
    fit.Column("", right=True, label="size"),
    fit.Column("", fit.END, least=26, drop=1, label="commit"),  # "(introduced in " + a 10-digit id
]
_NOTEBOOK_COLUMNS = [fit.Column("", fit.MIDDLE, least=20, label="notebook"), fit.Column("", label="outputs")]
_INDENT = "  "


def _fitted_rows(findings: list[Finding], with_commit: bool, width: int) -> list[str]:
    rows = []
    for finding in findings:
        paths = [printable(p) for p in finding.paths]
        shown = paths[0] if len(paths) == 1 else f"{paths[0]}{fit.MORE_MARK}{len(paths) - 1} more"
        row = [shown, format_size(finding.size)]
        if with_commit:
            row.append(_origin_note(finding))
        rows.append(row)
    columns = _FINDING_COLUMNS[:3 if with_commit else 2]
    fitted = fit.fit(columns, rows, width - len(_INDENT))
    return [_INDENT + line for line in fit.plain_lines(fitted)[1:]]


def _print_notebooks(notebooks: NotebookReport, width: int | None = None) -> None:
    """Notebooks whose saved outputs are big, each with the command that strips them."""
    for found, size, words in ((notebooks.refused, notebooks.limits.max_size, ""),
                               (notebooks.warned, notebooks.limits.warn_size, "warning: ")):
        if not found:
            continue
        print(f"labhooks: {words}{len(found)} notebook(s) staged with {format_size(size)} or more of saved "
              "outputs (images, widget state: committed again with every run); strip them, then add again:")
        rows = [[printable(finding.path), f"{format_size(finding.output_bytes)} of outputs"] for finding in found]
        if width is None:
            lines = [f"{_INDENT}{path}  {size}" for path, size in rows]
        else:
            fitted = fit.fit(_NOTEBOOK_COLUMNS, rows, width - len(_INDENT))
            lines = [_INDENT + line for line in fit.plain_lines(fitted)[1:]]
        for finding, line in zip(found, lines):
            print(line)
            print(f"    fix: {notebook_fix(finding.path)}")
    for path, why in notebooks.unreadable:
        print(f"labhooks: note: {printable(path)} {why}, so its outputs were not measured", file=sys.stderr)


def notebook_fix(path: str) -> str:
    word = shell_word(path)
    return (f"nbstripout -- {word} && git add -- {word}{REMARK}"
            f"or: jupyter nbconvert --clear-output --inplace -- {word} && git add -- {word}")


def summary_line(report: Report) -> str:
    """One line saying what a clean history check covered and by which rule."""
    counted = []
    if report.commits is not None:
        counted.append(f"{report.commits} commit(s)")
    if report.blobs is not None:
        counted.append(f"{report.blobs} blob(s)")
    what = report.scope + (f": {', '.join(counted)}" if counted else "")
    size = f"; about {format_size(report.push_bytes)} to send" if report.push_bytes is not None else ""
    lfs = f"; {report.lfs_blobs} blob(s) at filter=lfs paths, all LFS pointers" if report.lfs_blobs else ""
    return (f"labhooks: checked {what}{size}{lfs}; no blob of {format_size(report.max_size)} or more "
            f"({rule_words(report)})")


def _push_rule_owner(source: str | None) -> str:
    return f"your {source}" if source and source.startswith("git config") else (source or "the forge")


# git-lfs's filters for every repository of this user; --skip-repo leaves the hooks alone,
# since plain `git lfs install` stops (exit 2) where labhooks' pre-push hook is installed
_LFS_FILTERS_ON = "git lfs install --skip-repo"
# How git-lfs's own pre-push hook gets in, by who owns the pre-push hook now: labhooks
# chains it when reinstalled after it, plain `git lfs install` refuses to overwrite any
# other hook and its `update --manual` prints the lines to add to it.
_LFS_HOOK_IN = {
    "labhooks": "labhooks install-hooks --uninstall && git lfs install && labhooks install-hooks",
    "absent": "git lfs install",
}
_LFS_HOOK_BY_HAND = "git lfs update --manual (it prints the lines to add to your pre-push hook)"
LFS_MIGRATE_FIX = f"git lfs migrate import --fixup && {_LFS_FILTERS_ON} && git lfs checkout"


def lfs_history_fix(report: Report, finding: Finding) -> str:
    """One command that turns this raw blob into an LFS pointer in the commits not yet pushed."""
    if report.lfs_fix_amends:
        return (f"{_LFS_FILTERS_ON} && git add --renormalize -- {shell_word(finding.paths[0])} && "
                f"git commit --amend --no-edit{REMARK}your last commit, not pushed yet")
    # migrate first: with the filters on, the raw files would make the working copy dirty
    return (f"{LFS_MIGRATE_FIX}{REMARK}rewrites the current branch's unpushed commits so that every filter=lfs "
            "path holds a pointer, then puts the files' contents back; --include-ref=BRANCH for another branch")


def _print_server_report(report: Report) -> None:
    """Shaped like GitHub's refusal, since that is what users search the web for."""
    err = sys.stderr
    for finding in report.errors:
        paths = ", ".join(printable(p) for p in finding.paths)
        where = f" (introduced in {finding.commit.short} {printable(finding.commit.subject)})" if finding.commit else ""
        print(f"error: File {paths} is {format_size(finding.size)}; this exceeds the file size limit "
              f"of {format_size(report.max_size)}{where}", file=err)
    for finding in report.warnings:
        paths = ", ".join(printable(p) for p in finding.paths)
        print(f"warning: File {paths} is {format_size(finding.size)}; this is larger than the "
              f"recommended maximum of {format_size(report.warn_size)}", file=err)
    if report.errors:
        print("error: LH001: Large files detected. Take them out of the commits you push, then push again:",
              file=err)
        for step in _advice_steps(report):
            print(f"error:   {step}", file=err)
    for finding in report.not_lfs:
        paths = ", ".join(printable(p) for p in finding.paths)
        where = f" (introduced in {finding.commit.short} {printable(finding.commit.subject)})" if finding.commit else ""
        print(f"error: File {paths} is raw content where .gitattributes says filter=lfs; it must be a Git LFS "
              f"pointer{where}: {LFS_MIGRATE_FIX}, then push again", file=err)
    if report.unsized:
        print(f"warning: {report.unsized} object(s) could not be sized", file=err)


def _advice(report: Report) -> str:
    forge = report.limits.forge
    title = forge.name if forge is not None else "GitHub"
    limit = format_size(forge.file_limit if forge is not None else report.max_size)
    rule = (f"{title} refuses any file of {limit} or more that is not stored through Git LFS (or Xet)"
            if forge is not None and forge.lfs_only else
            f"{title} refuses a push holding any blob of {limit} or more, even one deleted again later")
    return "\n".join([f"{rule}. What to do:", *(f"  - {step}" for step in _advice_steps(report))])


def fix_line(report: Report, finding: Finding) -> str:
    """One command that takes this finding out of what would be pushed."""
    path = shell_word(finding.paths[0])
    lfs_only = report.limits.forge is not None and report.limits.forge.lfs_only
    if report.mode == "commit":
        if lfs_only:
            return f"git lfs track -- {path} && git add -- .gitattributes {path}"
        return f"git rm --cached -- {path}{REMARK}the file stays on disk; add it to .gitignore"
    if report.head_unpushed:
        return _amend_fix(report, path)
    return f"git lfs migrate import --include={path} --include-ref=HEAD{REMARK}or labhooks clean-large, below"


def _amend_fix(report: Report, path: str) -> str:
    if report.head_only_adds:
        # amending would leave the commit empty, which git refuses: drop the commit instead
        undo = "git update-ref -d HEAD" if report.head_is_root else "git reset --soft HEAD~1"
        return (f"{undo} && git rm --cached -- {path}{REMARK}"
                "undoes your last commit, which only added it; the file stays")
    return f"git rm --cached -- {path} && git commit --amend --no-edit"


def _advice_steps(report: Report) -> list[str]:
    size_arg = git_size_arg(report.max_size)
    if report.mode == "commit":
        return [
            "unstage each file as its fix line shows (the file stays on disk; add it to .gitignore)",
            "or store them with Git LFS: git lfs track -- NAME && git add -- .gitattributes NAME",
        ]
    if report.mode == "pre-receive":
        quoted = shell_word(report.errors[0].paths[0])
        return [
            f"remove them from history: labhooks clean-large --max {size_arg}",
            f"or move them to Git LFS: git lfs migrate import --include={quoted}",
        ]
    steps = []
    if report.head_unpushed:
        steps.append("they came in with your last, unpushed commit: run the fix line under each")
    steps += [
        f"{'or ' if steps else ''}remove them from history (backup first, then rewrite): "
        f"labhooks clean-large --max {size_arg}",
        "or move them to Git LFS: git lfs migrate import --include=PATH for commits already made",
    ]
    return steps


def shell_word(path: str) -> str:
    """``path`` as one shell word that names exactly this file when pasted: quoted where
    needed, and in bash's $'...' form when it holds characters a line cannot show."""
    if path.isprintable():
        import shlex

        return shlex.quote(path)
    escaped = []
    for ch in path:
        if ch == "'" or ch == "\\":
            escaped.append("\\" + ch)
        elif ch.isprintable():
            escaped.append(ch)
        else:
            escaped.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogateescape")))
    return "$'" + "".join(escaped) + "'"
