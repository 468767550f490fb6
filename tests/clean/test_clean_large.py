"""clean-large end to end on real repositories: real git, git-filter-repo and git-lfs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT, MiB, Repo, bare, labhooks

from labhooks.clean.verify import tree_listing

LIMIT = "1M"


def run_clean(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return labhooks("clean-large", *args, cwd=cwd, stdin=subprocess.DEVNULL, env=env)


def random_file(repo: Repo, rel: str, size: int) -> bytes:
    """Random bytes stay big in a pack, so the blob really is over the limit on disk too."""
    data = os.urandom(size)
    repo.write(rel, data)
    return data


def all_objects(repo: Repo) -> dict[str, tuple[str, int]]:
    out = repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(objectsize)")
    result = {}
    for line in out.splitlines():
        oid, kind, size = line.split()
        result[oid] = (kind, int(size))
    return result


def big_blobs(repo: Repo, over: int = MiB) -> list[str]:
    return sorted(oid for oid, (kind, size) in all_objects(repo).items() if kind == "blob" and size > over)


def tree(repo: Repo, rev: str) -> dict[str, tuple[str, str]]:
    return tree_listing(rev, repo.path)


def without(listing: dict, oids) -> dict:
    return {p: e for p, e in listing.items() if e[1] not in set(oids)}


def commit_count(repo: Repo) -> int:
    return int(repo.git("rev-list", "--count", "--all").strip())


def bundles(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.bundle"))


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("labhooks: "), proc.stderr
    return lines[0]


def history_with_old_big_file(repo: Repo) -> str:
    repo.write("README.md", "# lab\n")
    repo.commit("start")
    random_file(repo, "data/raw.bin", 3 * MiB)
    repo.write("notes.txt", "raw data added\n")
    repo.commit("add raw data")
    big = repo.rev("HEAD:data/raw.bin")
    repo.git("rm", "-q", "data/raw.bin")
    repo.commit("remove raw data")
    repo.write("src/model.py", "print('hi')\n")
    repo.commit("model")
    return big


# --- the rewrite itself -----------------------------------------------------------------

def test_big_blob_in_old_history_only_is_removed_and_everything_else_kept(repo, tmp_path):
    big = history_with_old_big_file(repo)
    commits_before = commit_count(repo)
    head_tree_before = tree(repo, "HEAD")
    middle_tree_before = tree(repo, "HEAD~2")

    proc = run_clean(repo.path / "src", "--max", LIMIT, "--yes")  # from a subfolder: the whole repository

    assert proc.returncode == 0, proc.stderr
    assert big_blobs(repo) == []
    assert big not in all_objects(repo)
    assert commit_count(repo) == commits_before  # nothing pruned, not even the emptied commits
    assert tree(repo, "HEAD") == head_tree_before
    assert tree(repo, "HEAD~2") == without(middle_tree_before, [big])
    backup = bundles(tmp_path)
    assert len(backup) == 1 and backup[0].parent == repo.path.parent
    assert str(backup[0]) in proc.stdout
    assert "git push --force" in proc.stdout and "re-clone" in proc.stdout and "hidden refs" in proc.stdout
    assert "before" in proc.stdout and "after" in proc.stdout
    for step in ("backing up", "rewriting", "gc"):
        assert step in proc.stderr  # progress for the slow steps
    assert repo.git("status", "--porcelain") == ""


def test_big_file_at_head_stays_in_working_tree_untracked_and_excluded(repo):
    repo.write("README.md", "x\n")
    repo.commit("start")
    content = random_file(repo, "model.ckpt", 2 * MiB)
    repo.commit("checkpoint")

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    assert (repo.path / "model.ckpt").read_bytes() == content
    assert "model.ckpt" not in tree(repo, "HEAD")
    assert repo.git("ls-files", "--", "model.ckpt") == ""
    assert repo.git("status", "--porcelain") == ""  # untracked, but ignored through info/exclude
    assert "/model.ckpt" in (repo.path / ".git" / "info" / "exclude").read_text()
    assert repo.git("check-ignore", "model.ckpt").strip() == "model.ckpt"
    assert "model.ckpt" in proc.stdout
    assert big_blobs(repo) == []
    assert not (repo.path / ".git" / "labhooks-clean-held").exists()


def test_two_branches_and_annotated_tag_keep_names_messages_and_paths(repo):
    big = history_with_old_big_file(repo)
    repo.git("tag", "-a", "v1.0", "-m", "first release", "HEAD~1")
    repo.git("checkout", "-q", "-b", "experiment", "HEAD~2")
    random_file(repo, "exp/weights.bin", 2 * MiB)
    repo.write("exp/run.py", "run\n")
    repo.commit("experiment weights")
    exp_big = repo.rev("HEAD:exp/weights.bin")
    repo.git("checkout", "-q", "main")
    refs_before = repo.refs()
    trees_before = {name: tree(repo, name) for name in refs_before}

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    refs_after = repo.refs()
    assert sorted(refs_after) == sorted(refs_before)
    assert all(refs_after[name] != refs_before[name] for name in refs_before)
    for name in refs_before:
        assert tree(repo, name) == without(trees_before[name], [big, exp_big]), name
    assert repo.git("cat-file", "-t", "v1.0").strip() == "tag"
    assert "first release" in repo.git("cat-file", "-p", "v1.0")
    assert big_blobs(repo) == []
    assert (repo.path / "exp").exists() is False  # the checked-out branch is main


def test_stash_entries_are_kept_and_rewritten(repo):
    repo.write("notes.txt", "one\n")
    random_file(repo, "big.bin", 2 * MiB)
    repo.commit("with big")
    repo.write("notes.txt", "first stash\n")
    repo.git("stash", "push", "-q", "-m", "first")
    repo.write("notes.txt", "second stash\n")
    repo.git("stash", "push", "-q", "-m", "second")
    diffs_before = [repo.git("stash", "show", "-p", f"stash@{{{i}}}") for i in (0, 1)]
    list_before = repo.git("stash", "list", "--format=%gs")

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    assert repo.git("stash", "list", "--format=%gs") == list_before
    assert [repo.git("stash", "show", "-p", f"stash@{{{i}}}") for i in (0, 1)] == diffs_before
    assert big_blobs(repo) == []
    assert not any(name.startswith("refs/labhooks-clean/") for name in repo.refs())
    repo.git("stash", "pop", "-q")
    assert (repo.path / "notes.txt").read_text() == "second stash\n"


def test_remote_tracking_refs_stay_remote_and_nothing_is_pushed(repo, tmp_path):
    remote = bare(tmp_path / "remote.git")
    history_with_old_big_file(repo)
    repo.git("remote", "add", "origin", str(remote.path))
    repo.git("push", "-q", "origin", "main")
    repo.git("fetch", "-q", "origin")
    repo.git("remote", "set-head", "origin", "main")
    remote_refs_before = remote.refs()
    config_before = repo.git("config", "--local", "--get-regexp", r"^remote\.")
    local_before = sorted(repo.refs())

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    assert repo.git("config", "--local", "--get-regexp", r"^remote\.") == config_before
    assert sorted(repo.refs()) == local_before  # no refs/heads invented from refs/remotes
    assert repo.refs()["refs/remotes/origin/main"] == repo.rev("main")
    assert repo.git("symbolic-ref", "refs/remotes/origin/HEAD").strip() == "refs/remotes/origin/main"
    assert remote.refs() == remote_refs_before
    assert big_blobs(repo) == []
    assert "git push --force origin" in proc.stdout


def test_unicode_and_space_paths(repo):
    repo.write("lisez moi.txt", "bonjour\n")
    repo.commit("start")
    old = random_file(repo, "données brutes/spectre été.bin", 2 * MiB)
    repo.commit("raw")
    repo.git("rm", "-q", "données brutes/spectre été.bin")
    repo.commit("drop raw")
    head = random_file(repo, "模型 权重/final weights*.bin", 2 * MiB)
    repo.write("模型 权重/说明 .txt", "ok\n")
    repo.commit("weights")
    assert len(old) == len(head)

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    assert "données brutes/spectre été.bin" in proc.stdout
    assert (repo.path / "模型 权重/final weights*.bin").read_bytes() == head
    assert set(tree(repo, "HEAD")) == {"lisez moi.txt", "模型 权重/说明 .txt"}
    assert repo.git("status", "--porcelain") == ""
    assert repo.git("check-ignore", "--no-index", "模型 权重/final weights*.bin").strip()
    assert repo.git("check-ignore", "--no-index", "模型 权重/final weights1.bin", check=False).strip() == ""
    assert big_blobs(repo) == []


def test_lfs_backend_turns_big_files_into_real_lfs_objects(repo, tmp_path):
    old_big = history_with_old_big_file(repo)
    remote = bare(tmp_path / "remote.git")
    repo.git("remote", "add", "origin", str(remote.path))
    repo.git("push", "-q", "origin", "main")
    repo.git("fetch", "-q", "origin")
    remote_refs = remote.refs()
    assert int(repo.git("cat-file", "-s", old_big)) == 3 * MiB
    content = random_file(repo, "weights/final.bin", 2 * MiB)
    repo.commit("final weights")
    refs_before = repo.refs()

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup", "--backend", "lfs")

    assert proc.returncode == 0, proc.stderr
    assert sorted(repo.refs()) == sorted(refs_before)
    assert big_blobs(repo) == []
    assert (repo.path / "weights/final.bin").read_bytes() == content
    assert repo.git("status", "--porcelain") == ""
    pointer = repo.git("cat-file", "blob", "HEAD:weights/final.bin")
    assert pointer.startswith("version https://git-lfs.github.com/spec/v1") and f"size {2 * MiB}" in pointer
    old_pointer = repo.git("cat-file", "blob", "HEAD~3:data/raw.bin")
    assert f"size {3 * MiB}" in old_pointer
    listed = repo.git("lfs", "ls-files", "--all", "--name-only")
    assert "weights/final.bin" in listed and "data/raw.bin" in listed
    oid = [line for line in pointer.splitlines() if line.startswith("oid sha256:")][0].split(":", 1)[1]
    stored = repo.path / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
    assert stored.read_bytes() == content
    # git-lfs leaves remote-tracking refs alone; labhooks rewrites them through its pins
    assert repo.refs()["refs/remotes/origin/main"] == repo.rev("main~1")
    assert remote.refs() == remote_refs


def test_lfs_threshold_is_the_limit_or_more(repo):
    repo.write("README.md", "x\n")
    random_file(repo, "one-less.bin", MiB - 1)
    random_file(repo, "exactly.bin", MiB)
    repo.commit("edge sizes")

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup", "--backend", "lfs")

    assert proc.returncode == 0, proc.stderr
    assert int(repo.git("cat-file", "-s", "HEAD:one-less.bin")) == MiB - 1  # under the limit: untouched
    assert int(repo.git("cat-file", "-s", "HEAD:exactly.bin")) < 1024  # the limit itself is over it: a pointer


def test_exact_limit_is_stripped_by_filter_repo(repo):
    random_file(repo, "one-less.bin", MiB - 1)
    random_file(repo, "exactly.bin", MiB)
    repo.commit("edge sizes")

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    assert set(tree(repo, "HEAD")) == {"one-less.bin"}


# --- dry run, confirmation, backup -------------------------------------------------------

def object_count(repo: Repo) -> int:
    return len(all_objects(repo))


def test_dry_run_changes_nothing(repo, tmp_path):
    big = history_with_old_big_file(repo)
    repo.git("stash", "list")
    refs, objects = repo.refs(), object_count(repo)
    files_before = sorted(p.relative_to(repo.path) for p in repo.path.rglob("*"))

    proc = run_clean(repo.path, "--max", LIMIT, "--dry-run")

    assert proc.returncode == 0, proc.stderr
    assert big[:10] in proc.stdout and "data/raw.bin" in proc.stdout
    assert "refs/heads/main" in proc.stdout and "saving" in proc.stdout
    assert "add raw data" in proc.stdout  # the introducing commit
    assert repo.refs() == refs and object_count(repo) == objects
    assert sorted(p.relative_to(repo.path) for p in repo.path.rglob("*")) == files_before
    assert bundles(tmp_path) == []


def test_refuses_without_yes_when_stdin_is_not_a_terminal(repo, tmp_path):
    history_with_old_big_file(repo)
    refs = repo.refs()

    proc = run_clean(repo.path, "--max", LIMIT)

    assert proc.returncode == 2
    assert "--yes" in one_line_error(proc)
    assert repo.refs() == refs and bundles(tmp_path) == []


def test_backup_restores_the_original_history_exactly(repo, tmp_path):
    history_with_old_big_file(repo)
    repo.git("tag", "-a", "v1", "-m", "release", "HEAD~1")
    repo.write("notes.txt", "stashed\n")
    repo.git("stash", "-q")
    repo.write("notes.txt", "stashed again\n")
    repo.git("stash", "-q")
    older_stash = repo.rev("stash@{1}")
    refs_before = repo.refs()
    backup_dir = tmp_path / "backups"

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--backup-dir", str(backup_dir))

    assert proc.returncode == 0, proc.stderr
    [bundle] = bundles(backup_dir)
    assert repo.refs() != refs_before
    restored = tmp_path / "restored.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(bundle), str(restored)], check=True)
    restored_refs = Repo(restored).refs()
    assert {n: o for n, o in restored_refs.items() if not n.startswith("refs/labhooks-clean/")} == refs_before
    assert restored_refs["refs/labhooks-clean/stash/1"] == older_stash  # older stash entries too
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True)
    assert Repo(clone).rev("HEAD") == refs_before["refs/heads/main"]
    assert big_blobs(Repo(restored)) != []


def test_backup_dir_inside_git_dir_is_refused(repo):
    history_with_old_big_file(repo)
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--backup-dir", str(repo.path / ".git" / "bk"))
    assert proc.returncode == 2
    assert "inside the git dir" in one_line_error(proc)


# --- preflight refusals ----------------------------------------------------------------------

def assert_refused(repo: Repo, proc, fragment: str, refs_before: dict, tmp_path: Path) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert fragment in one_line_error(proc)
    assert repo.refs() == refs_before
    assert bundles(tmp_path) == []


def test_refuses_outside_a_repository(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = run_clean(plain, "--max", LIMIT, "--yes")
    assert proc.returncode == 2
    assert "not a git repository" in one_line_error(proc)


@pytest.mark.parametrize("change", ["modified", "staged"])
def test_refuses_uncommitted_or_staged_changes(repo, tmp_path, change):
    history_with_old_big_file(repo)
    refs = repo.refs()
    if change == "modified":
        repo.write("README.md", "edited\n")
    else:
        repo.write("new.txt", "new\n")
        repo.git("add", "new.txt")
    proc = run_clean(repo.path, "--max", LIMIT, "--yes")
    assert_refused(repo, proc, "uncommitted or staged changes", refs, tmp_path)


def conflicting_branches(repo: Repo) -> None:
    repo.write("f.txt", "base\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "other")
    repo.write("f.txt", "other\n")
    repo.commit("other")
    repo.git("checkout", "-q", "main")
    repo.write("f.txt", "main\n")
    repo.commit("main")


@pytest.mark.parametrize("operation,fragment,marker", [
    ("merge", "a merge", "MERGE_HEAD"), ("rebase", "a rebase", "rebase-merge"),
    ("cherry-pick", "a cherry-pick", "CHERRY_PICK_HEAD"), ("bisect", "a bisect", "BISECT_START"),
])
def test_operation_in_progress_is_named_even_with_a_clean_tree(repo, tmp_path, operation, fragment, marker):
    conflicting_branches(repo)
    if operation == "bisect":
        repo.git("bisect", "start")
    else:
        repo.git(operation, "other", check=False)
    assert (repo.path / ".git" / marker).exists()
    repo.git("checkout", "-q", "--ours" if operation != "rebase" else "--theirs", "--", "f.txt", check=False)
    repo.git("reset", "-q", "--", "f.txt", check=False)
    repo.git("checkout", "-q", "HEAD", "--", "f.txt")
    refs = repo.refs()
    proc = run_clean(repo.path, "--max", LIMIT, "--yes")
    assert_refused(repo, proc, fragment, refs, tmp_path)


@pytest.mark.parametrize("size", ["abc", "12Q", "1.5.3M", "0"])
def test_refuses_malformed_max(repo, tmp_path, size):
    history_with_old_big_file(repo)
    refs = repo.refs()
    proc = run_clean(repo.path, "--max", size, "--yes")
    assert_refused(repo, proc, size, refs, tmp_path)


def bin_with(tmp_path: Path, *programs: str) -> Path:
    """A PATH folder holding only the named programs (as links to the real ones)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for program in programs:
        real = shutil.which(program)
        assert real, program
        (folder / program).symlink_to(real)
    return folder


def run_with_path(repo: Repo, folder: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # the interpreter is reached through the same folder, so "beside the interpreter" finds nothing else
    python = folder / "python"
    if not python.exists():
        python.symlink_to(sys.executable)
    return labhooks("clean-large", *args, cwd=repo.path, python=python, stdin=subprocess.DEVNULL,
                    env={"PATH": str(folder), "PYTHONPATH": str(REPO_ROOT), **(env or {})})


def test_refuses_missing_filter_repo(repo, tmp_path):
    history_with_old_big_file(repo)
    refs = repo.refs()
    proc = run_with_path(repo, bin_with(tmp_path, "git"), "--max", LIMIT, "--yes", "--backend", "filter-repo",
                         env={"LABHOOKS_BFG_JAR": ""})
    assert_refused(repo, proc, "git-filter-repo is not installed", refs, tmp_path)


def test_refuses_missing_git_lfs(repo, tmp_path):
    history_with_old_big_file(repo)
    refs = repo.refs()
    proc = run_with_path(repo, bin_with(tmp_path, "git"), "--max", LIMIT, "--yes", "--backend", "lfs")
    assert_refused(repo, proc, "git-lfs is not installed", refs, tmp_path)


def test_refuses_bfg_without_java(repo, tmp_path):
    history_with_old_big_file(repo)
    jar = tmp_path / "bfg.jar"
    jar.write_bytes(b"PK")
    refs = repo.refs()
    proc = run_with_path(repo, bin_with(tmp_path, "git"), "--max", LIMIT, "--yes", "--backend", "bfg",
                         "--bfg-jar", str(jar))
    assert_refused(repo, proc, "java is not installed", refs, tmp_path)


def test_refuses_bfg_without_a_jar(repo, tmp_path):
    history_with_old_big_file(repo)
    refs = repo.refs()
    proc = run_with_path(repo, bin_with(tmp_path, "git", "java"), "--max", LIMIT, "--yes", "--backend", "bfg",
                         env={"LABHOOKS_BFG_JAR": ""})
    assert_refused(repo, proc, "BFG not found", refs, tmp_path)
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--backend", "bfg", "--bfg-jar", str(tmp_path / "no.jar"))
    assert_refused(repo, proc, "BFG jar not found", refs, tmp_path)


def test_refuses_protect_head_without_bfg(repo, tmp_path):
    history_with_old_big_file(repo)
    refs = repo.refs()
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--backend", "filter-repo", "--protect-head")
    assert_refused(repo, proc, "--protect-head", refs, tmp_path)


def test_nothing_to_do_when_no_blob_is_over_the_limit(repo, tmp_path):
    history_with_old_big_file(repo)
    refs = repo.refs()
    proc = run_clean(repo.path, "--max", "10M", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "Nothing to do" in proc.stdout
    assert repo.refs() == refs and bundles(tmp_path) == []


# --- BFG -----------------------------------------------------------------------------------

@pytest.mark.skipif(not os.environ.get("LABHOOKS_BFG_JAR"), reason="set LABHOOKS_BFG_JAR to a BFG jar to run")
def test_bfg_real_jar_skipped_without_LABHOOKS_BFG_JAR(repo, tmp_path):
    big = history_with_old_big_file(repo)
    content = random_file(repo, "model.ckpt", 2 * MiB)
    repo.commit("checkpoint")
    repo.git("checkout", "-q", "-b", "side", "HEAD~1")
    repo.git("checkout", "-q", "main")
    repo.git("tag", "-a", "v1", "-m", "v1")
    refs_before = repo.refs()
    trees_before = {name: tree(repo, name) for name in refs_before}
    head_big = repo.rev("HEAD:model.ckpt")

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--backend", "bfg")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(repo.refs()) == sorted(refs_before)
    for name in refs_before:
        assert tree(repo, name) == without(trees_before[name], [big, head_big]), name
    assert (repo.path / "model.ckpt").read_bytes() == content
    assert repo.git("status", "--porcelain") == ""
    assert big_blobs(repo) == []


def test_refuses_detached_head(repo, tmp_path):
    history_with_old_big_file(repo)
    repo.git("checkout", "-q", "--detach", "HEAD~1")
    refs = repo.refs()
    proc = run_clean(repo.path, "--max", LIMIT, "--yes")
    assert_refused(repo, proc, "HEAD is detached", refs, tmp_path)


def test_refuses_shallow_clone(repo, tmp_path):
    history_with_old_big_file(repo)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow)], check=True)
    clone = Repo(shallow)
    refs = clone.refs()
    proc = run_clean(shallow, "--max", LIMIT, "--yes")
    assert proc.returncode == 2
    assert "shallow clone" in one_line_error(proc)
    assert clone.refs() == refs and bundles(tmp_path) == []


def test_confirmation_on_a_terminal_no_changes_nothing_yes_proceeds(repo, tmp_path):
    import pty

    big = history_with_old_big_file(repo)
    refs = repo.refs()

    def answer(reply: bytes) -> tuple[int, str]:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the CLI with a terminal as stdin
            os.chdir(repo.path)
            os.execv(sys.executable, [sys.executable, "-m", "labhooks", "clean-large", "--max", LIMIT])
        seen = b""
        while b"[y/N]" not in seen:
            seen += os.read(fd, 4096)
        os.write(fd, reply)
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), seen.decode("utf-8", "replace")

    code, text = answer(b"n\n")
    assert code == 1 and "cancelled" in text
    assert repo.refs() == refs and bundles(tmp_path) == []
    code, text = answer(b"y\n")
    assert code == 0, text
    assert big not in all_objects(repo) and len(bundles(tmp_path)) == 1
