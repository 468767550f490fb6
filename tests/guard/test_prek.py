"""Real prek (the Rust drop-in for pre-commit) running the guard: the commit stage, the
push stage, a run by hand with no push range, and a multi-ref push after install-hooks
chained prek's own hook. The hooks are local ones calling the guard under test by its
interpreter (prek puts its own folder first on PATH), so no hook environment is built
from the network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from helpers import MiB, add_then_delete, clone_pair, labhooks, push, text

pytestmark = pytest.mark.skipif(shutil.which("prek") is None, reason="prek is installed by .ci/install")

GUARD = f"{sys.executable} -m labhooks check-large"
CONFIG = f"""repos:
- repo: local
  hooks:
  - id: check-large
    name: check staged files for large blobs
    entry: {GUARD}
    language: system
    stages: [pre-commit]
  - id: check-large-push
    name: check pushed commits for large blobs
    entry: {GUARD} --push
    language: system
    stages: [pre-push]
    always_run: true
    pass_filenames: false
"""


def prek(work, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["prek", *args], cwd=work.path, capture_output=True, text=True,
                          env={**os.environ, "PREK_HOME": str(work.path.parent / "prek-home")})


@pytest.fixture
def project(tmp_path):
    work, remote = clone_pair(tmp_path)
    work.write(".pre-commit-config.yaml", CONFIG)
    work.commit("prek config")
    proc = prek(work, "install", "-t", "pre-commit", "-t", "pre-push")
    assert proc.returncode == 0, text(proc)
    assert push(work, "origin", "main").returncode == 0
    return work, remote


def commit(work, message: str) -> subprocess.CompletedProcess:
    work.git("add", "-A")
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=work.path, capture_output=True, text=True)


def test_commit_stage_refuses_a_big_staged_file(project):
    work, _ = project
    work.big("model.ckpt", 101 * MiB)
    proc = commit(work, "model")
    assert proc.returncode != 0 and "model.ckpt  101.0 MiB" in text(proc)


def test_push_stage_refuses_a_blob_added_then_deleted(project):
    work, remote = project
    add_then_delete(work, no_verify=True)
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "data/cache.db  101.0 MiB" in text(proc)
    assert remote.refs()["refs/heads/main"] != work.rev("HEAD")


def test_a_run_by_hand_without_a_push_range_checks_every_unpushed_commit(project):
    work, _ = project
    add_then_delete(work, no_verify=True)
    proc = prek(work, "run", "--stage", "pre-push", "--all-files")
    assert proc.returncode != 0, text(proc)
    assert "data/cache.db  101.0 MiB" in text(proc)
    work.git("reset", "-q", "--hard", "origin/main")
    proc = prek(work, "run", "--stage", "pre-push", "--all-files", "-v")
    assert proc.returncode == 0, text(proc)
    assert "no push range given, so every commit no remote has" in text(proc)


def test_install_hooks_chains_prek_and_every_ref_of_a_push_is_checked(project):
    work, remote = project
    proc = labhooks("install-hooks", cwd=work.path)
    assert proc.returncode == 0 and "chained prek" in proc.stdout, text(proc)
    work.git("switch", "-q", "-c", "first")
    work.write("ok.txt")
    work.commit("fine")
    work.git("switch", "-q", "-c", "second", "main")
    add_then_delete(work, no_verify=True)
    # prek alone hands its hooks the first ref only; the installed guard sees them all
    proc = push(work, "origin", "first", "second")
    assert proc.returncode != 0 and "data/cache.db  101.0 MiB" in text(proc)
    assert set(remote.refs()) == {"refs/heads/main"}
    proc = push(work, "origin", "first")
    assert proc.returncode == 0, text(proc)
    assert labhooks("install-hooks", "--uninstall", cwd=work.path).stdout.startswith("restored prek")
