"""Real pre-commit, installing this repository's .pre-commit-hooks.yaml from a committed
snapshot of the working tree (uncommitted work included), driving real commits and pushes."""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

import pytest
from helpers import (
    MiB,
    Repo,
    add_then_delete,
    clone_pair,
    hooks_config,
    labhooks,
    notebook,
    precommit,
    push,
    text,
)


def folder_bytes(folder: Path) -> int:
    return sum(path.lstat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


@pytest.fixture(scope="session")
def precommit_source(tmp_path_factory, hooks_repo):
    """(hooks repo path, commit, PRE_COMMIT_HOME), installed once and shared by xdist workers."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    home = shared / "pre-commit-home"
    source, rev = hooks_repo
    with open(shared / "pre-commit.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "pre-commit.ready"
        if not done.exists():
            warm = Repo.init(shared / "pre-commit-warm")
            warm.write(".pre-commit-config.yaml", hooks_config(source, rev))
            proc = precommit(warm, home, "install-hooks")
            assert proc.returncode == 0, text(proc)
            done.write_text(rev)
    return source, rev, home


def test_the_guard_hooks_build_no_environment(precommit_source):
    """language: script: pre-commit clones the hooks repository and builds nothing (the old
    language: python hooks built a 238 MB virtualenv of every labhooks dependency)."""
    _, _, home = precommit_source
    clones = [p for p in home.iterdir() if p.is_dir()]
    assert len(clones) == 1 and (clones[0] / "hooks" / "labhooks-check-large").is_file()
    assert not list(clones[0].glob("py_env-*"))
    assert folder_bytes(home) < 60 * 1000 * 1000


def _write_config(repo: Repo, source: Path, rev: str, push_args: str = "", commit_args: str = "") -> None:
    repo.write(".pre-commit-config.yaml", hooks_config(source, rev, commit_args=commit_args, push_args=push_args))


@pytest.fixture
def project(tmp_path, precommit_source):
    """A repository with both hooks installed by pre-commit and an empty bare remote."""
    source, rev, home = precommit_source
    work, remote = clone_pair(tmp_path)
    _write_config(work, source, rev)
    work.commit("add pre-commit config")
    for stage in ("pre-commit", "pre-push"):
        proc = precommit(work, home, "install", "-t", stage)
        assert proc.returncode == 0, text(proc)
    return work, remote, {"PRE_COMMIT_HOME": str(home)}


def _commit(work: Repo, env: dict, message: str) -> subprocess.CompletedProcess:
    work.git("add", "-A")
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=work.path, capture_output=True,
                          text=True, env={**os.environ, **env})


def test_commit_stage_refuses_101_mib_and_accepts_99(project):
    work, _, env = project
    work.big("data/cache.db", 101 * MiB)
    proc = _commit(work, env, "cache")
    assert proc.returncode != 0
    assert "check staged files for large blobs" in text(proc) and "data/cache.db  101.0 MiB" in text(proc)
    work.big("data/cache.db", 99 * MiB)
    proc = _commit(work, env, "smaller cache")
    assert proc.returncode == 0, text(proc)


def test_push_stage_refuses_blob_added_then_deleted(project):
    work, remote, env = project
    assert push(work, "origin", "main", env=env).returncode == 0
    add_then_delete(work, no_verify=True)
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode != 0
    out = text(proc)
    assert "check pushed commits for large blobs" in out and "data/cache.db  101.0 MiB" in out
    assert remote.refs()["refs/heads/main"] == work.rev("HEAD~2")


def test_push_stage_first_push_to_empty_remote(project):
    # pre-commit sets no PRE_COMMIT_FROM_REF here: the guard falls back to the branch
    work, remote, env = project
    add_then_delete(work, no_verify=True)
    proc = push(work, "-u", "origin", "main", env=env)
    assert proc.returncode != 0 and "data/cache.db" in text(proc)
    assert remote.refs() == {}


def test_precommit_sees_only_the_first_ref_and_install_hooks_closes_the_gap(project):
    work, remote, env = project
    assert push(work, "origin", "main", env=env).returncode == 0
    work.git("switch", "-q", "-c", "aaa-good")
    work.write("good.txt")
    work.commit("good")
    work.git("switch", "-q", "-c", "zzz-bad", "main")
    add_then_delete(work, no_verify=True)
    # the documented gap: pre-commit describes one ref to its hooks, so the bad second ref slips by
    gap = push(work, "--dry-run", "origin", "aaa-good", "zzz-bad", env=env)
    assert gap.returncode == 0, text(gap)
    proc = labhooks("install-hooks", cwd=work.path)
    assert proc.returncode == 0 and "chained pre-commit" in proc.stdout
    closed = push(work, "origin", "aaa-good", "zzz-bad", env=env)
    assert closed.returncode != 0 and "data/cache.db" in text(closed)
    assert set(remote.refs()) == {"refs/heads/main"}


def test_push_stage_args(project, precommit_source):
    work, _, env = project
    source, rev, _ = precommit_source
    _write_config(work, source, rev, push_args="--max, 2M")
    work.commit("stricter push limit")
    work.big("mid.bin", 3 * MiB)
    work.commit("3 MiB", no_verify=True)
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode != 0 and "mid.bin  3.0 MiB" in text(proc)


def test_commit_stage_refuses_a_notebook_with_big_outputs_when_asked(project, precommit_source):
    work, _, env = project
    source, rev, _ = precommit_source
    _write_config(work, source, rev, commit_args="--notebook-max, 1M")
    work.commit("refuse notebooks with 1 MiB of outputs")
    work.write("analysis/yields.ipynb", notebook(images=3, side=400))
    proc = _commit(work, env, "yields")
    assert proc.returncode != 0
    assert "analysis/yields.ipynb  1.8 MiB of outputs" in text(proc)
    assert "fix: nbstripout -- analysis/yields.ipynb && git add -- analysis/yields.ipynb" in text(proc)
    work.write("analysis/yields.ipynb", notebook(images=0))
    proc = _commit(work, env, "yields, stripped")
    assert proc.returncode == 0, text(proc)


def test_a_manual_pre_push_run_without_a_range_checks_every_unpushed_commit(project):
    """pre-commit run --hook-stage pre-push gives the hook no range: it used to check
    nothing and pass; it checks every commit no remote has and says so."""
    work, _, env = project
    add_then_delete(work, no_verify=True)
    proc = precommit(work, Path(env["PRE_COMMIT_HOME"]), "run", "--hook-stage", "pre-push", "--all-files")
    assert proc.returncode == 1, text(proc)
    assert "data/cache.db  101.0 MiB" in text(proc)
    work.git("reset", "-q", "--hard", "HEAD~2")
    proc = precommit(work, Path(env["PRE_COMMIT_HOME"]), "run", "--hook-stage", "pre-push", "--all-files",
                     "--verbose")
    assert proc.returncode == 0, text(proc)
    assert "no push range given, so every commit no remote has" in text(proc)
