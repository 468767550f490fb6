"""clean-large's parts: backend command lines, BFG handling, exclusion patterns, disk check,
and the checks that judge a rewrite, each on real repositories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import MiB, Repo, labhooks

from labhooks.clean import backends, backup, held, pins, verify
from labhooks.clean.refs import stash_entries
from labhooks.errors import LabhooksError


def fake_program(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return path


# --- command lines ------------------------------------------------------------------------

def test_bfg_command_line_from_jar_option(tmp_path, monkeypatch):
    jar = tmp_path / "bfg-1.14.0.jar"
    jar.write_bytes(b"PK")
    backend = backends.resolve("bfg", str(jar), environ={})
    java = backend.launcher[0]
    assert Path(java).name == "java"
    assert backend.command(100 * MiB) == [java, "-jar", str(jar.resolve()), "--strip-blobs-bigger-than", str(100 * MiB - 1),
                                          "--no-blob-protection"]
    assert backend.command(100 * MiB, protect_head=True) == [java, "-jar", str(jar.resolve()),
                                                             "--strip-blobs-bigger-than", str(100 * MiB - 1)]
    assert backend.command(100 * MiB, gitdir=Path("/r/.git"))[-2:] == ["--no-blob-protection", "/r/.git"]
    # SIZE - 1 goes as K/M/G when it is a whole number of them, else as plain bytes, never rounded
    assert backend.command(1_000_001)[4] == "1000000"  # bigger than SIZE - 1 bytes: SIZE or more
    assert backend.command(1536 * 1024 + 1)[4] == "1536K"


def test_bfg_jar_from_environment_and_launcher_on_path(tmp_path, monkeypatch):
    jar = tmp_path / "env.jar"
    jar.write_bytes(b"PK")
    assert backends.resolve("auto", None, environ={"LABHOOKS_BFG_JAR": str(jar)}).launcher[-1] == str(jar.resolve())
    launcher = fake_program(tmp_path / "bin", "bfg", "exit 0")
    monkeypatch.setenv("PATH", f"{launcher.parent}{os.pathsep}{os.environ['PATH']}")
    backend = backends.resolve("auto", None, environ={})
    assert backend.name == "bfg"
    assert backend.command(5 * MiB) == [str(launcher), "--strip-blobs-bigger-than", str(5 * MiB - 1), "--no-blob-protection"]
    assert backend.command(5 * MiB, protect_head=True, gitdir=Path("/r/.git")) == [
        str(launcher), "--strip-blobs-bigger-than", str(5 * MiB - 1), "/r/.git"]
    # an explicit jar wins over the launcher
    assert backends.resolve("auto", str(jar), environ={}).launcher[-1] == str(jar.resolve())


def test_auto_falls_back_to_filter_repo_without_bfg(monkeypatch):
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                               if not (Path(p) / "bfg").exists()))
    backend = backends.resolve("auto", None, environ={})
    assert backend.name == "filter-repo"
    assert backend.command(100 * MiB)[1:] == [
        "--strip-blobs-bigger-than", str(100 * MiB - 1), "--force", "--partial",
        "--prune-empty", "never", "--prune-degenerate", "never",
    ]


def test_lfs_command_line_uses_an_exact_byte_threshold():
    backend = backends.resolve("lfs", None, environ={})
    command = backend.command(100 * MiB)
    assert command[1:] == ["lfs", "migrate", "import", "--everything", "--skip-fetch", "--yes",
                           f"--above={100 * MiB}b"]


def test_bfg_jar_option_with_other_backend_is_refused(tmp_path):
    with pytest.raises(LabhooksError) as err:
        backends.resolve("filter-repo", str(tmp_path / "x.jar"), environ={})
    assert err.value.exit_code == 2


def test_bfg_prepare_packs_every_loose_object(repo):
    repo.write("a.bin", os.urandom(4096))
    repo.commit("loose")
    assert int(dict(l.split(": ") for l in repo.git("count-objects", "-v").splitlines())["count"]) > 0
    backends.Backend("bfg", ["bfg"]).prepare(repo.path)
    counts = dict(line.split(": ") for line in repo.git("count-objects", "-v").splitlines())
    assert counts["count"] == "0" and int(counts["in-pack"]) >= 3


# --- BFG judged by the result, and Ctrl-C -----------------------------------------------------

def bfg_repo(repo: Repo) -> None:
    repo.write("README.md", "x\n")
    repo.commit("start")
    repo.write("big.bin", os.urandom(2 * MiB))
    repo.commit("big")


def run_clean(repo: Repo, bin_dir: Path, *args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "LABHOOKS_BFG_JAR": ""}
    return subprocess.Popen([sys.executable, "-m", "labhooks", "clean-large", *args], cwd=repo.path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)


def test_bfg_that_exits_0_without_doing_anything_is_caught(repo, tmp_path):
    bfg_repo(repo)
    refs = repo.refs()
    # records its arguments, then does nothing and exits 0, as BFG does when it refuses
    fake_program(tmp_path / "bin", "bfg", f'echo "$@" > {tmp_path / "args"}; echo "BFG aborting"; exit 0')
    proc = run_clean(repo, tmp_path / "bin", "--max", "1M", "--yes", "--backend", "bfg")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("labhooks: the rewrite did not give the expected result")
    assert "git clone" in last and ".bundle" in last
    assert "still in the repository" in err
    assert (tmp_path / "args").read_text().split() == [
        "--strip-blobs-bigger-than", str(MiB - 1), "--no-blob-protection", str(repo.path / ".git")]
    assert repo.refs() == refs
    assert (repo.path / "big.bin").stat().st_size == 2 * MiB


def test_failing_filter_repo_puts_files_back_and_names_the_backup(repo, tmp_path):
    bfg_repo(repo)
    # a stand-in that does what filter-repo's end does (reset --hard), then fails
    fake_program(tmp_path / "bin", "git-filter-repo", "git rm -q --cached big.bin; rm big.bin; exit 3")
    proc = run_clean(repo, tmp_path / "bin", "--max", "1M", "--yes", "--backend", "filter-repo")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    last = err.strip().splitlines()[-1]
    assert "filter-repo failed (exit 3" in last and "git clone" in last and ".bundle" in last
    assert (repo.path / "big.bin").stat().st_size == 2 * MiB
    assert not (repo.path / ".git" / "labhooks-clean-held").exists()


def test_ctrl_c_during_rewrite_says_how_to_restore(repo, tmp_path):
    bfg_repo(repo)
    refs = repo.refs()
    fake_program(tmp_path / "bin", "bfg", "sleep 60")
    proc = run_clean(repo, tmp_path / "bin", "--max", "1M", "--yes", "--backend", "bfg", start_new_session=True)
    deadline = time.time() + 60
    seen = ""
    while "rewriting" not in seen and time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "rewriting" in seen
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, seen + err
    assert "interrupted during the rewrite" in err
    assert "git clone " in err and "git fetch --update-head-ok --force" in err and "+refs/*:refs/*" in err
    bundle = Path(err.split("git clone ", 1)[1].split(" ", 1)[0])
    assert bundle.is_file()
    listed = subprocess.run(["git", "bundle", "list-heads", str(bundle)], capture_output=True, text=True,
                            check=True).stdout
    assert refs["refs/heads/main"] in listed
    assert (repo.path / "big.bin").stat().st_size == 2 * MiB  # the held file went back


# --- exclusion patterns, disk room, backup dir --------------------------------------------------

@pytest.mark.parametrize("path,pattern", [
    ("model.ckpt", "/model.ckpt"),
    ("dir with space/a b.bin", "/dir with space/a b.bin"),
    ("weights*[1]?.bin", "/weights\\*\\[1]\\?.bin"),
    ("#notes.bin", "/#notes.bin"),
    ("trailing ", "/trailing\\ "),
])
def test_exclude_pattern_matches_exactly_one_path(repo, path, pattern):
    assert held.exclude_pattern(path) == pattern
    repo.write(".git/info/exclude", pattern + "\n")
    assert repo.git("check-ignore", "--no-index", path).strip().strip('"') != ""
    assert repo.git("check-ignore", "--no-index", "x" + path.strip(), check=False).strip() == ""


def test_backup_refused_when_disk_is_too_small(tmp_path):
    with pytest.raises(LabhooksError) as err:
        backup.ensure_room(tmp_path, store_bytes=500 * MiB, free_bytes=100 * MiB)
    assert err.value.exit_code == 2 and "not enough disk space" in err.value.message
    backup.ensure_room(tmp_path, store_bytes=1 * MiB, free_bytes=100 * MiB)


def test_bundle_names_never_overwrite(tmp_path):
    from datetime import datetime, timezone

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    first = backup.bundle_path(tmp_path / "repo", tmp_path, when)
    assert first.name == "repo-backup-20260102T030405Z.bundle"
    first.write_text("x")
    assert backup.bundle_path(tmp_path / "repo", tmp_path, when) != first


# --- the checks that judge a rewrite ----------------------------------------------------------

def test_leftover_blob_is_reported(repo):
    repo.write("big.bin", os.urandom(2 * MiB))
    repo.commit("big")
    problems, objects = verify.leftover_blobs(repo.path, MiB, allowed=set())
    assert len(problems) == 1 and repo.rev("HEAD:big.bin") in problems[0]
    assert objects == 3
    assert verify.leftover_blobs(repo.path, MiB, allowed={repo.rev("HEAD:big.bin")})[0] == []


def test_tree_comparison_catches_a_path_changed_besides_the_stripped_blob(repo):
    repo.write("keep.txt", "keep\n")
    repo.write("big.bin", os.urandom(2 * MiB))
    repo.commit("start")
    big = repo.rev("HEAD:big.bin")
    before = verify.take(repo.path)
    repo.git("rm", "-q", "--cached", "big.bin")
    repo.git("commit", "-q", "--amend", "-m", "start")
    after = verify.take(repo.path, with_trees=False)
    assert verify.compare_trees(before, after, {big: 2 * MiB}, repo.path) == []
    repo.write("keep.txt", "changed\n")
    repo.git("commit", "-q", "-am", "edit")
    after = verify.take(repo.path, with_trees=False)
    problems = verify.compare_trees(before, after, {big: 2 * MiB}, repo.path)
    assert len(problems) == 1 and "keep.txt" in problems[0]


def test_ref_comparison_catches_lost_invented_refs_and_remotes(repo):
    repo.commit("start")
    repo.git("remote", "add", "origin", "https://example.invalid/lab.git")
    repo.git("update-ref", "refs/remotes/origin/main", "HEAD")
    before = verify.take(repo.path)
    repo.git("update-ref", "-d", "refs/remotes/origin/main")
    repo.git("branch", "main-copy")
    repo.git("remote", "remove", "origin")
    problems = verify.compare_refs(before, verify.take(repo.path))
    assert any("refs lost: refs/remotes/origin/main" in p for p in problems)
    assert any("refs/heads/main-copy" in p for p in problems)
    assert any("remote settings" in p for p in problems)
    assert verify.restore_remotes(repo.path, before) is True
    assert repo.git("remote", "get-url", "origin").strip() == "https://example.invalid/lab.git"


def test_pins_rebuild_stash_in_order_after_reflog_expiry(repo):
    repo.write("n.txt", "0\n")
    repo.commit("start")
    for text in ("one", "two", "three"):
        repo.write("n.txt", text + "\n")
        repo.git("stash", "push", "-q", "-m", text)
    entries = stash_entries(repo.path)
    pinned = pins.pin(repo.path, entries)
    repo.git("reflog", "expire", "--expire=now", "--all")
    assert len(stash_entries(repo.path)) <= 1
    pins.rebuild_stash(repo.path, pinned)
    pins.drop_pins(repo.path)
    assert stash_entries(repo.path) == entries
    assert pins.existing_pins(repo.path) == []


def test_leftover_pins_from_an_interrupted_run_are_refused(repo, tmp_path):
    repo.commit("start")
    repo.git("update-ref", "refs/labhooks-clean/stash/0", "HEAD")
    proc = labhooks("clean-large", "--max", "1M", "--yes", cwd=repo.path, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert "interrupted clean" in proc.stderr and "Traceback" not in proc.stderr
    command = proc.stderr.split("delete them with ", 1)[1].split(", and run again", 1)[0]
    subprocess.run(command, shell=True, cwd=repo.path, check=True)
    assert pins.existing_pins(repo.path) == []
    again = labhooks("clean-large", "--max", "1M", "--dry-run", cwd=repo.path, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
