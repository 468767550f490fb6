"""Real prek (the Rust drop-in for pre-commit) running the guard's hooks from a committed
snapshot of this repository (language: script, so nothing is built and nothing reaches
the network): the commit stage, the push stage, a run by hand with no push range, and a
multi-ref push after install-hooks chained prek's own hook."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from helpers import MiB, add_then_delete, clone_pair, hooks_config, labhooks, notebook, push, text

pytestmark = pytest.mark.skipif(shutil.which("prek") is None, reason="prek is installed by .ci/install")


def home(work) -> dict:
    """prek's cache for this test, for prek itself and for the hooks git runs."""
    return {"PREK_HOME": str(work.path.parent / "prek-home")}


def prek(work, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["prek", *args], cwd=work.path, capture_output=True, text=True,
                          env={**os.environ, **home(work)})


@pytest.fixture
def project(tmp_path, hooks_repo):
    work, remote = clone_pair(tmp_path)
    work.write(".pre-commit-config.yaml", hooks_config(*hooks_repo, commit_args="--notebook-max, 1M"))
    work.commit("prek config")
    proc = prek(work, "install", "-t", "pre-commit", "-t", "pre-push")
    assert proc.returncode == 0, text(proc)
    assert push(work, "origin", "main", env=home(work)).returncode == 0
    return work, remote


def commit(work, message: str) -> subprocess.CompletedProcess:
    work.git("add", "-A")
    return subprocess.run(["git", "commit", "-q", "-m", message], cwd=work.path, capture_output=True, text=True,
                          env={**os.environ, **home(work)})


def test_commit_stage_refuses_a_big_staged_file_and_passes_a_clean_one(project):
    work, _ = project
    work.big("model.ckpt", 101 * MiB)
    proc = commit(work, "model")
    assert proc.returncode != 0 and "model.ckpt  101.0 MiB" in text(proc)
    work.big("model.ckpt", 2 * MiB)
    proc = commit(work, "a smaller model")
    assert proc.returncode == 0, text(proc)
    # prek cloned the hooks repository and built no environment for a script hook
    cache = work.path.parent / "prek-home"
    assert list(cache.rglob("hooks/labhooks-check-large"))
    assert not [p for p in cache.rglob("*") if p.name in ("pyvenv.cfg", "site-packages")]


def test_commit_stage_refuses_a_notebook_with_big_outputs(project):
    work, _ = project
    work.write("yields.ipynb", notebook(images=3, side=400))
    proc = commit(work, "yields")
    assert proc.returncode != 0 and "yields.ipynb  1.8 MiB of outputs" in text(proc)
    work.write("yields.ipynb", notebook(images=0))
    assert commit(work, "yields, stripped").returncode == 0


def test_push_stage_refuses_a_blob_added_then_deleted(project):
    work, remote = project
    add_then_delete(work, no_verify=True)
    proc = push(work, "origin", "main", env=home(work))
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
    proc = push(work, "origin", "first", "second", env=home(work))
    assert proc.returncode != 0 and "data/cache.db  101.0 MiB" in text(proc)
    assert set(remote.refs()) == {"refs/heads/main"}
    proc = push(work, "origin", "first", env=home(work))
    assert proc.returncode == 0, text(proc)
    assert labhooks("install-hooks", "--uninstall", cwd=work.path).stdout.startswith("restored prek")
