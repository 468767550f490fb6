"""check-large in commit mode and --all mode, against real repositories."""

from __future__ import annotations

import subprocess

import pytest
from helpers import MiB, Repo, labhooks, partial_clone

from labhooks.guard.checks import _PATHSPEC_LIMIT
from labhooks.guard.main import main


def run(repo: Repo, *args: str, monkeypatch, capsys):
    """guard.main in-process, from inside ``repo`` (fast; the CLI itself is tested via ``cli``)."""
    monkeypatch.chdir(repo.path)
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def g(monkeypatch, capsys):
    return lambda repo, *args: run(repo, *args, monkeypatch=monkeypatch, capsys=capsys)


# ---------------------------------------------------------------- commit mode


def test_staged_101_mib_refused_with_advice(repo, g):
    repo.big("data/cache.db", 101 * MiB)
    repo.git("add", "data/cache.db")
    code, out, _ = g(repo, "data/cache.db")
    assert code == 1
    assert "data/cache.db  101.0 MiB" in out
    assert "git rm --cached -- data/cache.db" in out and "git lfs track" in out


def test_staged_99_mib_accepted(repo, g):
    repo.big("data/cache.db", 99 * MiB)
    repo.git("add", "data/cache.db")
    code, out, _ = g(repo, "data/cache.db")
    assert code == 0 and "100.0 MiB or more" not in out
    assert g(repo, "data/cache.db", "--warn", "0") == (0, "", "")


def test_staged_60_mib_warned_exit_0(repo, g):
    repo.big("model.pt", 60 * MiB)
    repo.git("add", "model.pt")
    code, out, _ = g(repo)
    assert code == 0
    assert "warning" in out and "model.pt  60.0 MiB" in out


def test_limits_are_inclusive_and_configurable(repo, g):
    repo.big("a.bin", 5 * MiB)
    repo.git("add", "a.bin")
    assert g(repo, "--max", "5M")[0] == 1
    assert g(repo, "--max", "5242881")[0] == 0
    code, out, _ = g(repo, "--max", "10M", "--warn", "0")
    assert (code, out) == (0, "")


def test_file_grown_past_the_limit_by_modification(repo, g):
    repo.big("results.h5", 10 * MiB)
    repo.commit("small results")
    repo.big("results.h5", 120 * MiB)
    repo.git("add", "results.h5")
    code, out, _ = g(repo)
    assert code == 1 and "results.h5  120.0 MiB" in out


def test_staged_blob_is_checked_not_the_working_copy(repo, g):
    # big on disk, small in the index: passes
    repo.write("notes.txt", "small\n")
    repo.git("add", "notes.txt")
    repo.big("notes.txt", 150 * MiB)
    assert g(repo, "notes.txt")[0] == 0
    # big in the index, small on disk: fails
    repo.big("weights.bin", 150 * MiB)
    repo.git("add", "weights.bin")
    repo.write("weights.bin", "now small\n")
    code, out, _ = g(repo, "weights.bin")
    assert code == 1 and "weights.bin  150.0 MiB" in out


def test_clean_filter_keeps_staged_blob_small(repo, g):
    # a clean filter (what LFS does) stores something small for a big working file
    repo.git("config", "filter.tiny.clean", "head -c 10")
    repo.git("config", "filter.tiny.smudge", "cat")
    repo.write(".gitattributes", "*.raw filter=tiny\n")
    repo.big("scan.raw", 200 * MiB)
    repo.git("add", ".gitattributes", "scan.raw")
    assert g(repo)[0] == 0


def test_lfs_tracked_big_file_passes_commit_mode(repo, g):
    repo.git("lfs", "install", "--local")
    repo.git("lfs", "track", "*.h5")
    repo.big("big.h5", 130 * MiB)
    repo.git("add", ".gitattributes", "big.h5")
    assert "version https://git-lfs" in repo.git("cat-file", "-p", ":big.h5")
    assert g(repo, "big.h5", ".gitattributes")[0] == 0


def test_only_named_files_are_checked(repo, g):
    repo.big("big.bin", 101 * MiB)
    repo.write("small.txt")
    repo.git("add", "-A")
    assert g(repo, "small.txt")[0] == 0
    assert g(repo, "small.txt", "big.bin")[0] == 1
    assert g(repo)[0] == 1  # no names: every staged file


def test_many_names_and_directories(repo, g):
    # more names than the pathspec limit takes the whole-index path; results must agree
    for i in range(_PATHSPEC_LIMIT + 20):
        repo.write(f"src/m{i % 7}/f{i}.txt", f"{i}\n")
    repo.big("src/m3/huge.bin", 101 * MiB)
    repo.git("add", "-A")
    names = [line for line in repo.git("ls-files").splitlines() if not line.endswith("huge.bin")]
    assert len(names) > _PATHSPEC_LIMIT
    assert g(repo, *names)[0] == 0
    assert g(repo, *names, "src/m3/huge.bin")[0] == 1
    assert g(repo, *names, "src/m3")[0] == 1  # a directory covers what is under it
    assert g(repo, "src/m3")[0] == 1


def test_paths_relative_to_a_subdirectory(repo, g):
    repo.big("sub/dir/big.bin", 101 * MiB)
    repo.git("add", "-A")
    sub = Repo(repo.path / "sub")
    code, out, _ = g(sub, "dir/big.bin")
    assert code == 1 and "sub/dir/big.bin" in out


def test_exclude_allowlist(repo, g):
    repo.big("assets/video.mp4", 3 * MiB)
    repo.big("cache.db", 3 * MiB, seed=2)
    repo.git("add", "-A")
    code, out, _ = g(repo, "--max", "2M", "--exclude", "assets/*")
    assert code == 1 and "cache.db" in out and "video.mp4" not in out
    assert g(repo, "--max", "2M", "--exclude", "assets/*", "--exclude", "*.db")[0] == 0
    # the file-name form matches at any depth
    assert g(repo, "--max", "2M", "--exclude", "video.mp4", "--exclude", "cache.*")[0] == 0


@pytest.mark.parametrize("name", ["with space/big file.bin", "données/größe.bin", "new\nline.bin"])
def test_hostile_names(repo, g, name):
    repo.big(name, 3 * MiB)
    repo.git("add", "-A")
    code, out, _ = g(repo, "--max", "2M", name)
    assert code == 1
    shown = name.replace("\n", "\\n")
    assert f"{shown}  3.0 MiB" in out
    assert "\n" not in out.split("3.0 MiB")[0].split(":\n", 1)[1]  # one finding, one line
    assert g(repo, "--max", "2M")[0] == 1


def test_nothing_staged_is_clean(repo, g):
    assert g(repo) == (0, "", "")


def test_gitlinks_are_skipped(repo, g, tmp_path):
    sub = Repo.init(tmp_path / "sub")
    sub.write("x")
    sub.commit("sub")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "vendored")
    assert g(repo)[0] == 0


def test_not_a_repository(tmp_path):
    line = f"refs/heads/main {'a' * 40} refs/heads/main {'0' * 40}\n".encode()
    for args, stdin in (([], b""), (["--all"], b""), (["--push"], b""), (["--push"], line),
                        (["--push", "--remote", "origin"], line), (["--pre-receive"], line), (["x.bin"], b"")):
        proc = labhooks("check-large", *args, cwd=tmp_path, input=stdin)
        assert proc.returncode == 2, args
        err = proc.stderr
        assert err.startswith("labhooks: not a git repository") and err.count("\n") == 1
        assert "Traceback" not in err


def test_git_missing(tmp_path, repo):
    proc = labhooks("check-large", cwd=repo.path, env={"PATH": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.startswith("labhooks: git is not installed")


def test_usage_errors_are_one_line(repo):
    for args in (["--bogus"], ["--push", "--all"], ["--all", "file.txt"], ["--max", "0"]):
        proc = labhooks("check-large", *args, cwd=repo.path)
        assert proc.returncode == 2, args
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_help_reaches_argparse_through_the_click_group(repo):
    for argv in (["check-large", "--help"], ["check-large", "-h"]):
        proc = subprocess.run(["labhooks", *argv], cwd=repo.path, capture_output=True, text=True)
        assert proc.returncode == 0 and "--exclude GLOB" in proc.stdout and "--push" in proc.stdout
    proc = subprocess.run(["labhooks-check-large", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--max SIZE" in proc.stdout


def test_console_script_and_module_agree(repo):
    repo.big("big.bin", 101 * MiB)
    repo.git("add", "-A")
    a = subprocess.run(["labhooks-check-large"], cwd=repo.path, capture_output=True, text=True)
    b = labhooks("check-large", cwd=repo.path)
    assert a.returncode == b.returncode == 1
    assert a.stdout == b.stdout


# ---------------------------------------------------------------- --all


def test_all_finds_blob_deleted_from_head(repo, g):
    repo.write("README.md", "x\n")
    repo.commit("start")
    repo.big("data/cache.db", 101 * MiB)
    added = repo.commit("add the cache")
    repo.git("rm", "-q", "data/cache.db")
    repo.commit("drop the cache")
    code, out, _ = g(repo, "--all")
    assert code == 1
    assert "data/cache.db  101.0 MiB" in out
    assert f"introduced in {added[:10]} add the cache" in out
    assert "labhooks clean-large --max 100M" in out


def test_all_clean_repository_and_empty_repository(repo, g):
    # a clean check says what it covered and by which rule, so a user can tell it ran
    summary = ("labhooks: checked every ref (0 objects in the store); no blob of 100.0 MiB or more "
               "(GitHub's limit; no remote on a forge labhooks knows)\n")
    assert g(repo, "--all") == (0, summary, "")  # unborn branch, empty store
    repo.big("ok.bin", 10 * MiB)
    repo.commit("ok")
    code, out, err = g(repo, "--all")
    assert (code, err) == (0, "")
    assert out.startswith("labhooks: checked every ref (3 objects in the store); no blob of 100.0 MiB")


def test_all_ignores_unreachable_blob_after_amend(repo, g):
    repo.write("README.md")
    repo.commit("start")
    repo.big("big.bin", 101 * MiB)
    repo.write("notes.txt", "work\n")
    repo.commit("oops")
    code, out, _ = g(repo, "--all")
    assert code == 1 and "git commit --amend" in out  # last commit, not pushed anywhere
    repo.git("rm", "-q", "--cached", "big.bin")
    repo.git("commit", "-q", "--amend", "-m", "fixed")
    code, out, err = g(repo, "--all")
    assert code == 0 and out.startswith("labhooks: checked every ref (") and out.count("\n") == 1
    assert "1 big blob(s) sit in the object store unreachable" in err


def test_all_finds_blob_reachable_only_through_a_tag(repo, g):
    repo.write("README.md")
    repo.commit("start")
    path = repo.big("loose.bin", 3 * MiB)
    oid = repo.git("hash-object", "-w", str(path)).strip()
    path.unlink()
    repo.git("tag", "-a", "-m", "a blob", "blobtag", oid)
    code, out, err = g(repo, "--all", "--max", "2M")
    assert code == 1 and "3.0 MiB" in out and "unreachable" not in err


def test_all_warns_and_excludes(repo, g):
    repo.big("a/model.pt", 2 * MiB)
    repo.big("b/huge.bin", 4 * MiB, seed=3)
    repo.commit("both")
    code, out, _ = g(repo, "--all", "--max", "3M", "--warn", "1M")
    assert code == 1 and "warning" in out and "a/model.pt  2.0 MiB" in out
    assert g(repo, "--all", "--max", "3M", "--warn", "1M", "--exclude", "b/*")[0] == 0


def test_all_blob_under_two_paths(repo, g):
    repo.big("one/copy.bin", 3 * MiB)
    repo.big("two/copy.bin", 3 * MiB)  # same seed: same blob
    repo.commit("twice")
    code, out, _ = g(repo, "--all", "--max", "2M")
    assert code == 1 and "one/copy.bin, two/copy.bin  3.0 MiB" in out
    # allowlisting one path is not enough: the blob is still pushed under the other
    assert g(repo, "--all", "--max", "2M", "--exclude", "one/*")[0] == 1


def _missing(repo: Repo) -> int:
    out = repo.git("rev-list", "--objects", "--missing=print", "--all")
    return sum(1 for line in out.splitlines() if line.startswith("?"))


def test_partial_clone_counts_missing_and_never_fetches(tmp_path, g):
    src = Repo.init(tmp_path / "src")
    src.write("README.md")
    src.commit("start")
    src.big("old/big.bin", 3 * MiB)
    src.commit("big")
    src.git("rm", "-q", "old/big.bin")
    src.big("now/huge.bin", 4 * MiB, seed=5)
    src.commit("swap")
    clone = partial_clone(src, tmp_path / "clone")
    before = _missing(clone)
    assert before >= 1
    code, out, err = g(clone, "--all", "--max", "2M")
    assert code == 1 and "now/huge.bin  4.0 MiB" in out and "old/big.bin" not in out
    assert f"{before} object(s) are missing locally" in err
    assert _missing(clone) == before  # nothing was fetched


def test_raw_content_at_lfs_paths_is_found_however_the_names_are_given(repo, g):
    # commit mode asks check-attr for the names as given; folders and names relative to a
    # subfolder must still reach the files under them
    repo.write(".gitattributes", "*.ckpt filter=lfs diff=lfs merge=lfs -text\n")
    repo.commit("track checkpoints with LFS")
    for i in range(_PATHSPEC_LIMIT + 5):
        repo.write(f"runs/r{i % 3}/notes{i}.txt", f"{i}\n")
    repo.big("runs/r1/model.ckpt", 4096)
    repo.git("add", "-A")  # no git-lfs filter configured here: a raw blob
    names = repo.git("ls-files", "runs").splitlines()
    sub = Repo(repo.path / "runs")
    for target, args in ((repo, names), (repo, ["runs"]), (repo, ["runs/r1"]), (repo, []),
                         (sub, ["r1/model.ckpt"]), (sub, ["r1"]), (sub, ["."])):
        code, out, _ = g(target, *args)
        assert code == 1 and "runs/r1/model.ckpt" in out, (target.path, args[:3], out)
    code, out, _ = g(repo, *[n for n in names if not n.endswith(".ckpt")])
    assert code == 0, out


def test_in_process_runs_leave_no_process_or_pipe_behind(repo, g):
    """Commit mode starts its git queries at once; every one is waited for, also when
    nothing is staged (an early return) or the settings are refused (an error)."""
    import os

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    g(repo)  # warm up: imports, lazily opened files
    before = open_fds()
    for _ in range(20):
        assert g(repo)[0] == 0  # nothing staged
    repo.git("config", "labhooks.maxsize", "lots")
    for _ in range(5):
        assert g(repo, "x.bin")[0] == 2  # bad setting: one line, exit 2
    assert open_fds() == before
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left unwaited (no zombie)
