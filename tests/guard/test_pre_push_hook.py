"""The installed pre-push script itself: which pushes it proves clean with one git process,
and which it must hand to the full guard.

Routing is observed by taking labhooks away: a push the script proves clean passes
without Python, and every push it hands on fails with "cannot find labhooks".
"""

from __future__ import annotations

import os
import subprocess

import pytest
from helpers import (
    MiB,
    Repo,
    add_then_delete,
    bare,
    clone_pair,
    install_hook_without_labhooks,
    labhooks,
    partial_clone_missing_a_dropped_blob,
    push,
    text,
)

ZEROS = "0" * 40
HANDED_ON = "cannot find labhooks"


def run_hook(repo: Repo, stdin: str, env: dict | None = None, remote: str = "origin") -> subprocess.CompletedProcess:
    """The hook exactly as git runs it: remote name and URL as arguments, ref lines on stdin."""
    return subprocess.run(
        ["sh", str(repo.path / ".git/hooks/pre-push"), remote, remote], cwd=repo.path, input=stdin,
        capture_output=True, text=True, env={**os.environ, **(env or {})},
    )


@pytest.fixture
def no_python(tmp_path):
    """A work repo with small limits whose hook cannot reach labhooks at all."""
    work, remote = clone_pair(tmp_path)
    env = install_hook_without_labhooks(work)
    work.git("config", "labhooks.maxsize", "2m")
    work.git("config", "labhooks.warnsize", "1m")
    return work, remote, env


def test_unfetched_remote_tip_and_spaces_in_the_local_ref_are_proven_clean(no_python):
    work, _, env = no_python
    head = work.rev("HEAD")
    unknown = "1" * 40  # a remote tip this clone never fetched bounds nothing
    for line in (f"refs/heads/main {head} refs/heads/main {unknown}\n",
                 f"HEAD@{{1 day ago}} {head} refs/heads/main {ZEROS}\n",
                 f"refs/heads/gone {ZEROS} refs/heads/gone {head}\n"):  # a deletion
        proc = run_hook(work, line, env)
        assert proc.returncode == 0, (line, text(proc))


def test_anything_near_the_limit_or_unexpected_goes_to_the_guard(no_python):
    work, _, env = no_python
    clean = work.rev("HEAD")
    work.big("data/mid.bin", MiB + MiB // 2)  # over the 1m warn size, under the 2m limit
    warned = work.commit("a blob over the warn size")
    work.git("rm", "-q", "data/mid.bin")
    deleted = work.commit("deleted again: still in the pushed history")
    for line in (f"refs/heads/main {deleted} refs/heads/main {ZEROS}\n",
                 f"HEAD@{{1 day ago}} {deleted} refs/heads/main {clean}\n",
                 f"refs/heads/a {clean} refs/heads/a {ZEROS}\nrefs/heads/b {warned} refs/heads/b {ZEROS}\n",
                 "a line the script does not expect\n",
                 f"refs/heads/main {clean[:12]} refs/heads/main {ZEROS}\n"):
        proc = run_hook(work, line, env)
        assert proc.returncode == 1 and HANDED_ON in proc.stderr, (line, text(proc))
    # the same blob already on the remote side of the range is not looked at again
    head = work.rev("HEAD")
    proc = run_hook(work, f"refs/heads/main {head} refs/heads/main {deleted}\n", env)
    assert proc.returncode == 0, text(proc)


def test_limits_git_cannot_read_as_integers_go_to_the_guard(no_python):
    work, _, env = no_python
    work.git("config", "labhooks.maxsize", "2MiB")  # the guard reads it; git --type=int cannot
    proc = run_hook(work, f"refs/heads/main {work.rev('HEAD')} refs/heads/main {ZEROS}\n", env)
    assert proc.returncode == 1 and HANDED_ON in proc.stderr


def test_a_partial_clone_is_never_sized_by_the_script(tmp_path):
    # sizing a blob the clone lacks would make git fetch it: the guard counts it instead
    clone = partial_clone_missing_a_dropped_blob(tmp_path)
    env = install_hook_without_labhooks(clone)
    clone.write("new.txt")
    head = clone.commit("new")
    proc = run_hook(clone, f"refs/heads/main {head} refs/heads/main {ZEROS}\n", env)
    assert proc.returncode == 1 and HANDED_ON in proc.stderr


def test_push_from_a_partial_clone_through_the_hook_never_fetches(tmp_path):
    clone = partial_clone_missing_a_dropped_blob(tmp_path)
    remote = bare(tmp_path / "empty.git")
    clone.git("remote", "add", "backup", str(remote.path))
    assert labhooks("install-hooks", cwd=clone.path).returncode == 0
    missing = clone.git("rev-list", "--objects", "--missing=print", "--all").count("\n?")
    assert missing >= 1
    clone.write("new.txt")
    clone.commit("new")
    proc = run_hook(clone, f"refs/heads/main {clone.rev('HEAD')} refs/heads/main {ZEROS}\n", remote="backup")
    assert proc.returncode == 0, text(proc)
    assert f"{missing} object(s) are missing locally" in text(proc)
    assert clone.git("rev-list", "--objects", "--missing=print", "--all").count("\n?") == missing


def test_a_big_blob_behind_a_local_ref_with_spaces_is_refused_by_a_real_push(tmp_path):
    work, remote = clone_pair(tmp_path)
    assert labhooks("install-hooks", cwd=work.path).returncode == 0
    work.git("config", "labhooks.maxsize", "2m")
    add_then_delete(work, size=3 * MiB)
    # git names the local side of this push as typed, spaces included
    proc = push(work, "origin", "HEAD@{0 seconds ago}:refs/heads/main")
    assert proc.returncode != 0
    assert "data/cache.db  3.0 MiB" in text(proc)
    assert remote.git("for-each-ref") == ""
