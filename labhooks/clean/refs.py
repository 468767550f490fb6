"""Reading and writing refs in bulk: one ``for-each-ref`` or ``update-ref --stdin`` each."""

from __future__ import annotations

from dataclasses import dataclass

from labhooks.git.process import GitError, run_git


@dataclass(frozen=True, slots=True)
class Ref:
    name: str
    oid: str
    peeled: str | None  # the commit a tag points at; None for a non-commit target


def list_refs(cwd, prefix: str = "refs/") -> dict[str, Ref]:
    """Every direct ref under ``prefix`` (symbolic refs follow their target, so are left out)."""
    out = run_git(
        ["for-each-ref", "--format=%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)%00"
         "%(*objecttype)%00%(symref)", prefix], cwd,
    ).stdout
    refs: dict[str, Ref] = {}
    for line in out.splitlines():
        name, oid, kind, peeled, peeled_kind, symref = line.split("\0")
        if symref:
            continue
        if kind == "commit":
            commit = oid
        elif kind == "tag" and peeled_kind == "commit":
            commit = peeled
        else:
            commit = None
        refs[name] = Ref(name, oid, commit)
    return refs


def update_refs(cwd, lines: list[str]) -> None:
    """Apply ``update-ref --stdin`` commands in one transaction."""
    if not lines:
        return
    proc = run_git(["update-ref", "--stdin"], cwd, input="".join(line + "\n" for line in lines), check=False)
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        raise GitError(f"git update-ref failed: {detail[-1] if detail else proc.returncode}", 1)


def stash_entries(cwd) -> list[tuple[str, str]]:
    """(commit, message) of every stash entry, newest first, as ``git stash list`` shows them."""
    proc = run_git(["log", "-g", "--format=%H%x00%gs", "refs/stash", "--"], cwd, check=False)
    if proc.returncode != 0:
        return []
    entries = []
    for line in proc.stdout.splitlines():
        oid, _, message = line.partition("\0")
        entries.append((oid, message))
    return entries
