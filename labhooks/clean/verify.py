"""Judge a rewrite by the repository it left: refs, remotes, trees and what is still stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from labhooks.clean.bfg import PLACEHOLDER_MODE, PLACEHOLDER_SUFFIX, placeholder_blob
from labhooks.clean.pins import PIN_NAMESPACE
from labhooks.clean.preflight import changed_tracked
from labhooks.clean.refs import Ref, list_refs, stash_entries
from labhooks.git.objects import (
    LFS_POINTER_MAX,
    LFS_POINTER_PREFIX,
    batch_check,
    blob_contents,
)
from labhooks.git.process import run_git
from labhooks.git.repo import head_commit
from labhooks.git.store import store_blobs_at_least
from labhooks.sizes import format_size
from labhooks.text import printable

TreeListing = dict[str, tuple[str, str]]  # path -> (mode, blob or commit id)


def tree_listing(commit: str, cwd) -> TreeListing:
    out = run_git(["ls-tree", "-r", "-z", "--full-tree", commit], cwd).stdout
    listing = {}
    for record in out.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            mode, _kind, oid = meta.split(" ")
            listing[path] = (mode, oid)
    return listing


def remote_config(cwd) -> list[str]:
    """Every remote.* setting of the repository's own config, in file order."""
    proc = run_git(["config", "--local", "--null", "--get-regexp", r"^remote\."], cwd, check=False)
    return [entry for entry in proc.stdout.split("\0") if entry]


def remote_names(entries: list[str]) -> set[str]:
    """The remote names in ``remote_config`` entries (``remote.NAME.key\nvalue``)."""
    return {entry.split("\n", 1)[0][len("remote."):].rsplit(".", 1)[0] for entry in entries}


def user_refs(cwd) -> dict[str, Ref]:
    return {name: ref for name, ref in list_refs(cwd).items() if not name.startswith(PIN_NAMESPACE)}


@dataclass
class Snapshot:
    refs: dict[str, Ref]
    remotes: list[str]
    stash_count: int
    head_commit: str | None
    trees: dict[str, TreeListing] = field(default_factory=dict)  # commit -> listing
    root_trees: dict[str, str] = field(default_factory=dict)  # commit -> its root tree id


def take(root: Path, with_trees: bool = True) -> Snapshot:
    refs = user_refs(root)
    snap = Snapshot(refs, remote_config(root), len(stash_entries(root)), head_commit(root))
    if with_trees:
        commits = sorted({ref.peeled for ref in refs.values() if ref.peeled})
        for commit in commits:
            snap.trees[commit] = tree_listing(commit, root)
        if commits:
            trees = run_git(["rev-parse", *[c + "^{tree}" for c in commits]], root).stdout.split()
            snap.root_trees = dict(zip(commits, trees))
    return snap


def restore_remotes(root: Path, before: Snapshot) -> bool:
    """Put back remote settings a backend removed; True when something had to be restored."""
    now = remote_config(root)
    if now == before.remotes:
        return False
    for name in remote_names(before.remotes + now):
        run_git(["config", "--local", "--remove-section", f"remote.{name}"], root, check=False)
    for entry in before.remotes:
        key, _, value = entry.partition("\n")
        run_git(["config", "--local", "--add", key, value], root)
    return True


def _is_pointer_for(content: bytes, size: int) -> bool:
    return content.startswith(LFS_POINTER_PREFIX + b"\n") and b"\nsize %d\n" % size in content


def _pointer_texts(oids: set[str], cwd) -> dict[str, bytes]:
    """The content of each of these blobs small enough to be a pointer, read in one cat-file."""
    sizes = batch_check(oids, cwd)
    small = [oid for oid, record in sizes.items()
             if record.type == "blob" and record.size is not None and record.size < LFS_POINTER_MAX]
    return blob_contents(small, cwd)


def _expected_after_strip(old: TreeListing, doomed: dict[str, int], placeholders: bool) -> TreeListing:
    """The tree a strip must give: doomed blobs gone, or (BFG's placeholders) each replaced
    by ``<name>.REMOVED.git-id``, a 100644 blob holding the old id."""
    expected = {p: e for p, e in old.items() if e[1] not in doomed}
    if placeholders:
        for path, (_mode, oid) in old.items():
            if oid in doomed:
                expected[path + PLACEHOLDER_SUFFIX] = (PLACEHOLDER_MODE, placeholder_blob(oid))
    return expected


def compare_trees(before: Snapshot, after: Snapshot, doomed: dict[str, int], root: Path, *,
                  lfs: bool = False, protected_tree: str | None = None, placeholders: bool = False) -> list[str]:
    """Every path at every ref tip must be unchanged, apart from the blobs asked for.

    ``protected_tree``: BFG's protection keeps every commit whose root tree is this one as it was.
    """
    problems: list[str] = []
    pointer_oids: set[str] = set()
    pending: list[tuple[str, str, int, str]] = []  # (ref, path, size, new oid) to check as pointers
    after_cache: dict[str, TreeListing] = {}
    protected_commits = {c for c, t in before.root_trees.items() if protected_tree is not None and t == protected_tree}
    for name, ref in sorted(before.refs.items()):
        new_commit = after.refs[name].peeled if name in after.refs else None
        if not ref.peeled or not new_commit:
            continue
        old = before.trees[ref.peeled]
        new = after_cache.get(new_commit)
        if new is None:
            new = after_cache[new_commit] = tree_listing(new_commit, root)
        if ref.peeled in protected_commits:
            expected = old
        elif lfs:
            expected = {p: e for p, e in old.items() if e[1] not in doomed and p.rsplit("/", 1)[-1] != ".gitattributes"}
            for path, (mode, oid) in old.items():
                if oid in doomed:
                    if path not in new:
                        problems.append(f"{name}: {printable(path)} is gone instead of becoming an LFS pointer")
                    else:
                        pending.append((name, path, doomed[oid], new[path][1]))
                        pointer_oids.add(new[path][1])
            new = {p: e for p, e in new.items()
                   if p in expected or (p not in old and p.rsplit("/", 1)[-1] != ".gitattributes")}
        else:
            expected = _expected_after_strip(old, doomed, placeholders)
        if new != expected:
            changed = sorted(set(new.items()) ^ set(expected.items()))
            paths = sorted({printable(path) for path, _ in changed})
            problems.append(f"{name}: {len(paths)} path(s) differ besides the stripped blobs: {', '.join(paths[:5])}")
    texts = _pointer_texts(pointer_oids, root) if pointer_oids else {}
    for name, path, size, oid in pending:
        if not _is_pointer_for(texts.get(oid, b""), size):
            problems.append(f"{name}: {printable(path)} is not an LFS pointer to a {size}-byte object")
    return problems


def compare_refs(before: Snapshot, after: Snapshot) -> list[str]:
    problems = []
    missing = sorted(set(before.refs) - set(after.refs))
    extra = sorted(set(after.refs) - set(before.refs))
    if missing:
        problems.append(f"refs lost: {', '.join(missing)}")
    if extra:
        problems.append(f"refs that were not there before: {', '.join(extra)}")
    if after.remotes != before.remotes:
        problems.append("remote settings differ from before the rewrite")
    if after.stash_count != before.stash_count:
        problems.append(f"stash had {before.stash_count} entries, now {after.stash_count}")
    return problems


def worktree_changes(root: Path) -> list[str]:
    """Tracked files that differ from the index or HEAD after the rewrite (there should be none)."""
    changed = changed_tracked(root)
    if not changed:
        return []
    return [f"tracked files changed in the working tree: {', '.join(printable(p) for p in changed[:5])}"]


def leftover_blobs(root: Path, max_bytes: int, allowed: set[str]) -> tuple[list[str], int]:
    """Problems for blobs over max still stored anywhere, and the number of objects left."""
    query = store_blobs_at_least(max_bytes, root)
    left = [blob for blob in query.blobs if blob.oid not in allowed]
    problems = [f"blob {blob.oid} ({format_size(blob.size)}) is still in the repository" for blob in left]
    return problems, query.objects or 0
