"""Questions about the repository itself: where it is, what HEAD is, how it is cloned."""

from __future__ import annotations

import os

from labhooks.git.process import BackgroundGit, GitError, git_output, run_git
from labhooks.git.records import IndexEntry, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def not_a_repository(cwd=None) -> GitError:
    where = os.path.realpath(cwd or os.curdir)
    return GitError(f"not a git repository: {where} (run this inside a git repository)")


def _rev_parse(flag: str, cwd) -> str:
    proc = run_git(["rev-parse", flag], cwd, check=False)
    if proc.returncode != 0:
        raise not_a_repository(cwd)
    return proc.stdout.strip()


def repo_root(cwd=None) -> Path:
    """Top of the working tree; refuses bare repositories and non-repositories."""
    from pathlib import Path

    root = _rev_parse("--show-toplevel", cwd)
    if not root:
        raise GitError(f"{os.path.realpath(cwd or os.curdir)} is a bare repository: run this in a working tree")
    return Path(root)


def git_dir(cwd=None) -> Path:
    from pathlib import Path

    return Path(_rev_parse("--absolute-git-dir", cwd))


def common_dir(cwd=None) -> Path:
    from pathlib import Path

    path = Path(_rev_parse("--git-common-dir", cwd))
    return path if path.is_absolute() else (Path(cwd or ".") / path).resolve()


def ensure_repo(cwd=None) -> None:
    """One clear line unless ``cwd`` is in a repository (bare or not)."""
    _rev_parse("--absolute-git-dir", cwd)


def hooks_dir(cwd=None) -> Path:
    """Where git runs hooks from, honouring core.hooksPath."""
    from pathlib import Path

    path = Path(git_output(["rev-parse", "--git-path", "hooks"], cwd))
    if not path.is_absolute():
        path = (Path(cwd or ".").resolve() / path).resolve()
    return path


def is_null_oid(oid: str) -> bool:
    return bool(oid) and set(oid) == {"0"}


def is_unpushed(commit: str, cwd=None) -> bool:
    """Whether no remote-tracking ref holds ``commit`` (False when git cannot say)."""
    proc = run_git(["for-each-ref", "--contains", commit, "--count=1", "refs/remotes"], cwd, check=False)
    return proc.returncode == 0 and not proc.stdout.strip()


def head_commit(cwd=None) -> str | None:
    proc = run_git(["rev-parse", "--verify", "-q", "HEAD^{commit}"], cwd, check=False)
    return proc.stdout.strip() or None


# Set (to anything but false) when objects may be missing and git would fetch them on
# demand; the pre-push hook reads the same keys (install-hooks writes them into it).
PARTIAL_CLONE_KEYS = ("extensions.partialclone", "remote.*.promisor")


def config_pattern(keys) -> str:
    """A ``git config --get-regexp`` pattern for exactly these keys ('*': any name)."""
    return "^(" + "|".join(key.replace(".", r"\.").replace("*", ".*") for key in keys) + ")$"


def config_values(pattern: str, cwd=None) -> dict[str, str]:
    """The ``git config`` values whose keys match ``pattern`` (none outside a repository),
    from one git process; the last value wins, as in git. Keys as git prints them:
    section and name lower-cased, a subsection (a remote's name) as written."""
    return ConfigQuery(pattern, cwd).values()


class ConfigQuery:
    """:func:`config_values`, asked now and read later (git answers while the caller
    goes on: the commit hook)."""

    def __init__(self, pattern: str, cwd=None):
        self._query = BackgroundGit(["config", "--get-regexp", pattern], cwd)

    def values(self) -> dict[str, str]:
        values = {}
        for line in self._query.result(check=False).stdout.splitlines():
            key, _, value = line.partition(" ")
            values[key] = value.strip()
        return values

    def close(self) -> None:
        self._query.close()


def is_partial_clone(cwd=None) -> bool:
    """True when objects may be missing locally and git would fetch them on demand."""
    proc = run_git(
        ["config", "--get-regexp", config_pattern(PARTIAL_CLONE_KEYS)],
        cwd, check=False,
    )
    return any(line.split(" ", 1)[-1].strip() not in ("", "false") for line in proc.stdout.splitlines())


def refs_to_trees_or_blobs(cwd=None) -> list[str]:
    """Refs that point (maybe through tags) at a tree or a blob instead of a commit.

    What they reach is pushed and kept like any commit's content, yet no commit adds it,
    so a walk over commits alone never sees it.
    """
    out = git_output(["for-each-ref", "--format=%(objectname) %(objecttype) %(*objecttype)"], cwd)
    tips = []
    for line in out.splitlines():
        oid, kind, peeled = (line.split(" ") + ["", ""])[:3]
        if (peeled or kind) in ("tree", "blob"):
            tips.append(oid)
    return tips


class DiskUsage(Record):
    __slots__ = ("objects", "pack_bytes", "loose_bytes")

    def __init__(self, objects: int, pack_bytes: int, loose_bytes: int):
        self.objects = objects  # packed + loose, as ``git count-objects -v`` counts them
        self.pack_bytes = pack_bytes
        self.loose_bytes = loose_bytes


def disk_usage(cwd=None) -> DiskUsage:
    values = {}
    for line in run_git(["count-objects", "-v"], cwd).stdout.splitlines():
        key, _, value = line.partition(": ")
        if value.strip().isdigit():
            values[key] = int(value)
    return DiskUsage(values.get("in-pack", 0) + values.get("count", 0),
                     values.get("size-pack", 0) * 1024, values.get("size", 0) * 1024)


def index_entries(listing: str) -> list[IndexEntry]:
    """The entries of ``git ls-files --stage -z`` output.

    Each record is "MODE OID STAGE\tPATH", with a 6-digit mode, a one-digit stage and
    one id width per repository, so fields are cut at fixed offsets (half the time of
    splitting 10,000 records); a record that does not fit is split instead.
    """
    records = [record for record in listing.split("\0") if record]
    if not records:
        return []
    width = records[0].find("\t") - 9  # 40 (SHA-1) or 64 (SHA-256)
    entries = []
    for record in records:
        if record[width + 9:width + 10] == "\t" and record[6:7] == " ":
            entries.append(IndexEntry(record[:6], record[7:7 + width], record[width + 8], record[width + 10:]))
        else:
            meta, path = record.split("\t", 1)
            mode, oid, stage = meta.split(" ")
            entries.append(IndexEntry(mode, oid, stage, path))
    return entries
