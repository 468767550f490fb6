"""hooks/pre-receive on a real bare remote, both with labhooks on the server and without."""

from __future__ import annotations

import os
import shutil

import pytest
from helpers import (
    MiB,
    add_then_delete,
    clone_pair,
    labhooks,
    push,
    text,
    without_labhooks_on_path,
)

from labhooks.guard.install import hooks_source_dir


@pytest.fixture(params=["guard", "pure-git"])
def server(request, tmp_path):
    """(work, remote, env, how): a remote whose pre-receive runs the guard, or git alone."""
    return (*_server(tmp_path, request.param), request.param)


# without labhooks on the server, git alone refuses, with this one line pointing at the guard
PURE_GIT_REFUSAL = "remote: error: labhooks: push refused: it brings a blob at or over labhooks.maxsize"


def refused_naming(proc, how: str, *names: str) -> bool:
    """The push failed, and told the user what the server's hook can tell them: the guard
    names each blob, the git-only path its one fixed line (one report format, the guard's)."""
    out = text(proc)
    if proc.returncode == 0:
        return False
    if how == "pure-git":
        return PURE_GIT_REFUSAL in out and "MiB" not in out
    return all(name in out for name in names)


def _server(tmp_path, how: str, *init_args: str):
    work, remote = clone_pair(tmp_path, *init_args)
    env = {}
    if how == "guard":
        assert labhooks("install-hooks", "--server", cwd=remote.path).returncode == 0
    else:
        target = remote.path / "hooks/pre-receive"
        shutil.copy(hooks_source_dir() / "pre-receive", target)
        target.chmod(0o755)
        env = without_labhooks_on_path()  # as on a server without labhooks
        assert shutil.which("labhooks-check-large", path=env["PATH"]) is None
    return work, remote, env


def test_added_then_deleted_blob_refused_by_the_server(server):
    work, remote, env, how = server
    assert push(work, "origin", "main", env=env).returncode == 0
    add_then_delete(work)
    proc = push(work, "origin", "main", env=env)
    assert "pre-receive hook declined" in text(proc)
    assert refused_naming(proc, how, "remote: error: File data/cache.db is 101.0", "LH001: Large files detected")
    assert remote.refs()["refs/heads/main"] == work.rev("HEAD~2")


def test_first_push_multi_ref_and_deletion(server):
    work, remote, env, how = server
    work.git("switch", "-q", "-c", "good")
    work.write("ok.txt")
    work.commit("ok")
    work.git("switch", "-q", "-c", "bad", "main")
    work.big("huge.bin", 101 * MiB)
    work.commit("huge")
    proc = push(work, "origin", "main", "good", "bad", env=env)
    assert refused_naming(proc, how, "huge.bin")
    assert remote.refs() == {}  # pre-receive refuses the push as a whole
    assert push(work, "origin", "main", "good", env=env).returncode == 0
    proc = push(work, "origin", "--delete", "good", env=env)
    assert proc.returncode == 0, text(proc)
    assert set(remote.refs()) == {"refs/heads/main"}


def test_objects_the_server_already_has_are_not_rechecked(server):
    work, remote, env, _ = server
    work.big("legacy.bin", 101 * MiB)
    work.commit("legacy")
    os.rename(remote.path / "hooks/pre-receive", remote.path / "hooks/off")
    assert push(work, "origin", "main", env=env).returncode == 0
    os.rename(remote.path / "hooks/off", remote.path / "hooks/pre-receive")
    work.write("more.txt")
    work.commit("more")
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode == 0, text(proc)


def test_server_limit_from_git_config(server):
    work, remote, env, how = server
    remote.git("config", "labhooks.maxsize", "2m")
    work.big("with space/größe\nx.bin", 3 * MiB)
    work.commit("three")
    proc = push(work, "origin", "main", env=env)
    assert refused_naming(proc, how, "with space/größe", "exceeds the file size limit of 2.0")
    remote.git("config", "labhooks.maxsize", "4m")
    assert push(work, "origin", "main", env=env).returncode == 0


@pytest.mark.parametrize("how", ["guard", "pure-git"])
def test_sha256_server(tmp_path, how):
    work, remote, env = _server(tmp_path, how, "--object-format=sha256")
    add_then_delete(work)
    proc = push(work, "origin", "main", env=env)
    assert refused_naming(proc, how, "data/cache.db")
    work.git("switch", "-q", "-c", "clean", "HEAD~2")
    assert push(work, "origin", "clean", env=env).returncode == 0
    assert push(work, "origin", "--delete", "clean", env=env).returncode == 0


def test_unreadable_limit_refuses_rather_than_lets_through(tmp_path):
    work, remote, env = _server(tmp_path, "pure-git")
    remote.git("config", "labhooks.maxsize", "lots")
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode != 0 and PURE_GIT_REFUSAL in text(proc) and "not a size git can read" in text(proc)


def test_shipped_hooks_hold_the_settings_install_hooks_writes():
    """A hook copied by hand onto a server carries the guard's own defaults: the shipped
    settings block is exactly what install-hooks renders (no second set of figures)."""
    from labhooks.guard.install import render_hook

    for name in ("pre-push", "pre-receive"):
        assert (hooks_source_dir() / name).read_text(encoding="utf-8") == render_hook(name, "")
