"""LFS conformance at push, pre-receive and --all: a blob committed raw (git-lfs not
installed: the suite's git config has no LFS filter) at a path whose commit's
.gitattributes say filter=lfs is refused, whatever its size, through the installed hook,
pre-commit's and prek's push stage and a direct --push; a real LFS pointer passes; the
attributes are those of the commit that holds the blob. Real git, real git-lfs, real
pushes to local bare remotes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from helpers import Repo, bare, clone_pair, install_hook_without_labhooks, labhooks, precommit, push, text

pytestmark = pytest.mark.skipif(shutil.which("git-lfs") is None, reason="git-lfs is installed by .ci/install")

RULE = "*.ckpt filter=lfs diff=lfs merge=lfs -text\n"
RAW = "are raw content at paths that their commit's .gitattributes stores through Git LFS"
HANDED_ON = "cannot find labhooks"
ZEROS = "0" * 40


def raw_bytes(seed: int, size: int = 2000) -> bytes:
    """Content that is no LFS pointer (and does not compress away)."""
    import random

    return random.Random(seed).randbytes(size)


@pytest.fixture
def tracked(tmp_path):
    """A clone whose pushed main already says *.ckpt goes through LFS (no file yet)."""
    work, remote = clone_pair(tmp_path)
    work.write(".gitattributes", RULE)
    work.commit("track checkpoints with LFS")
    assert push(work, "origin", "main").returncode == 0
    return work, remote


def pre_push_line(work: Repo, ref: str = "main") -> str:
    remote_tip = work.git("rev-parse", "-q", "--verify", f"origin/{ref}", check=False).strip() or ZEROS
    return f"refs/heads/{ref} {work.rev('HEAD')} refs/heads/{ref} {remote_tip}\n"


def own_global_config(work: Repo) -> dict:
    """A copy of the suite's global git config for this test alone, for commands (the
    printed fix's `git lfs install`) that write to it."""
    copy = work.path.parent / "gitconfig"
    shutil.copy(os.environ["GIT_CONFIG_GLOBAL"], copy)
    return {"GIT_CONFIG_GLOBAL": str(copy)}


def fix_lines(output: str) -> list[str]:
    return [line.split("fix: ", 1)[1].split("   # ", 1)[0] for line in output.splitlines() if "fix: " in line]


def test_a_raw_checkpoint_is_refused_by_the_installed_hook_and_the_printed_fix_works(tracked):
    work, remote = tracked
    assert labhooks("install-hooks", cwd=work.path).returncode == 0
    work.write("model.ckpt", raw_bytes(1))
    work.commit("add model")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and RAW in text(proc), text(proc)
    assert "  model.ckpt  2.0 KiB  (introduced in" in text(proc)
    assert remote.refs()["refs/heads/main"] == work.rev("origin/main")
    fixes = fix_lines(text(proc))
    assert fixes == ["git lfs install --skip-repo && git add --renormalize -- model.ckpt && "
                     "git commit --amend --no-edit"]
    assert "its pre-push hook is not installed here" in text(proc)
    env = own_global_config(work)
    done = subprocess.run(["sh", "-c", fixes[0]], cwd=work.path, capture_output=True, text=True,
                          env={**os.environ, **env})
    assert done.returncode == 0, text(done)
    assert work.git("cat-file", "-p", "HEAD:model.ckpt").startswith("version https://git-lfs.github.com/spec/v1")
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode == 0, text(proc)
    assert "1 blob(s) at filter=lfs paths, all LFS pointers" in text(proc)


def test_the_hooks_fast_path_hands_an_lfs_push_to_the_guard(tracked):
    """Without labhooks the hook can only prove pushes clean: an LFS rule at the pushed
    tip (top-level or nested .gitattributes) or at the remote's old tip must not be."""
    work, _ = tracked
    env = install_hook_without_labhooks(work)
    work.write("notes.txt", "small\n")
    work.commit("notes")
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode != 0 and HANDED_ON in text(proc), text(proc)

    plain, _ = clone_pair(work.path.parent / "plain")
    env = install_hook_without_labhooks(plain)
    assert push(plain, "origin", "main", env=env).returncode == 0  # no LFS rule anywhere: proven clean
    plain.write("data/.gitattributes", "*.bin filter=lfs -text\n")
    plain.commit("nested rule")
    proc = push(plain, "origin", "main", env=env)
    assert proc.returncode != 0 and HANDED_ON in text(proc), text(proc)


def test_a_direct_push_check_and_check_large_all_refuse_it(tracked):
    work, _ = tracked
    work.write("runs/best model.ckpt", raw_bytes(2))
    work.commit("add model")
    line = pre_push_line(work)
    proc = labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=line)
    assert proc.returncode == 1 and RAW in proc.stdout, text(proc)
    assert "'runs/best model.ckpt'" in proc.stdout  # the fix names the file as one shell word
    proc = labhooks("check-large", "--all", cwd=work.path)
    assert proc.returncode == 1 and "runs/best model.ckpt  2.0 KiB" in proc.stdout, text(proc)


def test_a_real_lfs_file_passes_through_the_chained_git_lfs_hook(tracked):
    work, remote = tracked
    work.git("lfs", "install", "--local")
    assert "chained git-lfs" in labhooks("install-hooks", cwd=work.path).stdout
    work.write("model.ckpt", raw_bytes(3))
    work.commit("add model through LFS")
    assert work.git("cat-file", "-p", "HEAD:model.ckpt").startswith("version https://git-lfs")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, text(proc)
    assert "1 blob(s) at filter=lfs paths, all LFS pointers" in text(proc)
    oid = work.git("lfs", "ls-files", "-l").split()[0]
    assert (remote.path / "lfs/objects" / oid[:2] / oid[2:4] / oid).is_file()  # git-lfs still uploaded


def test_attributes_are_those_of_the_commit_that_holds_the_blob(tmp_path):
    work, _ = clone_pair(tmp_path)
    work.write("old.ckpt", raw_bytes(4))
    work.commit("a checkpoint from before LFS")  # not tracked then: fine
    assert push(work, "origin", "main").returncode == 0
    work.write(".gitattributes", RULE)
    work.write("new.ckpt", raw_bytes(5))
    work.commit("track checkpoints, add one raw")
    work.write("later.ckpt", raw_bytes(6))
    work.write(".gitattributes", "")  # the rule goes again: the tip says nothing of LFS
    work.commit("untrack, add another")
    proc = labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=pre_push_line(work))
    assert proc.returncode == 1, text(proc)
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ") and "KiB" in line]
    assert listed == ["new.ckpt"], proc.stdout  # not old.ckpt (before the rule), not later.ckpt (after)
    # the same answer from a commit whose diff leaves .gitattributes alone (its parent's rule)
    work.git("reset", "-q", "--hard", "HEAD~1")
    work.write("second.ckpt", raw_bytes(7))
    work.commit("another raw one, rule unchanged")
    proc = labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=pre_push_line(work))
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ") and "KiB" in line]
    assert listed == ["new.ckpt", "second.ckpt"], proc.stdout


def test_a_rule_added_and_dropped_within_one_push_is_not_proven_clean(tmp_path):
    """Neither end of the push has the rule, yet the commit holding the raw file does:
    the hook's fast path must hand the push on, and the guard refuses it."""
    work, remote = clone_pair(tmp_path)
    assert push(work, "origin", "main").returncode == 0
    env = install_hook_without_labhooks(work)
    work.write(".gitattributes", RULE)
    work.write("model.ckpt", raw_bytes(9))
    work.commit("track checkpoints, add one raw")
    work.git("rm", "-q", ".gitattributes")
    work.commit("untrack again")
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode != 0 and HANDED_ON in text(proc), text(proc)
    assert labhooks("install-hooks", cwd=work.path).returncode == 0
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "model.ckpt  2.0 KiB" in text(proc), text(proc)
    assert remote.refs()["refs/heads/main"] == work.rev("origin/main")
    work.git("reset", "-q", "--hard", "origin/main")
    work.write("notes.txt", "small\n")
    work.commit("notes, no attributes anywhere")
    env = install_hook_without_labhooks(work)
    assert push(work, "origin", "main", env=env).returncode == 0  # still proven clean


def test_a_rule_only_the_remote_had_still_counts(tracked):
    """The remote's tip tracks *.ckpt; the push adds a raw one, then drops the rule."""
    work, _ = tracked
    assert labhooks("install-hooks", cwd=work.path).returncode == 0
    work.write("model.ckpt", raw_bytes(8))
    work.commit("add model")
    work.write(".gitattributes", "")
    work.commit("drop the LFS rule")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "model.ckpt  2.0 KiB" in text(proc), text(proc)
    assert fix_lines(text(proc)) == ["git lfs migrate import --fixup && git lfs install --skip-repo && git lfs checkout"]


def test_the_migrate_fix_for_older_commits_works(tracked):
    work, _ = tracked
    work.write("model.ckpt", raw_bytes(9))
    work.commit("add model")
    work.write("notes.txt", "after\n")
    work.commit("more work")
    proc = labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=pre_push_line(work))
    fixes = fix_lines(proc.stdout)
    assert fixes == ["git lfs migrate import --fixup && git lfs install --skip-repo && git lfs checkout"], proc.stdout
    env = own_global_config(work)
    done = subprocess.run(["sh", "-c", fixes[0]], cwd=work.path, capture_output=True, text=True,
                          env={**os.environ, **env})
    assert done.returncode == 0, text(done)
    proc = labhooks("check-large", "--push", "--remote", "origin", cwd=work.path, input=pre_push_line(work),
                    env=env)
    assert proc.returncode == 0, text(proc)
    assert (work.path / "model.ckpt").read_bytes() == raw_bytes(9)  # the file itself is back
    assert work.git("status", "--porcelain", env=env) == ""


def test_multi_ref_tag_and_forced_pushes(tracked):
    work, remote = tracked
    assert labhooks("install-hooks", cwd=work.path).returncode == 0
    work.git("switch", "-q", "-c", "clean")
    work.write("ok.txt")
    work.commit("fine")
    work.git("switch", "-q", "-c", "bad", "main")
    work.write("model.ckpt", raw_bytes(10))
    work.commit("add model")
    work.git("tag", "-a", "-m", "release", "v1")
    proc = push(work, "origin", "clean", "bad")
    assert proc.returncode != 0 and "model.ckpt  2.0 KiB" in text(proc), text(proc)
    proc = push(work, "origin", "v1")  # an annotated tag alone
    assert proc.returncode != 0 and "model.ckpt  2.0 KiB" in text(proc), text(proc)
    assert push(work, "origin", "clean", "clean:throwaway").returncode == 0
    # a forced push that rewrites a pushed branch into one holding the raw file, and
    # deletes another branch in the same push: refused whole
    work.git("switch", "-q", "clean")
    work.git("reset", "-q", "--hard", "main")
    work.write("model.ckpt", raw_bytes(11))
    work.commit("rewrite with a raw model")
    proc = push(work, "--force", "origin", "clean", ":throwaway")
    assert proc.returncode != 0 and "model.ckpt  2.0 KiB" in text(proc), text(proc)
    assert remote.refs()["refs/heads/clean"] != work.rev("clean")
    assert "refs/heads/throwaway" in remote.refs()
    assert push(work, "origin", ":throwaway").returncode == 0  # a deletion alone sends nothing to check


CONFIG = f"""repos:
- repo: local
  hooks:
  - id: check-large-push
    name: check pushed commits for large blobs
    entry: {sys.executable} -m labhooks check-large --push
    language: system
    stages: [pre-push]
    always_run: true
    pass_filenames: false
"""


@pytest.mark.parametrize("runner", ["pre-commit", "prek"])
def test_pre_commit_and_prek_push_stages_refuse_it(tracked, runner):
    if runner == "prek" and shutil.which("prek") is None:
        pytest.skip("prek is installed by .ci/install")
    work, remote = tracked
    work.write(".pre-commit-config.yaml", CONFIG)
    work.commit("hooks")
    assert push(work, "origin", "main").returncode == 0
    home = work.path.parent / f"{runner}-home"
    if runner == "prek":
        proc = subprocess.run(["prek", "install", "-t", "pre-push"], cwd=work.path, capture_output=True,
                              text=True, env={**os.environ, "PREK_HOME": str(home)})
    else:
        proc = precommit(work, home, "install", "-t", "pre-push")
    assert proc.returncode == 0, text(proc)
    work.write("model.ckpt", raw_bytes(12))
    work.commit("add model")
    env = {"PREK_HOME": str(home), "PRE_COMMIT_HOME": str(home)}
    proc = push(work, "origin", "main", env=env)
    assert proc.returncode != 0 and "model.ckpt  2.0 KiB" in text(proc), text(proc)
    assert remote.refs()["refs/heads/main"] == work.rev("origin/main")


def test_pre_receive_refuses_it_on_the_server(tmp_path):
    server = bare(tmp_path / "server.git")
    assert labhooks("install-hooks", "--server", cwd=server.path).returncode == 0
    work = Repo.init(tmp_path / "work")
    work.git("remote", "add", "origin", str(server.path))
    work.write(".gitattributes", RULE)
    work.commit("track")
    assert push(work, "origin", "main").returncode == 0
    work.write("model.ckpt", raw_bytes(13))
    work.commit("add model")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0, text(proc)
    assert "error: File model.ckpt is raw content where .gitattributes says filter=lfs" in text(proc)
    assert server.refs()["refs/heads/main"] != work.rev("HEAD")


def test_a_partial_clone_missing_the_attributes_is_told_not_fetched(tmp_path):
    src = Repo.init(tmp_path / "src")
    src.git("config", "uploadpack.allowFilter", "true")
    src.write(".gitattributes", RULE)
    src.commit("track")
    subprocess.run(["git", "clone", "-q", "--no-checkout", "--filter=blob:none", f"file://{src.path}",
                    str(tmp_path / "clone")], check=True)
    clone = Repo(tmp_path / "clone")
    tree = clone.rev("HEAD^{tree}")
    commit = clone.git("commit-tree", tree, "-p", "HEAD", "-m", "on top").strip()
    proc = labhooks("check-large", "--push", "--remote", "origin", cwd=clone.path,
                    input=f"refs/heads/x {commit} refs/heads/x {ZEROS}\n")
    assert proc.returncode == 0, text(proc)
    assert "LFS conformance was not checked: a .gitattributes it needs is missing locally" in proc.stderr
    missing = clone.git("rev-list", "--objects", "--missing=print", "HEAD").split()
    assert "?" + src.rev("HEAD:.gitattributes") in missing  # still not fetched


def test_a_baseline_allows_the_raw_files_already_there_and_no_new_one(tracked):
    work, _ = tracked
    work.write("old.ckpt", raw_bytes(14))
    work.commit("an old raw checkpoint, already published")
    proc = labhooks("check-large", "--all", "--write-baseline", "baseline.txt", cwd=work.path)
    assert proc.returncode == 0 and "1 raw one(s) at filter=lfs paths" in proc.stdout, text(proc)
    proc = labhooks("check-large", "--all", "--baseline", "baseline.txt", cwd=work.path)
    assert proc.returncode == 0, text(proc)
    work.write("new.ckpt", raw_bytes(15))
    work.commit("a new raw checkpoint")
    proc = labhooks("check-large", "--all", "--baseline", "baseline.txt", cwd=work.path)
    assert proc.returncode == 1 and "  new.ckpt  2.0 KiB" in proc.stdout and "old.ckpt  " not in proc.stdout, text(proc)
