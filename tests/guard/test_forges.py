"""Limits by forge, read from the remote's URL (pushes still go to a local bare repository:
the remote's fetch URL names the forge, its push URL is a path), and hints that work when
pasted. Real git, real pushes through the installed hook."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from helpers import MiB, Repo, clone_pair, labhooks, push, text

from labhooks import forges


def on_forge(tmp_path, url: str) -> tuple[Repo, Repo]:
    work, remote = clone_pair(tmp_path)
    work.git("remote", "set-url", "origin", url)
    work.git("remote", "set-url", "--push", "origin", str(remote.path))
    assert labhooks("install-hooks", cwd=work.path).returncode == 0
    return work, remote


@pytest.mark.parametrize("url", ["https://huggingface.co/lab/model", "git@hf.co:datasets/lab/set"])
def test_the_hub_refuses_an_11_mib_file_that_is_not_in_lfs(tmp_path, url):
    work, remote = on_forge(tmp_path, url)
    work.big("weights.bin", 11 * MiB)
    work.commit("weights")
    proc = push(work, "origin", "main")
    out = text(proc)
    assert proc.returncode != 0 and remote.refs() == {}
    assert "1 blob(s) of 10.0 MiB or more in the commits being pushed (Hugging Face Hub's limit; " \
           f"remote origin is {forges.host_of(url)})" in out
    assert "not stored through Git LFS" in out


def test_the_same_push_to_github_passes_and_says_by_which_rule(tmp_path):
    work, remote = on_forge(tmp_path, "https://github.com/lab/repo.git")
    work.big("weights.bin", 11 * MiB)
    work.commit("weights")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, text(proc)
    assert "labhooks: checked 1 ref(s) pushed: 2 commit(s), 2 blob(s)" in text(proc)
    assert "no blob of 100.0 MiB or more (GitHub's limit; remote origin is github.com)" in text(proc)


def test_bitbucket_refuses_a_file_over_100_mb_that_github_takes(tmp_path):
    """Atlassian's "100 MB" read as 10^8 bytes: a 97 MiB file (101.7 MB) is over it,
    while under GitHub's 100 MiB it only earns a warning."""
    work, remote = on_forge(tmp_path, "git@bitbucket.org:lab/repo.git")
    work.big("scans.h5", 97 * MiB)
    work.commit("scans")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and remote.refs() == {}, text(proc)
    assert "1 blob(s) of 95.4 MiB or more in the commits being pushed (Bitbucket Cloud's limit; " \
           "remote origin is bitbucket.org)" in text(proc)
    work.git("remote", "set-url", "origin", "https://github.com/lab/repo.git")
    work.git("remote", "set-url", "--push", "origin", str(remote.path))
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, text(proc)


def test_gitlab_has_no_warn_size_of_its_own_so_warnings_start_at_half(tmp_path):
    work, _ = on_forge(tmp_path, "ssh://git@gitlab.com/lab/repo.git")
    proc = labhooks("check-large", "--push", "--remote", "origin", cwd=work.path,
                    input=f"refs/heads/main {work.rev('HEAD')} refs/heads/main {'0' * 40}\n")
    assert proc.returncode == 0
    assert "(GitLab.com's limit; remote origin is gitlab.com)" in proc.stdout


def test_labhooks_forge_names_a_self_hosted_hub_and_config_sizes_still_override(tmp_path):
    work, remote = on_forge(tmp_path, "https://models.example.org/lab/repo")
    work.git("config", "labhooks.forge", "huggingface")
    work.big("weights.bin", 11 * MiB)
    work.commit("weights")
    proc = push(work, "origin", "main")
    assert proc.returncode != 0 and "Hugging Face Hub's limit; git config labhooks.forge" in text(proc)
    work.git("config", "labhooks.maxsize", "20M")
    proc = push(work, "origin", "main")
    assert proc.returncode == 0, text(proc)
    assert "no blob of 20.0 MiB or more (limit from git config labhooks.maxsize" in text(proc)
    work.git("config", "labhooks.forge", "sourceforge")
    proc = labhooks("check-large", "--all", cwd=work.path)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(
        "git config labhooks.forge: unknown forge 'sourceforge' (known: github, gitlab, huggingface, bitbucket)")


def test_commit_mode_takes_the_strictest_forge_among_the_remotes(tmp_path):
    work, _ = clone_pair(tmp_path)
    work.git("remote", "add", "hub", "https://huggingface.co/lab/model")
    work.big("weights.bin", 11 * MiB)
    work.git("add", "weights.bin")
    proc = labhooks("check-large", cwd=work.path)
    assert proc.returncode == 1
    assert "Hugging Face Hub's limit; remote hub is huggingface.co" in proc.stdout
    assert "    fix: git lfs track -- weights.bin && git add -- .gitattributes weights.bin" in proc.stdout


def test_exclude_that_lets_through_what_the_forge_refuses_says_so(tmp_path):
    work, _ = on_forge(tmp_path, "https://huggingface.co/lab/model")
    work.big("weights.bin", 11 * MiB)
    work.commit("weights")
    proc = labhooks("check-large", "--push", "--remote", "origin", "--max", "20M", "--exclude", "*.bin",
                    cwd=work.path, input=f"refs/heads/main {work.rev('HEAD')} refs/heads/main {'0' * 40}\n")
    assert proc.returncode == 0
    assert "--exclude let through 1 blob(s) that Hugging Face Hub refuses (10.0 MiB or more)" in proc.stdout
    assert "weights.bin" in proc.stdout


NAMES = ["-rf.bin", "with space.bin", "it's \"quoted\".bin", "größe.bin", "new\nline.bin", "a   # b.bin"]


def test_every_fix_line_works_when_pasted_and_each_finding_gets_one(tmp_path):
    work, _ = clone_pair(tmp_path)
    for i, name in enumerate(NAMES):
        work.big(name, 2 * MiB, seed=i)
    work.git("add", "--", *NAMES)
    proc = labhooks("check-large", "--max", "1M", cwd=work.path)
    assert proc.returncode == 1
    # the rest of the line pasted whole, remark and all: the remark is a shell comment
    fixes = [line.split("fix: ", 1)[1] for line in proc.stdout.splitlines() if "fix: " in line]
    assert len(fixes) == len(NAMES)
    assert all(fix.endswith("   # the file stays on disk; add it to .gitignore") for fix in fixes)
    for fix in fixes:
        subprocess.run(["bash", "-c", fix], cwd=work.path, check=True, capture_output=True)
    assert work.git("diff", "--cached", "--name-only") == ""  # every one unstaged, by its own line
    assert all((work.path / name).exists() for name in NAMES)


def test_amend_that_would_leave_an_empty_commit_is_not_suggested(tmp_path):
    work, _ = clone_pair(tmp_path)
    work.big("only.bin", 2 * MiB)
    work.commit("only the big file")
    proc = labhooks("check-large", "--all", "--max", "1M", cwd=work.path)
    fix = next(line for line in proc.stdout.splitlines() if "fix: " in line).split("fix: ", 1)[1].split("   # ")[0]
    assert fix == "git reset --soft HEAD~1 && git rm --cached -- only.bin"
    subprocess.run(["bash", "-c", fix], cwd=work.path, check=True, capture_output=True)
    assert work.git("log", "--format=%s").splitlines() == ["initial"]
    assert labhooks("check-large", "--all", "--max", "1M", cwd=work.path).returncode == 0


def test_a_named_file_that_is_not_staged_gets_a_clear_word(tmp_path):
    work, _ = clone_pair(tmp_path)
    work.big("big.h5", 2 * MiB)
    proc = labhooks("check-large", "--max", "1M", "big.h5", "README.md", cwd=work.path)
    assert proc.returncode == 0
    assert proc.stderr == "labhooks: note: big.h5 is not staged, so nothing was checked for it " \
                          "(git add -- big.h5 first)\n"


@pytest.mark.skipif(shutil.which("git-lfs") is None, reason="git-lfs is installed by .ci/install")
def test_a_file_lfs_should_store_committed_without_git_lfs_is_refused_with_the_fix(tmp_path):
    work, _ = clone_pair(tmp_path)
    work.write(".gitattributes", "*.ckpt filter=lfs diff=lfs merge=lfs -text\n")
    work.commit("track checkpoints with LFS")
    work.big("model.ckpt", 200 * 1024)  # far under every size limit
    work.big("tiny.ckpt", 100)  # small enough to be a pointer, yet it is not one
    work.git("add", "model.ckpt", "tiny.ckpt")  # no git-lfs filter configured: raw blobs
    proc = labhooks("check-large", cwd=work.path)
    assert proc.returncode == 1
    assert "2 file(s) that .gitattributes stores through Git LFS (filter=lfs) are staged as raw content" \
        in proc.stdout
    assert "    fix: git lfs install --skip-repo && git add --renormalize -- model.ckpt" in proc.stdout
    # no pre-push hook here yet, so git-lfs's own goes in plainly and will upload the files
    assert proc.stdout.endswith("its pre-push hook is not installed here): git lfs install\n")
    for fix in {line.split("fix: ", 1)[1] for line in proc.stdout.splitlines() if "fix: " in line}:
        subprocess.run(["bash", "-c", fix.replace("git lfs install", "git lfs install --local")],
                       cwd=work.path, check=True, capture_output=True)
    proc = labhooks("check-large", cwd=work.path)
    assert proc.returncode == 0, proc.stdout  # now pointers, as every clone expects
    blob = work.git("cat-file", "-p", ":model.ckpt")
    assert blob.startswith("version https://git-lfs.github.com/spec/v1\n")


def test_a_baseline_allows_the_big_blobs_of_today_and_never_a_new_one(tmp_path):
    work, _ = clone_pair(tmp_path)
    old = work.big("legacy/old data.bin", 3 * MiB)
    work.commit("legacy")
    assert labhooks("check-large", "--all", "--max", "1M", cwd=work.path).returncode == 1
    proc = labhooks("check-large", "--all", "--max", "1M", "--write-baseline", "baseline.txt", cwd=work.path)
    assert proc.returncode == 0 and "wrote 1 blob(s) of 1.0 MiB or more to baseline.txt" in proc.stdout
    listed = (work.path / "baseline.txt").read_text().splitlines()[1]
    assert listed == f"{work.git('rev-parse', 'HEAD:legacy/old data.bin').strip()} {3 * MiB} legacy/old data.bin"
    assert old.exists()
    proc = labhooks("check-large", "--all", "--max", "1M", "--baseline", "baseline.txt", cwd=work.path)
    assert proc.returncode == 0 and "1 blob(s) over the limit allowed by the baseline baseline.txt" in proc.stderr
    work.big("new.bin", 2 * MiB)
    work.commit("new")
    work.git("config", "labhooks.baseline", "baseline.txt")
    proc = labhooks("check-large", "--all", "--max", "1M", cwd=work.path)
    assert proc.returncode == 1
    assert "new.bin" in proc.stdout and "old data.bin" not in proc.stdout
    (work.path / "bad.txt").write_text("not a baseline\n")
    proc = labhooks("check-large", "--all", "--max", "1M", "--baseline", "bad.txt", cwd=work.path)
    assert proc.returncode == 2 and proc.stderr.strip().endswith(
        "--baseline: bad.txt line 1 does not start with a blob id")
