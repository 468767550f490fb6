"""What each mode of the guard looks at, and which blobs it finds there."""

from __future__ import annotations

import os
import sys

from labhooks.errors import LabhooksError
from labhooks.git.objects import (
    batch_check,
    blobs_at_least,
    raw_blob_sizes,
    stream_objects,
)
from labhooks.git.process import BackgroundGit, run_git
from labhooks.git.records import GITLINK_MODE, Commit, ObjectRecord, Record
from labhooks.git.repo import (
    ensure_repo,
    head_commit,
    is_null_oid,
    is_partial_clone,
    is_unpushed,
    not_a_repository,
    index_entries,
    refs_to_trees_or_blobs,
)
from labhooks.guard.notebooks import NotebookLimits, NotebookReport, check_notebooks
from labhooks.sizes import reaches

TYPE_CHECKING = False
if TYPE_CHECKING:
    from labhooks.git.store import StoreListing

# Above this many names, matching pathspecs costs git O(files x names): list the whole
# index once and filter by set membership instead.
_PATHSPEC_LIMIT = 64


class Finding(Record):
    __slots__ = ("oid", "size", "paths", "commit")

    def __init__(self, oid: str, size: int, paths: list[str], commit: Commit | None = None):
        self.oid = oid
        self.size = size
        self.paths = paths
        self.commit = commit


class Limits(Record):
    """The sizes a check applies and where the refusal size came from."""

    __slots__ = ("max_size", "warn_size", "max_source", "forge", "push_limit", "push_source")

    def __init__(self, max_size: int, warn_size: int | None, max_source: str, forge=None,
                 push_limit: int | None = None, push_source: str | None = None):
        self.max_size = max_size
        self.warn_size = warn_size  # None: no warnings
        self.max_source = max_source  # "--max", "git config labhooks.maxsize", "forge", "default"
        self.forge = forge  # labhooks.forges.Forge whose rules apply (None: server side)
        self.push_limit = push_limit  # a push of this estimated size or more is refused (None: no rule)
        self.push_source = push_source  # who says so: the forge's name, "git config labhooks.pushlimit"


class Report(Record):
    __slots__ = ("mode", "limits", "errors", "warnings", "unsized", "unreachable", "head_unpushed",
                 "scope", "refs", "commits", "blobs", "push_bytes", "push_too_big", "excluded",
                 "forge_why", "head_only_adds", "head_is_root", "not_staged", "not_lfs", "baselined", "baseline",
                 "lfs_blobs", "lfs_fix_amends", "lfs_hook_missing", "lfs_unchecked", "notebooks")

    def __init__(self, mode: str, limits: Limits):
        self.mode = mode
        self.limits = limits
        self.errors: list[Finding] = []
        self.warnings: list[Finding] = []
        self.unsized = 0  # objects missing locally (partial clone), never fetched
        self.unreachable = 0  # big blobs in the store that no ref reaches (--all only)
        self.head_unpushed = False  # HEAD is the only commit to fix and not on any remote
        self.scope = ""  # what was checked, in words, for the summary line
        self.refs: int | None = None  # refs pushed, when known
        self.commits: int | None = None  # commits walked, when counted
        self.blobs: int | None = None  # blobs looked at, when counted
        self.push_bytes: int | None = None  # estimated size of what a push sends
        self.push_too_big = False  # push_bytes reaches the forge's push limit
        self.excluded: list[Finding] = []  # let through by --exclude though the forge refuses them
        self.forge_why: str | None = None
        self.head_only_adds = False  # HEAD changes nothing but adding the refused files
        self.head_is_root = False
        self.not_staged: list[str] = []  # commit mode: names given that are not in the index
        self.not_lfs: list[Finding] = []  # filter=lfs paths staged as raw content, not pointers
        self.baselined: list[Finding] = []  # over the limit but listed in the baseline file
        self.baseline: str | None = None
        self.lfs_blobs: int | None = None  # history modes: blobs at filter=lfs paths looked at, when any
        self.lfs_fix_amends = False  # every not_lfs blob came in with HEAD, unpushed: amend it
        self.lfs_hook_missing: str | None = None  # who owns a pre-push hook that would not upload the fixed files
        self.lfs_unchecked = False  # partial clone: a .gitattributes needed is missing here
        self.notebooks: NotebookReport | None = None  # commit mode: notebooks with big outputs

    @property
    def max_size(self) -> int:
        return self.limits.max_size

    @property
    def warn_size(self) -> int | None:
        return self.limits.warn_size

    @property
    def refused(self) -> bool:
        """Whether this check stops the commit or push (exit 1)."""
        return bool(self.errors or self.push_too_big or self.not_lfs
                    or (self.notebooks is not None and self.notebooks.refused))


def _excluded(paths: list[str], globs: list[str]) -> bool:
    if not globs or not paths:
        return False
    from fnmatch import fnmatchcase  # only with --exclude: fnmatch imports re

    return all(
        any(fnmatchcase(path, g) or fnmatchcase(path.rsplit("/", 1)[-1], g) for g in globs)
        for path in paths
    )


def _classify(report: Report, findings: list[Finding], excludes: list[str]) -> None:
    forge = report.limits.forge
    for finding in sorted(findings, key=lambda f: (-f.size, f.paths)):
        if _excluded(finding.paths, excludes):
            if forge is not None and reaches(finding.size, forge.file_limit):
                report.excluded.append(finding)
            continue
        if reaches(finding.size, report.max_size):
            report.errors.append(finding)
        elif report.warn_size is not None and reaches(finding.size, report.warn_size):
            report.warnings.append(finding)


def _threshold(limits: Limits) -> int:
    sizes = [limits.max_size, limits.warn_size]
    if limits.forge is not None:
        sizes.append(limits.forge.file_limit)  # an --exclude'd blob the forge refuses gets a note
    return min(size for size in sizes if size is not None)


class StagedQuery:
    """The commit hook's three questions to git, asked at once as soon as the file names
    are known: where the working tree is, what the index holds for those names, and
    their ``filter`` attribute. git answers on the other core while Python reads the
    settings; :func:`check_staged` collects the answers."""

    def __init__(self, files: list[str]):
        self.files = files
        self.worktree = BackgroundGit(["rev-parse", "--show-toplevel", "--show-prefix", "--git-path", "objects"])
        # --full-name and ":(top)": root-relative answers whatever folder the hook runs in
        if files and len(files) <= _PATHSPEC_LIMIT:
            specs = [f":(literal){name}" for name in files]
        else:
            specs = [":(top)"]
        self.index = BackgroundGit(["ls-files", "--stage", "-z", "--full-name", "--", *specs])
        # Asked for the names as given, which pre-commit and prek give as files; names of
        # folders are asked again below for the files under them.
        self.attributes = (BackgroundGit(["check-attr", "--stdin", "-z", "filter"],
                                         input="".join(name + "\0" for name in files))
                           if files else None)

    def close(self) -> None:
        for query in (self.worktree, self.index, self.attributes):
            if query is not None:
                query.close()


def check_staged(query: StagedQuery, limits: Limits, excludes: list[str],
                 notebooks: NotebookLimits | None = None) -> Report:
    top, prefix, objects_dir = _worktree(query.worktree)
    files = query.files
    report = Report("commit", limits)
    listing = query.index.result().stdout
    entries = index_entries(listing)
    targets: set[str] = set()
    if files:
        wanted = _all_root_relative(prefix, files)
        targets = set(wanted)
        if len(wanted) > _PATHSPEC_LIMIT:
            entries = _filter_entries(entries, targets)
        report.not_staged = _not_in_index(files, wanted, entries)
    if GITLINK_MODE in listing:  # else no entry can be a submodule
        entries = [e for e in entries if e.mode != GITLINK_MODE]
    if not entries:
        return report
    threshold = _threshold(limits)
    unproven = _not_proven_small(objects_dir, dict.fromkeys([entry.oid for entry in entries]), threshold)
    by_oid: dict[str, list[str]] = {oid: [] for oid in unproven}  # only these can be findings
    for entry in entries:
        if entry.oid in by_oid:
            by_oid[entry.oid].append(entry.path)
    sizes = batch_check(unproven, cwd=top)
    findings = []
    for oid in unproven:
        paths = by_oid[oid]
        record = sizes.get(oid)
        if record is None or record.size is None:
            report.unsized += 1
        elif reaches(record.size, threshold):
            findings.append(Finding(oid, record.size, paths))
    _classify(report, findings, excludes)
    _check_lfs_pointers(report, entries, _lfs_paths(query, prefix, targets, entries, top), top)
    if notebooks is not None:
        report.notebooks = check_notebooks(entries, notebooks, top, skip={f.oid for f in report.errors})
    return report


def _lfs_paths(query: StagedQuery, prefix: str, asked: set[str], entries, top: str) -> set[str]:
    """The staged paths whose ``filter`` attribute is ``lfs``; ``asked``: the paths the
    query's own check-attr answered for (the names given, root-relative)."""
    lfs: set[str] = set()
    if query.attributes is not None:
        lfs.update(_root_relative(prefix, path) for path in _lfs_filtered(query.attributes.result().stdout))
    rest = [entry.path for entry in entries if entry.path not in asked]
    if rest:  # no names given, or names of folders: ask for the files themselves
        lfs.update(_lfs_filtered(run_git(["check-attr", "--stdin", "-z", "filter"], top,
                                         input="".join(path + "\0" for path in rest)).stdout))
    return lfs


def _lfs_filtered(answer: str) -> list[str]:
    """The paths that ``git check-attr -z filter`` output ("path\0filter\0value\0"...)
    says are ``filter=lfs``."""
    if "\0lfs\0" not in answer:  # as a value, or a path named lfs: else nothing to split
        return []
    fields = answer.split("\0")
    return [fields[i] for i in range(0, len(fields) - 2, 3) if fields[i + 2] == "lfs"]


def _check_lfs_pointers(report: Report, entries, lfs_paths: set[str], top: str) -> None:
    """Staged files whose attributes say ``filter=lfs`` but whose blob is raw content: the
    commit of someone without git-lfs installed, which every clone expects as a pointer.
    Only the few LFS paths are read (a blob too big to be a pointer is judged by its size
    alone)."""
    if not lfs_paths:
        return
    raw_sizes = raw_blob_sizes([entry.oid for entry in entries if entry.path in lfs_paths], cwd=top)
    report.not_lfs.extend(Finding(entry.oid, raw_sizes[entry.oid], [entry.path])
                          for entry in entries if entry.path in lfs_paths and entry.oid in raw_sizes)
    if report.not_lfs:
        from labhooks.guard.lfs import pre_push_without_lfs

        report.lfs_hook_missing = pre_push_without_lfs()


# deflate cannot shrink data more than 1032:1 (one 2-bit code per 258-byte match)
_DEFLATE_MAX_RATIO = 1032


def _not_proven_small(objects_dir: str, oids, threshold: int) -> list[str]:
    """The blobs of ``oids`` that their loose object's file does not prove under ``threshold``.

    A freshly staged file is a loose object; one stat of its file is far cheaper than
    having cat-file open and inflate thousands of them, and the bound is exact math, not
    a guess: anything not proven small this way is sized by git. The files are named
    from an open handle on the objects folder, so the kernel walks two path components
    per file instead of the whole absolute path (half the time for 10,000 files).
    """
    stat = os.stat
    folder = None
    if stat in os.supports_dir_fd:
        try:
            folder = os.open(objects_dir, os.O_RDONLY)
        except OSError:
            return list(oids)  # no objects folder to read: ask git about every blob
    unproven = []
    try:
        for oid in oids:
            try:
                if folder is None:
                    stored = stat(f"{objects_dir}/{oid[:2]}/{oid[2:]}").st_size
                else:
                    stored = stat(f"{oid[:2]}/{oid[2:]}", dir_fd=folder).st_size
            except OSError:
                unproven.append(oid)  # packed, in an alternate, or missing: ask git
                continue
            if (stored + 1) * _DEFLATE_MAX_RATIO >= threshold:
                unproven.append(oid)
    finally:
        if folder is not None:
            os.close(folder)
    return unproven


def _worktree(query: BackgroundGit) -> tuple[str, str, str]:
    proc = query.result(check=False)
    lines = proc.stdout.split("\n")
    if proc.returncode != 0 or len(lines) < 3:
        if "work tree" in proc.stderr or proc.returncode == 0:
            raise LabhooksError("commit mode needs a working tree; this is a bare repository (use --all)", 2)
        raise not_a_repository()
    top = lines[0]
    objects_dir = lines[2] if os.path.isabs(lines[2]) else os.path.join(os.getcwd(), lines[2])
    return top, lines[1], objects_dir


def _all_root_relative(prefix: str, names: list[str]) -> list[str]:
    """:func:`_root_relative` of every name; pre-commit's names (root-relative, normal)
    are checked all at once, since "/NAME/" holds "//", "/./" or "/../" exactly where
    the names joined by "/" do."""
    joined = "/" + "/".join(names) + "/"
    if not prefix and "//" not in joined and "/./" not in joined and "/../" not in joined:
        return names
    return [_root_relative(prefix, name) for name in names]


def _root_relative(prefix: str, name: str) -> str:
    if not prefix and "//" not in name and "/./" not in f"/{name}/" and "/../" not in f"/{name}/":
        return name  # already what pre-commit passes: root-relative and normal
    # git's own pathspec check refuses a name outside the working tree
    return os.path.normpath(prefix + name).replace(os.sep, "/")


def _not_in_index(files: list[str], wanted: list[str], entries) -> list[str]:
    """The names given that match nothing in the index (as typed), so that saying nothing
    about them is never mistaken for "checked and fine"."""
    paths = {entry.path for entry in entries}
    missing = []
    for name, path in zip(files, wanted):
        if path in paths or path in (".", ""):
            continue
        if not any(p.startswith(path.rstrip("/") + "/") for p in paths):
            missing.append(name)
    return missing


def _filter_entries(entries, targets: set[str]):
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
        if is_null_oid(local_oid):
            continue  # a deletion sends no objects
        tips.append(local_oid)
        if not is_null_oid(remote_oid):
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
    out = run_git(["rev-list", "--no-walk", "--ignore-missing", "--missing=allow-any", "--stdin"],
                           input="".join(o + "\n" for o in oids)).stdout
    return out.split()


def _remote_refs(remote: str | None) -> list[str]:
    # a URL or path given instead of a remote name matches no ref: harmless
    return [f"--remotes={remote}"] if remote else []


# "every commit no remote has": what a push could send when no push says what it sends
UNPUSHED = ["--branches", "--tags", "--not", "--remotes"]


def precommit_revisions(env) -> tuple[list[str], str] | None:
    """The range pre-commit's (or prek's) pre-push stage describes, and its words for the
    summary; None when neither runs us with one."""
    remote = env.get("PRE_COMMIT_REMOTE_NAME")
    from_ref, to_ref = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
    # both runners hand a hook one ref of a push, the first that sends anything
    one_ref = "the ref pre-commit passed (one per push; `labhooks install-hooks` checks every ref)"
    if from_ref and to_ref:
        return [to_ref, "--not", from_ref, *_remote_refs(remote)], one_ref
    local = to_ref or env.get("PRE_COMMIT_LOCAL_BRANCH")
    if local:
        # no range when the whole branch is new to the remote
        return [local, "--not", *_remote_refs(remote)], one_ref
    return None


def _under_hook_runner(env) -> bool:
    return env.get("PRE_COMMIT") == "1" or "PREK_HOOK_STAGE" in env


def check_push(limits: Limits, excludes: list[str], *, remote: str | None = None,
               stdin: bytes | None = None, env=None) -> Report:
    env = os.environ if env is None else env
    report = Report("push", limits)
    given = None if remote else precommit_revisions(env)
    lines: list[list[str]] = []
    if given is None:
        if stdin is None:
            if sys.stdin is None or (sys.stdin.isatty() and not _under_hook_runner(env)):
                raise LabhooksError(
                    "--push needs a pre-push hook's input on stdin or pre-commit's PRE_COMMIT_* "
                    "variables; to check the whole history use --all", 2)
            stdin = b"" if sys.stdin.isatty() else sys.stdin.buffer.read()
        lines = _read_lines(stdin)
    ensure_repo()
    if given is not None:
        revs, report.scope = given
    elif lines:
        revs = push_revisions(lines, remote or env.get("PRE_COMMIT_REMOTE_NAME"))
        report.refs = len(lines)
        report.scope = f"{len(lines)} ref(s) pushed"
    else:
        # pre-commit run by hand, try-repo, an empty input: no push says what goes, so
        # check everything that could go rather than pass having checked nothing
        revs = UNPUSHED
        report.scope = "no push range given, so every commit no remote has (--branches --tags --not --remotes)"
    if revs:
        _check_revisions(report, revs, excludes)
    else:
        report.commits = report.blobs = 0
    return report


def check_pre_receive(limits: Limits, excludes: list[str], stdin: bytes) -> Report:
    ensure_repo()
    tips = []
    for parts in _read_lines(stdin):
        if len(parts) != 3:
            raise LabhooksError(f"unexpected pre-receive input line: {' '.join(parts)!r}", 2)
        if not is_null_oid(parts[1]):
            tips.append(parts[1])
    report = Report("pre-receive", limits)
    report.refs = len(tips)
    if tips:
        # refs are not updated before pre-receive accepts: --all is what the server has
        _check_revisions(report, [*tips, "--not", "--all"], excludes)
    return report


def _check_revisions(report: Report, revs: list[str], excludes: list[str]) -> None:
    # imported here, not on the commit hook's path, which never walks a history
    from labhooks.git.history import find_blob_origins
    from labhooks.guard.lfs import check_lfs_history

    push_limit = report.limits.push_limit if report.mode == "push" else None
    query = blobs_at_least(revs, _threshold(report.limits), disk_size=push_limit is not None,
                           attribute_files=True)
    report.unsized = query.missing
    report.commits, report.blobs = query.commits, query.blob_count
    if push_limit is not None:
        report.push_bytes = query.disk_bytes
        report.push_too_big = push_too_big(query.disk_bytes, push_limit)
    check_lfs_history(report, revs, query.attribute_files)
    if not query.blobs:
        return
    origins = find_blob_origins([b.oid for b in query.blobs], revs)
    findings = []
    for blob in query.blobs:
        origin = origins.get(blob.oid)
        paths = origin.paths if origin else [blob.path or "(path unknown)"]
        # blobs_at_least names sized blobs only
        findings.append(Finding(blob.oid, blob.size or 0, paths, origin.commit if origin else None))
    _classify(report, findings, excludes)
    _note_head(report)


def push_too_big(push_bytes: int | None, push_limit: int) -> bool:
    """The push-size rule, the one place it is decided: a push's size is the sum of the
    store sizes (``%(objectsize:disk)``) of every object ``git rev-list --objects RANGE``
    lists, which is what ``git rev-list --disk-usage`` prints for the same range (the
    pre-push hook's fast path asks that, against the smallest limit any rule uses)."""
    return push_bytes is not None and reaches(push_bytes, push_limit)


def check_all(limits: Limits, excludes: list[str], listing: StoreListing | None = None) -> Report:
    """``listing``: a sizes-only StoreListing the caller already started; closed here."""
    from labhooks.git.history import find_blob_origins
    from labhooks.git.store import StoreListing, store_blobs_at_least
    from labhooks.guard.lfs import check_lfs_history

    report = Report("all", limits)
    report.scope = "every ref"
    threshold = _threshold(limits)
    # The store listing is nearly all of the time this takes when nothing is that big:
    # start it first and check the repository while git lists on another core.
    with listing or StoreListing() as listing:
        ensure_repo()
        if is_partial_clone():
            # the store cannot say what it lacks: walk, so missing objects get counted
            listing.close()
            _check_revisions(report, ["--all"], excludes)
            return report
        query = store_blobs_at_least(threshold, listing=listing)
    candidates = query.blobs
    report.scope = f"every ref ({query.objects} objects in the store)"
    check_lfs_history(report, ["--all"])
    if not candidates:
        return report  # nothing that big anywhere: no history walk needed
    sizes = {b.oid: b.size or 0 for b in candidates}  # a store listing sizes every object
    # One log walk confirms reachability and finds paths and the introducing commit:
    # a blob in any commit's tree shows up as added or modified in some commit's diff.
    origins = find_blob_origins(sizes, ["--all"])
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


def _reachable_without_commits(oids: list[str]) -> list[ObjectRecord]:
    """Blobs among ``oids`` reached from refs that point (maybe via tags) at trees or blobs."""
    tips = refs_to_trees_or_blobs()
    if not tips:
        return []
    wanted = set(oids)
    return [r for r in stream_objects(tips) if r.oid in wanted]


def _note_head(report: Report) -> None:
    """Advice differs when every refused blob came in with HEAD and HEAD is unpushed."""
    if not report.errors or any(f.commit is None for f in report.errors):
        return
    head = head_commit()
    if head is None or any(f.commit is None or f.commit.oid != head for f in report.errors):
        return
    report.head_unpushed = is_unpushed(head)
    if not report.head_unpushed:
        return
    # amending a commit that only added these files would leave it empty, which git refuses
    parents = run_git(["rev-list", "--parents", "-n", "1", head], check=False).stdout.split()[1:]
    changed = run_git(["diff-tree", "--root", "--no-commit-id", "-r", "-z", "--name-only", head],
                      check=False).stdout.split("\0")
    refused = {path for finding in report.errors for path in finding.paths}
    report.head_is_root = not parents
    report.head_only_adds = {path for path in changed if path} <= refused
