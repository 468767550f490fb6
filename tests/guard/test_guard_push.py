"""Push mode: real `git push` to local bare remotes through the hook install-hooks writes,
and the pre-commit variables the guard reads when pre-commit drives it."""

from __future__ import annotations

import pytest
from helpers import (
    MiB,
    add_then_delete,
    clone_pair,
    labhooks,
    partial_clone_missing_a_dropped_blob,
    push,
    text,
)


@pytest.fixture
def guarded(tmp_path):
    work, remote = clone_pair(tmp_path)
    proc = labhooks("install-hooks", cwd=work.path)
    assert proc.returncode == 0, proc.stderr
    return work, remote


def test_blob_added_then_deleted_in_range_is_refused(guarded):
    work, remote = guarded
    assert push(work, "origin", "main").returncode == 0
    added = add_then_delete(work)
    assert work.git("ls-files", "data") == ""  # HEAD is clean
    proc = push(work, "origin", "main")
    assert proc.returncode != 0
    out = text(proc)
    assert "data/cache.db  101.0 MiB" in out
    assert f"introduced in {added[:10]} add data/cache.db" in out
    assert "labhooks clean-large --max 100M" in out
    assert remote.refs()["refs/heads/main"] != work.rev("HEAD")  # nothing was sent


def test_first_push_to_an_empty_remote_checks_everything(guarded):
    work, remote = guarded
    add_then_delete(work)
    proc = push(work, "-u", "origin", "main")
    assert proc.returncode != 0 and "data/cache.db" in text(proc)
    assert remote.refs() == {}


def test_clean_push_and_new_branch_only_check_new_commits(guarded):
    work, remote = guarded
    # an old big blob already on the remote (pushed before the hook existed) is not re-checked
    work.big("old.bin", 101 * MiB)
    work.commit("old big file")
    assert push(work, "--no-verify", "origin", "main").returncode == 0
    work.git("fetch", "-q", "origin")
    work.git("switch", "-q", "-c", "feature")
    work.write("feature.txt", "ok\n")
    work.commit("feature")
    proc = push(work, "origin", "feature")
    assert proc.returncode == 0, text(proc)
    assert remote.refs()["refs/heads/feature"] == work.rev("HEAD")


def test_multi_ref_push_refused_when_only_the_second_ref_is_bad(guarded):
    work, remote = guarded
    assert push(work, "origin", "main").returncode == 0
    work.git("switch", "-q", "-c", "aaa-good")
    work.write("good.txt", "fine\n")
    work.commit("good work")
    work.git("switch", "-q", "-c", "zzz-bad", "main")
    add_then_delete(work, "results/huge.h5")
    proc = push(work, "origin", "aaa-good", "zzz-bad")
    assert proc.returncode != 0
    assert "results/huge.h5  101.0 MiB" in text(proc)
    assert set(remote.refs()) == {"refs/heads/main"}  # the hook refuses the whole push


def test_branch_deletion_pushes_nothing_and_passes(guarded):
    work, remote = guarded
    work.git("switch", "-q", "-c", "doomed")
    work.big("x.bin", 101 * MiB)
    work.commit("big on a branch")
    assert push(work, "--no-verify", "origin", "main", "doomed").returncode == 0
    proc = push(work, "origin", "--delete", "doomed")
    assert proc.returncode == 0, text(proc)
    assert "refs/heads/doomed" not in remote.refs()


def test_sha256_repository(tmp_path):
    work, remote = clone_pair(tmp_path, "--object-format=sha256")
    assert len(work.rev("HEAD")) == 64
    assert labhooks("install-hooks", cwd=work.path).returncode == 0
    assert push(work, "origin", "main").returncode == 0
    add_then_delete(work)
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "data/cache.db  101.0 MiB" in text(proc)
    # a deletion's null id is 64 zeros in a SHA-256 repository
    work.git("switch", "-q", "-c", "side")
    work.git("reset", "-q", "--hard", "HEAD~2")
    assert push(work, "origin", "side").returncode == 0
    proc = push(work, "origin", "--delete", "side")
    assert proc.returncode == 0, text(proc)


def test_lfs_big_file_accepted_and_lfs_pre_push_still_runs(tmp_path):
    work, remote = clone_pair(tmp_path)
    work.git("lfs", "install", "--local")
    lfs_hook = (work.path / ".git/hooks/pre-push").read_text()
    assert "git lfs pre-push" in lfs_hook
    proc = labhooks("install-hooks", cwd=work.path)
    assert proc.returncode == 0 and "chained git-lfs" in proc.stdout
    work.git("lfs", "track", "*.h5")
    work.big("data/spectra.h5", 130 * MiB)
    work.commit("spectra via LFS")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, text(proc)
    oid = work.git("lfs", "ls-files", "-l").split()[0]
    stored = remote.path / "lfs/objects" / oid[:2] / oid[2:4] / oid
    assert stored.is_file() and stored.stat().st_size == 130 * MiB  # LFS's own hook uploaded it
    # and the guard still runs in front of it
    add_then_delete(work, "plain.bin")
    assert push(work, "origin", "main").returncode != 0


def test_limits_from_git_config(guarded):
    work, remote = guarded
    work.git("config", "labhooks.maxsize", "2M")
    work.big("mid.bin", 3 * MiB)
    work.commit("3 MiB")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "mid.bin  3.0 MiB" in text(proc)
    work.git("config", "labhooks.maxsize", "4M")
    work.git("config", "labhooks.warnsize", "1M")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0 and "warning" in text(proc)


def test_names_with_spaces_unicode_and_newline_in_push(guarded):
    work, remote = guarded
    work.git("config", "labhooks.maxsize", "2M")
    for i, name in enumerate(["with space/a b.bin", "données/größe.bin", "new\nline.bin"]):
        work.big(name, 3 * MiB, seed=10 + i)
    work.commit("odd names")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0
    out = text(proc)
    for shown in ("with space/a b.bin", "données/größe.bin", "new\\nline.bin"):
        assert f"{shown}  3.0 MiB" in out


# ---------------------------------------------------------------- pre-commit's variables


def _precommit_env(**values):
    return {f"PRE_COMMIT_{k.upper()}": v for k, v in values.items()}


def test_precommit_range_variables(tmp_path):
    work, remote = clone_pair(tmp_path)
    base = work.rev("HEAD")
    work.git("push", "-q", "origin", "main")
    add_then_delete(work)
    env = _precommit_env(from_ref=base, to_ref=work.rev("HEAD"), remote_name="origin",
                         local_branch="refs/heads/main")
    proc = labhooks("check-large", "--push", cwd=work.path, env=env)
    assert proc.returncode == 1 and "data/cache.db" in text(proc)
    env = _precommit_env(from_ref=work.rev("HEAD~1"), to_ref=work.rev("HEAD"))
    assert labhooks("check-large", "--push", cwd=work.path, env=env).returncode == 0  # only the deleting commit


def test_precommit_first_push_falls_back_to_local_branch(tmp_path):
    work, remote = clone_pair(tmp_path)
    add_then_delete(work)
    env = _precommit_env(local_branch="refs/heads/main", remote_name="origin")
    proc = labhooks("check-large", "--push", cwd=work.path, env=env)
    assert proc.returncode == 1 and "data/cache.db" in text(proc)
    work.git("push", "-q", "--no-verify", "origin", "main")
    work.git("fetch", "-q", "origin")
    assert labhooks("check-large", "--push", cwd=work.path, env=env).returncode == 0  # all on the remote now


def test_push_mode_without_input_on_a_terminal_is_a_usage_error(repo):
    import os
    import pty

    primary, secondary = pty.openpty()
    try:
        proc = labhooks("check-large", "--push", cwd=repo.path, stdin=secondary)
    finally:
        os.close(primary)
        os.close(secondary)
    assert proc.returncode == 2 and "--push needs a pre-push hook's input" in proc.stderr


def test_stdin_protocol_directly(tmp_path):
    work, remote = clone_pair(tmp_path)
    add_then_delete(work)
    z = "0" * 40
    head = work.rev("HEAD")
    line = f"refs/heads/main {head} refs/heads/main {z}\n"
    assert labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=line).returncode == 1
    deletion = f"(delete) {z} refs/heads/old {head}\n"
    assert labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=deletion).returncode == 0
    assert labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input="junk\n").returncode == 2
    # a remote tip we do not have locally bounds nothing and does not crash
    unknown = "1" * 40
    line = f"HEAD {head} refs/heads/main {unknown}\n"
    assert labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=line).returncode == 1


def test_file_grown_past_the_limit_by_a_modification(guarded):
    work, remote = guarded
    work.big("results.h5", 10 * MiB)
    work.commit("results")
    assert push(work, "origin", "main").returncode == 0
    work.big("results.h5", 101 * MiB)
    grown = work.commit("more results")
    work.big("results.h5", 10 * MiB, seed=4)
    work.commit("trimmed again")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0
    assert f"results.h5  101.0 MiB  (introduced in {grown[:10]} more results)" in text(proc)


def test_push_from_a_partial_clone_never_fetches(tmp_path):
    clone = partial_clone_missing_a_dropped_blob(tmp_path)
    missing = clone.git("rev-list", "--objects", "--missing=print", "--all").count("\n?")
    assert missing >= 1
    clone.write("new.txt")
    head = clone.commit("new")
    line = f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"
    # no --remote: the whole history
    proc = labhooks("check-large", "--push", "--max", "2M", cwd=clone.path, input=line)
    assert proc.returncode == 0, text(proc)
    assert f"{missing} object(s) are missing locally" in text(proc)
    assert clone.git("rev-list", "--objects", "--missing=print", "--all").count("\n?") == missing


def test_bad_revisions_are_one_line_not_a_traceback(tmp_path):
    work, _ = clone_pair(tmp_path)
    for env, stdin in (
        (_precommit_env(from_ref="no-such-ref", to_ref="HEAD"), None),
        ({}, f"refs/heads/main {'a' * 40} refs/heads/main {'0' * 40}\n"),
    ):
        proc = labhooks("check-large", "--push", cwd=work.path, input=stdin or b"", env=env)
        err = proc.stderr
        assert proc.returncode == 2 and err.startswith("labhooks: ") and err.count("\n") == 1, err
