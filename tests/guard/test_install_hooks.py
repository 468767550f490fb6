"""labhooks install-hooks: where hooks go, what they chain, and that uninstall restores."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from helpers import (
    MiB,
    add_then_delete,
    bare,
    clone_pair,
    copy_worktree,
    install_hook_without_labhooks,
    labhooks,
    precommit,
    push,
    text,
)

from labhooks.guard.install import CHAINED_SUFFIX, MARKER


def hook(repo, name="pre-push"):
    return repo.path / ".git/hooks" / name


def test_install_into_fresh_repo_and_uninstall(repo):
    proc = labhooks("install-hooks", cwd=repo.path)
    assert proc.returncode == 0 and "installed:" in proc.stdout
    target = hook(repo)
    assert os.access(target, os.X_OK)
    body = target.read_text()
    assert MARKER in body and sys.executable in body
    proc = labhooks("install-hooks", "--uninstall", cwd=repo.path)
    assert proc.returncode == 0 and "removed:" in proc.stdout
    assert not target.exists()
    proc = labhooks("install-hooks", "--uninstall", cwd=repo.path)
    assert proc.returncode == 0 and "nothing to remove" in proc.stdout


def test_reinstall_updates_in_place_and_keeps_the_chain(repo):
    repo.git("lfs", "install", "--local")
    assert "chained git-lfs" in labhooks("install-hooks", cwd=repo.path).stdout
    proc = labhooks("install-hooks", cwd=repo.path)
    assert proc.returncode == 0 and "updated:" in proc.stdout
    chained = hook(repo, "pre-push" + CHAINED_SUFFIX)
    assert "git lfs pre-push" in chained.read_text()
    assert labhooks("install-hooks", "--uninstall", cwd=repo.path).stdout.startswith("restored git-lfs")
    assert "git lfs pre-push" in hook(repo).read_text() and not chained.exists()


def test_unknown_hook_is_never_overwritten_silently(repo):
    own = "#!/bin/sh\necho my own checks\nexit 0\n"
    target = hook(repo)
    target.write_text(own)
    target.chmod(0o755)
    proc = labhooks("install-hooks", cwd=repo.path)
    assert proc.returncode == 2
    assert "does not recognise" in proc.stderr and proc.stderr.count("\n") == 1
    assert target.read_text() == own
    proc = labhooks("install-hooks", "--chain", cwd=repo.path)
    assert proc.returncode == 0 and "chained existing hook" in proc.stdout
    labhooks("install-hooks", "--uninstall", cwd=repo.path)
    assert target.read_text() == own and os.access(target, os.X_OK)


def test_unknown_hook_chained_runs_after_the_guard_with_stdin(tmp_path):
    work, remote = clone_pair(tmp_path)
    log = tmp_path / "seen.txt"
    target = hook(work)
    target.write_text(f'#!/bin/sh\necho "args: $1" > "{log}"\ncat >> "{log}"\n')
    target.chmod(0o755)
    assert labhooks("install-hooks", "--chain", cwd=work.path).returncode == 0
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, text(proc)
    seen = log.read_text()
    assert seen.startswith("args: origin\n") and f"refs/heads/main {work.rev('HEAD')} refs/heads/main" in seen
    # the guard runs first: a refused push never reaches the chained hook
    log.unlink()
    add_then_delete(work)
    assert push(work, "origin", "main").returncode != 0
    assert not log.exists()


def test_core_hooks_path_is_respected(repo):
    repo.git("config", "core.hooksPath", ".githooks")
    proc = labhooks("install-hooks", cwd=repo.path)
    assert proc.returncode == 0
    assert (repo.path / ".githooks/pre-push").is_file()
    assert not hook(repo).exists()


def test_precommit_hook_is_chained(tmp_path):
    work, remote = clone_pair(tmp_path)
    (work.path / ".pre-commit-config.yaml").write_text("repos: []\n")
    work.commit("pre-commit config")
    home = tmp_path / "pc-home"
    precommit(work, home, "install", "-t", "pre-push", check=True)
    env = {"PRE_COMMIT_HOME": str(home)}
    proc = labhooks("install-hooks", cwd=work.path)
    assert proc.returncode == 0 and "chained pre-commit" in proc.stdout
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode == 0, text(proc)
    add_then_delete(work)
    assert push(work, "origin", "main", env=env).returncode != 0


def test_server_hook_in_a_bare_repository(tmp_path):
    remote = bare(tmp_path / "r.git")
    proc = labhooks("install-hooks", "--server", cwd=remote.path)
    assert proc.returncode == 0
    assert MARKER in (remote.path / "hooks/pre-receive").read_text()


def test_not_a_repository(tmp_path):
    proc = labhooks("install-hooks", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("labhooks: not a git repository")


def test_clean_push_is_proven_by_git_alone_and_a_heavy_one_fails_closed(tmp_path):
    # With labhooks gone, the hook can still prove a push clean with git and awk (no
    # Python at all); a push carrying a blob at the warn size needs the guard, and
    # without it the push is refused rather than let through.
    work, remote = clone_pair(tmp_path)
    env = install_hook_without_labhooks(work)
    clean = push(work, "origin", "main", env=env)
    assert clean.returncode == 0, text(clean)
    work.big("data/mid.bin", 60 * MiB)
    work.commit("a blob over the warn size")
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode != 0 and "cannot find labhooks" in text(proc)
    forced = push(work, "origin", "main", env={**env, "LABHOOKS_FULL_CHECK": "1"})
    assert forced.returncode != 0 and "cannot find labhooks" in text(forced)


def test_unreadable_size_setting_sends_the_push_to_the_full_guard(tmp_path):
    work, remote = clone_pair(tmp_path)
    env = install_hook_without_labhooks(work)
    work.git("config", "labhooks.warnsize", "50MiB")  # the guard reads it, git --int cannot
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode != 0 and "cannot find labhooks" in text(proc)


def test_hooks_ship_in_the_wheel(tmp_path, repo_root):
    pytest.importorskip("hatchling")  # listed in .ci/requirements-guard.txt
    source = tmp_path / "src"
    copy_worktree(repo_root, source)  # build from a copy: the checkout stays untouched
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
         str(tmp_path / "dist"), str(source)], capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next((tmp_path / "dist").glob("labhooks-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "labhooks/guard/hooks/pre-push" in names and "labhooks/guard/hooks/pre-receive" in names


def test_lfs_still_uploads_when_precommit_is_installed_after_labhooks(tmp_path):
    # pre-commit renames the hook it finds (ours) to pre-push.legacy and runs it first;
    # ours must still find the git-lfs hook it chained
    work, remote = clone_pair(tmp_path)
    work.git("lfs", "install", "--local")
    assert "chained git-lfs" in labhooks("install-hooks", cwd=work.path).stdout
    (work.path / ".pre-commit-config.yaml").write_text("repos: []\n")
    home = tmp_path / "pc-home"
    precommit(work, home, "install", "-t", "pre-push", check=True)
    env = {"PRE_COMMIT_HOME": str(home)}
    assert MARKER in hook(work, "pre-push.legacy").read_text()
    work.git("lfs", "track", "*.h5")
    work.write("small.h5", "lfs content\n")
    work.commit("lfs file")
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode == 0, text(proc)
    oid = work.git("lfs", "ls-files", "-l").split()[0]
    assert (remote.path / "lfs/objects" / oid[:2] / oid[2:4] / oid).is_file()
