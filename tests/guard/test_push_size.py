"""The push-size rule (a push's estimated size against the forge's push limit, or
``git config labhooks.pushlimit``) on both paths of the installed pre-push hook: the
shell's fast path must not prove clean a push of many small blobs that together reach
the limit, and the shell and the Python guard measure a push the same way."""

from __future__ import annotations

import random

from helpers import clone_pair, install_hook_without_labhooks, labhooks, push, text

HANDED_ON = "cannot find labhooks"
PROVEN = "by git alone"


def many_small_files(work, count: int = 12, size: int = 3000) -> None:
    rng = random.Random(count)
    for i in range(count):
        work.write(f"data/part{i:02}.bin", rng.randbytes(size))  # incompressible: each adds its size
    work.commit("many small files")


def push_size(work) -> int:
    """What the hook's fast path measures: git's own disk usage of the objects to send."""
    return int(work.git("rev-list", "--objects", "--disk-usage", "HEAD", "--not", "--remotes=origin").strip())


def test_many_small_blobs_over_the_push_limit_are_refused_through_the_installed_hook(tmp_path):
    work, remote = clone_pair(tmp_path)
    assert push(work, "origin", "main").returncode == 0
    assert labhooks("install-hooks", cwd=work.path).returncode == 0
    many_small_files(work)
    work.git("config", "labhooks.pushlimit", "20k")  # every blob is 3,000 bytes: far under any blob limit
    proc = push(work, "origin", "main")
    assert proc.returncode != 0, text(proc)
    assert "and your git config labhooks.pushlimit refuses a push of 20.0 KiB or more" in text(proc)
    assert remote.refs()["refs/heads/main"] != work.rev("HEAD")
    work.git("config", "labhooks.pushlimit", "0")  # no push-size rule
    proc = push(work, "origin", "main")
    assert proc.returncode == 0 and PROVEN in text(proc), text(proc)


def test_the_shell_and_the_guard_agree_on_the_size_and_the_boundary(tmp_path):
    work, _ = clone_pair(tmp_path)
    assert push(work, "origin", "main").returncode == 0
    many_small_files(work)
    size = push_size(work)
    line = f"refs/heads/main {work.rev('HEAD')} refs/heads/main {work.rev('origin/main')}\n"
    env = install_hook_without_labhooks(work)
    for limit, refused in ((size, True), (size + 1, False)):  # "over SIZE" is SIZE or more, on both paths
        work.git("config", "labhooks.pushlimit", str(limit))
        proc = push(work, "--dry-run", "origin", "main", env=env)
        assert (proc.returncode != 0 and HANDED_ON in text(proc)) if refused else \
            (proc.returncode == 0 and PROVEN in text(proc)), (limit, text(proc))
        proc = labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=line)
        assert proc.returncode == (1 if refused else 0), (limit, text(proc))
        if refused:
            assert "comes to about" in proc.stdout


def test_a_push_limit_git_cannot_read_goes_to_the_guard_which_names_it(tmp_path):
    work, _ = clone_pair(tmp_path)
    work.git("config", "labhooks.pushlimit", "lots")
    env = install_hook_without_labhooks(work)
    proc = push(work, "--dry-run", "origin", "main", env=env)
    assert proc.returncode != 0 and HANDED_ON in text(proc), text(proc)
    line = f"refs/heads/main {work.rev('HEAD')} refs/heads/main {'0' * 40}\n"
    proc = labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=line)
    assert proc.returncode == 2 and "git config labhooks.pushlimit" in proc.stderr, text(proc)
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
