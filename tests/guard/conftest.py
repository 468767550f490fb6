"""The hooks repository the runners' tests install from: a committed snapshot of the
working tree under test (uncommitted work included), as a user's `repo:` line names a
clone of labhooks at a tag."""

from __future__ import annotations

import fcntl
import os

import pytest
from helpers import REPO_ROOT, Repo, copy_worktree


@pytest.fixture(scope="session")
def hooks_repo(tmp_path_factory):
    """(path, commit) of the snapshot, made once and shared by the xdist workers."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    source = shared / "labhooks-hooks-repo"
    with open(shared / "hooks-repo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "hooks-repo.ready"
        if not done.exists():
            copy_worktree(REPO_ROOT, source)
            done.write_text(Repo.init(source).commit("snapshot of the working tree under test"))
        return source, done.read_text()

