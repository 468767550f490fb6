"""The guard's one report format: what was found, and what to do about it."""

from __future__ import annotations

import sys

from labhooks.guard.checks import Finding, Report
from labhooks.sizes import format_size, git_size_arg
from labhooks.text import printable

_LIMIT_NOTE = "GitHub refuses a push holding any blob over 100 MiB, even one deleted again later"


def _describe(finding: Finding, with_commit: bool) -> str:
    paths = ", ".join(printable(p) for p in finding.paths)
    line = f"  {paths}  {format_size(finding.size)}"
    if with_commit:
        if finding.commit is not None:
            line += f"  (introduced in {finding.commit.short} {printable(finding.commit.subject)})"
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
        paths = ", ".join(printable(p) for p in finding.paths)
        where = f" (introduced in {finding.commit.short} {finding.commit.subject})" if finding.commit else ""
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

    return shlex.quote(printable(path))
