"""The safety net: a verified ``git bundle`` of every ref, outside the object store."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

from labhooks.clean import children
from labhooks.clean.pins import PIN_NAMESPACE
from labhooks.errors import LabhooksError
from labhooks.git.process import git_executable, run_git
from labhooks.sizes import format_size

# A bundle is one pack of everything reachable; repacking across all refs rarely makes it
# bigger than the packs it comes from, so their size plus a margin is a safe estimate.
_MARGIN = 1.10
_SLACK = 16 * 1024 * 1024


def default_dir(root: Path) -> Path:
    return root.parent


def bundle_path(root: Path, directory: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    candidate = directory / f"{root.name}-backup-{stamp}.bundle"
    counter = 1
    while candidate.exists():
        counter += 1
        candidate = directory / f"{root.name}-backup-{stamp}-{counter}.bundle"
    return candidate


def needed_bytes(store_bytes: int) -> int:
    return int(store_bytes * _MARGIN) + _SLACK


def ensure_room(directory: Path, store_bytes: int, free_bytes: int | None = None) -> None:
    need = needed_bytes(store_bytes)
    free = shutil.disk_usage(directory).free if free_bytes is None else free_bytes
    if free < need:
        raise LabhooksError(
            f"not enough disk space for the backup in {directory}: need about {format_size(need)}, "
            f"{format_size(free)} free (free some space, pass --backup-dir elsewhere, or --no-backup)", 2
        )


def check_directory(directory: Path, gitdir: Path, common: Path) -> Path:
    """The folder the bundle goes to: never inside the repository's git dir."""
    directory = directory.expanduser().resolve()
    for inside in (gitdir.resolve(), common.resolve()):
        if directory == inside or inside in directory.parents:
            raise LabhooksError(f"--backup-dir {directory} is inside the git dir {inside}: "
                                "choose a folder outside it", 2)
    if directory.exists() and not directory.is_dir():
        raise LabhooksError(f"--backup-dir {directory} is not a folder", 2)
    return directory


def create(root: Path, target: Path) -> Path:
    """Bundle every ref (``--all`` includes the stash and pinned stash entries), then verify it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        # stderr passes through: git shows its progress there on a terminal
        status = children.run_showing_output([git_executable(), "bundle", "create", str(partial), "--all"], root,
                                             discard_stdout=True)
        if status != 0:
            raise LabhooksError(f"backup failed (git bundle exit {status}, see above); nothing was changed", 1)
        verify = run_git(["bundle", "verify", "-q", str(partial)], root, check=False)
        if verify.returncode != 0:
            detail = verify.stderr.strip().splitlines()
            raise LabhooksError(f"backup did not verify, nothing was changed: {detail[-1] if detail else 'error'}", 1)
    except BaseException:
        partial.unlink(missing_ok=True)  # never leave a half-written bundle that looks like a backup
        raise
    partial.rename(target)
    return target


def restore_hint(bundle: Path | None, root: Path) -> str:
    if bundle is None:
        return "no backup was made (--no-backup)"
    return f"restore it from the backup: {restore_commands(bundle, root)}"


def restore_commands(bundle: Path, root: Path) -> str:
    """Both ways back, pasteable. In place, labhooks' own pins stay in the bundle (the
    negative refspec): brought back, they would block the next clean."""
    import shlex

    where = shlex.quote(str(bundle))
    return (f"git clone {where} {shlex.quote(root.name + '-restored')}, or in place: "
            f"git fetch --update-head-ok --force {where} '+refs/*:refs/*' '^{PIN_NAMESPACE}*' && git reset --hard")
