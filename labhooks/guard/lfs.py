"""LFS conformance in a history (push, pre-receive, ``--all``): a blob that a commit adds
at a path its own ``.gitattributes`` store through Git LFS (``filter=lfs``) must be an
LFS pointer. A raw blob there is what a collaborator without git-lfs commits: every clone
expects a pointer, and the repository now carries the binary for good.

How it is decided, in batches (docs/guard.md, "LFS that really is LFS"):

1. Skip it all unless some ``.gitattributes`` mentions ``filter=lfs``: in a blob the push
   sends, or in the tree of a tip or of a commit just outside the range (one ``git grep``).
2. One ``git log --raw`` walk gives each commit's first-parent changes and parents.
   Commits whose diff touches no ``.gitattributes`` have their first parent's attributes,
   so they join its group; each group is asked once (``git grep`` says which groups
   mention LFS at all, then one ``git check-attr`` per group that does, over every path
   its commits add).
3. Blobs at ``filter=lfs`` paths are sized in one ``cat-file``; only those small enough
   to be a pointer are read (one ``cat-file --batch``).
"""

from __future__ import annotations

from labhooks.git.attributes import ATTRIBUTES_NAME, attribute_at, commits_whose_attributes_mention
from labhooks.git.history import CommitChanges, commit_changes
from labhooks.git.objects import blob_contents, raw_blob_sizes
from labhooks.git.process import NO_FETCH_ENV, GitError, run_git, split_revs
from labhooks.git.records import Commit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from labhooks.guard.checks import Finding, Report

LFS_RULE = "filter=lfs"
_FILE_MODES = (b"100644", b"100755")  # git runs no filter on symlinks or submodules


def check_lfs_history(report: Report, revs: list[str], sent_attribute_files: Sequence[str] = ()) -> None:
    """Add to ``report.not_lfs`` every raw blob at an LFS path in the commits of ``revs``.

    ``sent_attribute_files``: ids of the ``.gitattributes`` blobs the range brings (from
    the listing the caller already made), read for the cheap skip.
    """
    try:
        _check(report, revs, sent_attribute_files)
    except GitError:
        from labhooks.git.repo import is_partial_clone

        if not is_partial_clone():
            raise
        # a .gitattributes blob this clone never fetched: nothing is fetched to find out
        report.lfs_unchecked = True


def _check(report: Report, revs: list[str], sent_attribute_files: Sequence[str]) -> None:
    from labhooks.guard.checks import Finding

    if not _lfs_mentioned(revs, sent_attribute_files):
        return
    commits = commit_changes(revs)
    groups = _attribute_groups(commits)
    lfs_groups = commits_whose_attributes_mention(set(groups.values()), LFS_RULE)
    if not lfs_groups:
        report.lfs_blobs = 0
        return
    paths_by_group: dict[str, set[bytes]] = {}
    for commit in commits:
        group = groups[commit.oid]
        if group in lfs_groups:
            paths_by_group.setdefault(group, set()).update(
                path for mode, _oid, path in commit.changes if mode in _FILE_MODES)
    lfs_paths = {group: {path for path, value in attribute_at(group, paths, "filter").items() if value == b"lfs"}
                 for group, paths in paths_by_group.items()}
    # blob -> (the commit that introduced it: the oldest in log order, its paths)
    found: dict[str, tuple[bytes, list[str]]] = {}
    for commit in commits:  # newest first: an older commit adding the blob takes over
        tracked = lfs_paths.get(groups[commit.oid])
        if not tracked:
            continue
        here = [(oid.decode(), path) for mode, oid, path in commit.changes if mode in _FILE_MODES and path in tracked]
        for oid, path_bytes in here:
            path = path_bytes.decode("utf-8", "surrogateescape")
            _header, paths = found.get(oid, (b"", []))
            found[oid] = (commit.header, [path, *(p for p in paths if p != path)])
    report.lfs_blobs = len(found)
    if not found:
        return
    raw_sizes = raw_blob_sizes(found)  # one missing here (partial clone): its size note says so
    raw = [Finding(oid, raw_sizes[oid], paths, Commit.parse(header))
           for oid, (header, paths) in found.items() if oid in raw_sizes]
    report.not_lfs.extend(sorted(raw, key=lambda f: f.paths))
    if raw and report.mode != "pre-receive":  # the server's report has its own words
        report.lfs_fix_amends = _all_in_unpushed_head(raw)
        report.lfs_hook_missing = pre_push_without_lfs()


def pre_push_without_lfs() -> str | None:
    """None when git-lfs's pre-push hook (which uploads the LFS objects) runs on a push
    from here, as the hook or as the one labhooks chains; otherwise who owns the pre-push
    hook ('labhooks', 'absent', another runner's name, or 'unknown'), which decides how
    git-lfs's hook can be put in."""
    from labhooks.guard.install import CHAINED_SUFFIX, identify
    from labhooks.git.repo import hooks_dir

    directory = hooks_dir()
    hook = directory / "pre-push"
    if any(identify(directory / name) == "git-lfs" for name in ("pre-push", "pre-push" + CHAINED_SUFFIX)):
        return None
    if not (hook.exists() or hook.is_symlink()):
        return "absent"
    return identify(hook) or "unknown"


def _lfs_mentioned(revs: list[str], sent_attribute_files: Sequence[str]) -> bool:
    """Whether any ``.gitattributes`` the range's commits may hold mentions LFS."""
    if sent_attribute_files:
        contents = blob_contents(sent_attribute_files)
        if any(LFS_RULE.encode() in content for content in contents.values()):
            return True
    ends = _range_ends(revs)
    return bool(ends and commits_whose_attributes_mention(ends, LFS_RULE))


def _range_ends(revs: list[str]) -> list[str]:
    """The range's tips and the commits just outside it (what a range's attributes start
    from), from one commit-only walk; for a range with no excluded side (``--all``) the
    refs' commits alone, which is cheaper still."""
    options, plain = split_revs(revs)
    payload = "".join(rev + "\n" for rev in plain)
    if "--not" not in options and not any(rev.startswith("^") for rev in plain):
        out = run_git(["rev-list", "--no-walk=unsorted", "--stdin", *options], input=payload,
                      env=NO_FETCH_ENV).stdout
        return out.split()
    out = run_git(["rev-list", "--boundary", "--parents", "--stdin", *options], input=payload,
                  env=NO_FETCH_ENV).stdout
    inside, parents, edges = [], set(), []
    for line in out.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0].startswith("-"):
            edges.append(words[0][1:])
        else:
            inside.append(words[0])
            parents.update(words[1:])
    return [oid for oid in inside if oid not in parents] + edges


def _attribute_groups(commits: list[CommitChanges]) -> dict[str, str]:
    """Each commit -> the commit whose tree's ``.gitattributes`` files equal its own and
    that starts its group: a commit whose first-parent diff leaves every
    ``.gitattributes`` alone has exactly its first parent's."""
    by_oid = {commit.oid: commit for commit in commits}
    group: dict[str, str] = {}
    for commit in commits:
        chain = []
        oid = commit.oid
        while oid not in group:
            current = by_oid[oid]
            first = current.parents[0] if current.parents else None
            if first is None or first not in by_oid or _touches_attributes(current):
                group[oid] = oid
                break
            chain.append(oid)
            oid = first
        for member in chain:
            group[member] = group[oid]
    return group


def _touches_attributes(commit: CommitChanges) -> bool:
    name = ATTRIBUTES_NAME.encode()
    return any(path == name or path.endswith(b"/" + name) for _mode, _oid, path in commit.changes)


def _all_in_unpushed_head(findings: list[Finding]) -> bool:
    """Whether every raw blob came in with HEAD and HEAD is on no remote: then amending
    HEAD fixes them all, with no history rewrite."""
    from labhooks.git.repo import head_commit, is_unpushed

    head = head_commit()
    if head is None or any(f.commit is None or f.commit.oid != head for f in findings):
        return False
    return is_unpushed(head)
