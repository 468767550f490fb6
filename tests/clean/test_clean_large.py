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
    assert "No remote is configured" in proc.stdout and "re-clone" in proc.stdout
    assert "Rewritten here only, on no remote, not pushed: refs/heads/main" in proc.stdout
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
    refs_before_clean = repo.refs()

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    assert repo.git("config", "--local", "--get-regexp", r"^remote\.") == config_before
    assert sorted(repo.refs()) == local_before  # no refs/heads invented from refs/remotes
    assert repo.refs()["refs/remotes/origin/main"] == repo.rev("main")
    assert repo.git("symbolic-ref", "refs/remotes/origin/HEAD").strip() == "refs/remotes/origin/main"
    assert remote.refs() == remote_refs_before
    assert big_blobs(repo) == []
    assert "git push --force-with-lease=refs/heads/main:" + refs_before_clean["refs/heads/main"] in proc.stdout


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


# --- the real BFG, against filter-repo on a copy of the same repository ----------------------

BFG_JAR = os.environ.get("LABHOOKS_BFG_JAR", "")
needs_bfg = pytest.mark.skipif(not (BFG_JAR and Path(BFG_JAR).is_file()),
                               reason="LABHOOKS_BFG_JAR does not name a BFG jar (.ci/run sets it to "
                                      "../shared/tools/bfg/bfg.jar when that file exists)")


def side_branch_with_an_old_big_blob(repo: Repo, tmp_path: Path) -> None:
    repo.write("README.md", "# lab\n")
    repo.commit("start")
    repo.git("checkout", "-q", "-b", "side")
    random_file(repo, "scratch/dump.bin", 3 * MiB)
    repo.commit("dump")
    repo.git("rm", "-q", "scratch/dump.bin")
    repo.write("scratch/notes.txt", "dumped\n")
    repo.commit("drop dump")
    repo.git("checkout", "-q", "main")
    repo.write("src/a.py", "a = 1\n")
    repo.commit("code")


def big_file_at_head_in_a_subfolder(repo: Repo, tmp_path: Path) -> None:
    repo.write("README.md", "# lab\n")
    repo.write("models/v1/config.yaml", "lr: 0.1\n")
    repo.commit("start")
    random_file(repo, "models/v1/weights.bin", 2 * MiB)
    repo.commit("weights")


def annotated_tag_on_a_big_commit(repo: Repo, tmp_path: Path) -> None:
    history_with_old_big_file(repo)
    repo.git("tag", "-a", "v1.0", "-m", "release with raw data", "HEAD~2")
    repo.git("tag", "light", "HEAD~1")


def stash_entries_holding_big_files(repo: Repo, tmp_path: Path) -> None:
    repo.write("README.md", "x\n")
    random_file(repo, "data/big.bin", 2 * MiB)
    repo.commit("big")
    random_file(repo, "data/big.bin", 2 * MiB)  # a changed big file, stashed
    repo.git("stash", "push", "-q", "-m", "first")
    repo.write("README.md", "second\n")
    repo.git("stash", "push", "-q", "-m", "second")
    repo.git("rm", "-q", "data/big.bin")
    repo.commit("drop big")


def remote_with_remote_tracking_refs(repo: Repo, tmp_path: Path) -> None:
    remote = bare(tmp_path / "remote.git")
    history_with_old_big_file(repo)
    repo.git("remote", "add", "origin", str(remote.path))
    repo.git("push", "-q", "origin", "main", "main:refs/heads/published")
    repo.git("fetch", "-q", "origin")
    repo.git("remote", "set-head", "origin", "main")


def names_with_spaces_and_unicode(repo: Repo, tmp_path: Path) -> None:
    repo.write("lisez moi.txt", "bonjour\n")
    repo.commit("start")
    random_file(repo, "données brutes/spectre été.bin", 2 * MiB)
    repo.commit("raw")
    repo.git("rm", "-q", "données brutes/spectre été.bin")
    repo.commit("drop raw")
    random_file(repo, "模型 权重/final weights*.bin", 2 * MiB)
    repo.write("模型 权重/说明 .txt", "ok\n")
    repo.commit("weights")


SCENARIOS = {f.__name__: f for f in (
    side_branch_with_an_old_big_blob, big_file_at_head_in_a_subfolder, annotated_tag_on_a_big_commit,
    stash_entries_holding_big_files, remote_with_remote_tracking_refs, names_with_spaces_and_unicode,
)}


def twin(repo: Repo, target: Path) -> Repo:
    shutil.copytree(repo.path, target, symlinks=True)
    return Repo(target)


def every_path_in_history(repo: Repo) -> set[str]:
    out = repo.git("log", "--all", "-z", "--format=", "--name-only", "--no-renames",
                   *[f"stash@{{{i}}}" for i in range(stash_count(repo))])
    return {p.strip("\n") for p in out.split("\0") if p.strip("\n")}


def stash_count(repo: Repo) -> int:
    return len(repo.git("stash", "list").splitlines())


def stash_trees(repo: Repo) -> list[tuple[str, str]]:
    return [(repo.rev(f"stash@{{{i}}}^{{tree}}"), repo.rev(f"stash@{{{i}}}^2^{{tree}}"))
            for i in range(stash_count(repo))]


def untracked_files(repo: Repo) -> dict[str, bytes]:
    out = repo.git("ls-files", "-z", "--others")
    return {p: (repo.path / p).read_bytes() for p in out.split("\0") if p}


@needs_bfg
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_bfg_leaves_the_trees_filter_repo_leaves(repo, tmp_path, scenario):
    SCENARIOS[scenario](repo, tmp_path)
    other = twin(repo, tmp_path / "twin")
    refs_before = repo.refs()
    stashes_before = repo.git("stash", "list", "--format=%gs")
    assert big_blobs(repo)

    by_bfg = run_clean(repo.path, "--max", LIMIT, "--yes", "--backend", "bfg", "--backup-dir", str(tmp_path / "b1"))
    by_filter_repo = run_clean(other.path, "--max", LIMIT, "--yes", "--backend", "filter-repo", "--no-backup")

    assert by_bfg.returncode == 0, by_bfg.stdout + by_bfg.stderr
    assert by_filter_repo.returncode == 0, by_filter_repo.stdout + by_filter_repo.stderr
    assert "backend bfg: " in by_bfg.stdout and "--strip-blobs-with-ids" in by_bfg.stdout
    assert sorted(repo.refs()) == sorted(other.refs()) == sorted(refs_before)
    for name in refs_before:
        assert tree(repo, name) == tree(other, name), name
    assert stash_trees(repo) == stash_trees(other)
    assert repo.git("stash", "list", "--format=%gs") == stashes_before
    assert not any(p.endswith(".REMOVED.git-id") for p in every_path_in_history(repo))
    assert big_blobs(repo) == [] and big_blobs(other) == []
    # index and working tree: only the kept big files differ from HEAD, and they are excluded
    assert repo.git("status", "--porcelain") == "" == other.git("status", "--porcelain")
    assert untracked_files(repo) == untracked_files(other)
    assert not (repo.path / ".git" / "labhooks-clean-blob-ids").exists()
    assert not any(name.startswith("refs/labhooks-clean/") for name in repo.refs())
    if (tmp_path / "remote.git").exists():
        assert repo.git("config", "--get-regexp", r"^remote\.") == other.git("config", "--get-regexp", r"^remote\.")
        assert repo.refs()["refs/remotes/origin/published"] == repo.rev("main")


@needs_bfg
def test_bfg_keep_placeholders_keeps_exactly_bfgs_placeholders(repo, tmp_path):
    big_file_at_head_in_a_subfolder(repo, tmp_path)
    old = history_with_old_big_file(repo)
    head_big = repo.rev("HEAD:models/v1/weights.bin")
    content = (repo.path / "models/v1/weights.bin").read_bytes()
    head_before = tree(repo, "HEAD")
    middle_before = tree(repo, "HEAD~2")  # has data/raw.bin and the weights

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup", "--backend", "bfg", "--keep-placeholders")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"--strip-blobs-bigger-than {MiB - 1}B" in proc.stdout  # 1M or more, in the B BFG needs
    placeholder = "models/v1/weights.bin.REMOVED.git-id"
    expected_head = without(head_before, [head_big])
    expected_head[placeholder] = ("100644", repo.git("hash-object", "--stdin", input=head_big).strip())
    assert tree(repo, "HEAD") == expected_head
    assert repo.git("cat-file", "blob", f"HEAD:{placeholder}") == head_big  # the old id, no newline
    middle = tree(repo, "HEAD~2")
    assert set(middle) == (set(middle_before) - {"data/raw.bin", "models/v1/weights.bin"}) | {
        "data/raw.bin.REMOVED.git-id", placeholder}
    assert repo.git("cat-file", "blob", "HEAD~2:data/raw.bin.REMOVED.git-id") == old
    # the placeholder is checked out, the big file kept beside it, untracked and excluded
    assert (repo.path / placeholder).read_text() == head_big
    assert (repo.path / "models/v1/weights.bin").read_bytes() == content
    assert repo.git("status", "--porcelain") == ""
    assert big_blobs(repo) == []


@needs_bfg
def test_bfg_protect_head_keeps_heads_tree_and_strips_the_rest_as_bfg_defines(repo, tmp_path):
    repo.write("README.md", "x\n")
    random_file(repo, "old place.bin", 2 * MiB)
    repo.commit("start")
    repo.git("tag", "start")
    (repo.path / "sub").mkdir()
    repo.git("mv", "old place.bin", "sub/moved.bin")
    random_file(repo, "gone.bin", 3 * MiB)
    repo.commit("move")
    repo.git("rm", "-q", "gone.bin")
    repo.commit("drop gone")
    repo.git("tag", "-a", "same-tree", "-m", "a tag on HEAD's tree")
    repo.write("other.txt", "o\n")
    repo.commit("other")
    repo.git("tag", "between")
    repo.git("rm", "-q", "other.txt")
    repo.commit("back to the same tree")
    kept = repo.rev("HEAD:sub/moved.bin")
    head_tree = repo.rev("HEAD^{tree}")
    between_before = tree(repo, "between")

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup", "--backend", "bfg", "--protect-head")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "--no-blob-protection" not in proc.stdout
    # BFG protects the root tree of HEAD's commit, and so every commit with that same tree
    assert repo.rev("HEAD^{tree}") == head_tree and repo.rev("same-tree^{tree}") == head_tree
    # the same blob in any other tree goes, and so does every other big blob
    assert tree(repo, "between") == without(between_before, [kept])
    assert "old place.bin" not in tree(repo, "start")
    assert big_blobs(repo) == [kept]
    assert repo.git("status", "--porcelain") == ""


@needs_bfg
def test_bfg_with_a_java_too_old_for_the_jar_is_refused_before_anything(repo, tmp_path):
    history_with_old_big_file(repo)
    refs = repo.refs()
    real = shutil.which("java")
    folder = tmp_path / "bin"
    folder.mkdir()
    java = folder / "java"
    java.write_text(f'#!/bin/sh\nif [ "$1" = -version ]; then echo \'java version "1.8.0_292"\' >&2; exit 0; fi\n'
                    f'exec {real} "$@"\n')
    java.chmod(0o755)
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--backend", "bfg",
                     env={"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"})
    assert_refused(repo, proc, "or later", refs, tmp_path)
    assert "Java 8" in proc.stderr


# --- edges --------------------------------------------------------------------------------

def test_sha256_repository_is_refused_before_the_backup_and_lfs_does_it(tmp_path):
    repo = Repo.init(tmp_path / "work", "--object-format=sha256")
    history_with_old_big_file(repo)
    refs = repo.refs()
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--backend", "filter-repo")
    assert_refused(repo, proc, "--backend lfs", refs, tmp_path)
    assert "SHA256" in proc.stderr
    assert not any(name.startswith("refs/labhooks-clean/") for name in repo.refs())
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup", "--backend", "lfs")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert big_blobs(repo) == []


def test_a_kept_name_gitignore_cannot_express_is_reported_not_written(repo):
    repo.write("README.md", "x\n")
    repo.commit("start")
    random_file(repo, "new\nline.bin", 2 * MiB)
    random_file(repo, "plain.bin", 2 * MiB)
    repo.commit("weights")

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    exclude = (repo.path / ".git" / "info" / "exclude").read_text()
    assert "/plain.bin" in exclude.splitlines()
    assert "line.bin" not in exclude and "/new" not in exclude.splitlines()
    assert "NOT excluded" in proc.stdout and "new\\nline.bin" in proc.stdout
    repo.write("line.bin", "unrelated\n")
    repo.write("new", "unrelated\n")
    assert repo.git("check-ignore", "--no-index", "line.bin", "new", check=False) == ""  # nothing else hidden
    assert (repo.path / "new\nline.bin").stat().st_size == 2 * MiB


# --- next steps and --push ----------------------------------------------------------------

def shared_history(repo: Repo, tmp_path: Path) -> tuple[Repo, Repo]:
    """A remote with main, a tag and a shared branch; a collaborator's clone of it."""
    remote = bare(tmp_path / "remote.git")
    history_with_old_big_file(repo)
    repo.git("tag", "-a", "v1", "-m", "v1", "HEAD~1")
    repo.git("branch", "shared", "HEAD~1")
    repo.git("remote", "add", "origin", str(remote.path))
    repo.git("push", "-q", "origin", "main", "shared", "v1")
    repo.git("fetch", "-q", "origin")
    collaborator = Repo(tmp_path / "collaborator")
    subprocess.run(["git", "clone", "-q", str(remote.path), str(collaborator.path)], check=True)
    repo.git("branch", "experiment", "HEAD~2")  # local only
    return remote, collaborator


def collaborator_pushes(collaborator: Repo, branch: str) -> str:
    collaborator.git("checkout", "-q", "-B", branch, f"origin/{branch}")
    collaborator.write(f"{branch}.txt", "their work\n")
    collaborator.commit("their work")
    collaborator.git("push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    return collaborator.rev("HEAD")


def test_next_steps_push_exactly_what_each_remote_has_with_leases(repo, tmp_path):
    remote, collaborator = shared_history(repo, tmp_path)
    theirs = collaborator_pushes(collaborator, "shared")  # after our last fetch
    collaborator.git("push", "-q", "origin", "HEAD:refs/heads/their-branch")  # never fetched here
    before = repo.refs()

    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")

    assert proc.returncode == 0, proc.stderr
    [push] = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("git push")]
    assert push == ("git push "
                    f"--force-with-lease=refs/heads/main:{before['refs/heads/main']} "
                    f"--force-with-lease=refs/tags/v1:{before['refs/tags/v1']} "
                    "origin refs/heads/main:refs/heads/main refs/tags/v1:refs/tags/v1")
    assert "not pushed: refs/heads/shared: the remote has " + theirs[:12] in proc.stdout
    assert "not pushed: refs/heads/their-branch: not in this repository" in proc.stdout
    assert "Rewritten here only, on no remote, not pushed: refs/heads/experiment" in proc.stdout
    subprocess.run(push, shell=True, cwd=repo.path, check=True, capture_output=True)  # pasted as printed
    after = remote.refs()
    assert after["refs/heads/main"] == repo.rev("main") and after["refs/tags/v1"] == repo.rev("refs/tags/v1")
    assert after["refs/heads/shared"] == theirs  # the collaborator's commit is still there
    assert "refs/heads/experiment" not in after


def test_the_printed_lease_stops_a_push_over_a_collaborators_new_commit(repo, tmp_path):
    remote, collaborator = shared_history(repo, tmp_path)
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup")
    assert proc.returncode == 0, proc.stderr
    [push] = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("git push")]
    theirs = collaborator_pushes(collaborator, "main")  # after the plan, before the push
    pasted = subprocess.run(push, shell=True, cwd=repo.path, capture_output=True, text=True)
    assert pasted.returncode != 0 and "stale info" in pasted.stderr
    assert remote.refs()["refs/heads/main"] == theirs


def test_push_yes_pushes_the_planned_refs(repo, tmp_path):
    remote, _ = shared_history(repo, tmp_path)
    old_big = big_blobs(repo)
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup", "--push")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Pushed 3 ref(s) to origin." in proc.stdout
    pushed = remote.refs()
    for name in ("refs/heads/main", "refs/heads/shared", "refs/tags/v1"):
        assert pushed[name] == repo.rev(name)
    assert "refs/heads/experiment" not in pushed
    reachable = remote.git("rev-list", "--objects", "--all")
    assert old_big and not any(oid in reachable for oid in old_big)  # stored there until its gc, but unreachable


def test_push_is_refused_when_the_remote_moved_since_the_plan(repo, tmp_path):
    remote, collaborator = shared_history(repo, tmp_path)
    real = shutil.which("git-filter-repo") or str(Path(sys.executable).parent / "git-filter-repo")
    folder = tmp_path / "bin"
    folder.mkdir()
    wrapper = folder / "git-filter-repo"  # the collaborator pushes while the rewrite runs
    wrapper.write_text(f"#!/bin/sh\ncd {collaborator.path} && git checkout -q -B main origin/main && "
                       f"echo more > more.txt && git add more.txt && git commit -q -m more && git push -q origin main"
                       f" && cd - >/dev/null && exec {real} \"$@\"\n")
    wrapper.chmod(0o755)
    proc = run_clean(repo.path, "--max", LIMIT, "--yes", "--no-backup", "--backend", "filter-repo", "--push",
                     env={"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "the rewrite is complete, but origin changed since the plan (refs/heads/main)" in last
    assert remote.refs()["refs/heads/main"] == collaborator.rev("HEAD")
    assert remote.refs()["refs/tags/v1"] != repo.rev("refs/tags/v1")  # nothing at all was pushed there
