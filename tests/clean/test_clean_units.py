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

from labhooks.clean import backends, backup, bfg, held, pins, verify
from labhooks.clean.refs import stash_entries
from labhooks.errors import LabhooksError


def fake_program(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return path


# --- command lines ------------------------------------------------------------------------

def job(max_bytes: int, **kw) -> backends.Job:
    return backends.Job(max_bytes, Path("/r/.git"), ["a" * 40], **kw)


def test_bfg_command_line_from_jar_option(tmp_path):
    jar = tmp_path / "bfg 1.14.0.jar"
    jar.write_bytes(b"PK")
    backend = backends.resolve("bfg", str(jar), environ={})
    java = backend.launcher[0]
    assert Path(java).name == "java" and backend.jar == jar.resolve()
    heap = f"-Xmx{bfg.heap_bytes(0) // MiB}m"
    # default: exactly the planned blobs, dropped without placeholders, messages left alone
    assert backend.command(job(100 * MiB)) == [java, heap, "-jar", str(jar.resolve()), "--strip-blobs-with-ids",
                                               "/r/.git/labhooks-clean-blob-ids", "--private",
                                               "--no-blob-protection", "/r/.git"]
    assert backend.command(job(100 * MiB, protect_head=True))[-3:] == ["/r/.git/labhooks-clean-blob-ids",
                                                                       "--private", "/r/.git"]
    # --keep-placeholders: BFG's own size option (placeholders), strictly bigger than SIZE - 1
    # (labhooks' rule: SIZE or more), as K/M/G when whole, else in bytes with the B BFG
    # insists on, never rounded
    assert backend.command(job(100 * MiB, keep_placeholders=True))[4:7] == [
        "--strip-blobs-bigger-than", f"{100 * MiB - 1}B", "--private"]
    assert backend.command(job(1_000_001, keep_placeholders=True))[5] == "1000000B"
    assert backend.command(job(1536 * 1024 + 1, keep_placeholders=True))[5] == "1536K"


def test_bfg_heap_follows_the_repository_size():
    assert bfg.heap_bytes(0, memory_bytes=64 * 1024 * MiB) == 512 * MiB
    assert bfg.heap_bytes(3 * 1024 * MiB, memory_bytes=64 * 1024 * MiB) == 6 * 1024 * MiB
    assert bfg.heap_bytes(100 * 1024 * MiB, memory_bytes=16 * 1024 * MiB) == 8 * 1024 * MiB  # half the memory
    assert bfg.heap_bytes(0, memory_bytes=256 * MiB) == 256 * MiB  # a floor the JVM starts with


@pytest.mark.parametrize("text,major", [
    ('openjdk version "17.0.15" 2025-04-15', 17), ('java version "1.8.0_292"', 8),
    ('openjdk version "11.0.2" 2019-01-15', 11), ('openjdk version "21" 2023-09-19', 21), ("nonsense", None),
])
def test_java_version_is_read_from_java_version_output(text, major):
    assert bfg.java_major(text) == major


def test_java_needed_per_bfg_release_and_build():
    assert bfg.java_needed((1, 15, 0), created_by=8) == 11  # 1.15 is built for Java 11
    assert bfg.java_needed((1, 14, 0), created_by=8) == 8
    assert bfg.java_needed((1, 12, 17), created_by=17) == 9  # compiled against a Java 9+ class library
    assert bfg.java_needed((1, 12, 17), created_by=None) == 8
    assert bfg.bfg_version("bfg 1.12.17\n") == (1, 12, 17)
    assert bfg.bfg_version("Unrecognized option") is None


def test_placeholder_blob_id_is_what_git_gives_the_old_id_as_content(repo):
    oid = "d35b3c12" + "0" * 32
    assert bfg.placeholder_blob(oid) == repo.git("hash-object", "--stdin", input=oid).strip()


def fake_java(folder: Path, version_line: str, jar_output: str = "", jar_exit: int = 0) -> Path:
    """A java that reports an old version (the machine's own is new enough)."""
    return fake_program(folder, "java", f"""case "$1" in
  -version) echo '{version_line}' >&2; exit 0;;
  *) printf '%s\\n' '{jar_output}' >&2; exit {jar_exit};;
esac""")


@pytest.mark.parametrize("version_line,jar_output,jar_exit,needed", [
    # a release built for newer Java than this one: the JVM says so before BFG starts
    ('java version "1.8.0_292"', "java.lang.UnsupportedClassVersionError: com/madgag/git/bfg/cli/Main has been "
     "compiled by a more recent version of the Java Runtime (class file version 55.0)", 1, "Java 11"),
    # runs on Java 8 as far as --version, but 1.15 is built for Java 11
    ('java version "1.8.0_292"', "bfg 1.15.0", 0, "Java 11"),
])
def test_java_too_old_for_the_jar_is_refused_before_anything(tmp_path, monkeypatch, version_line, jar_output,
                                                           jar_exit, needed):
    jar = tmp_path / "bfg.jar"
    jar.write_bytes(b"PK")
    java = fake_java(tmp_path / "bin", version_line, jar_output, jar_exit)
    with pytest.raises(LabhooksError) as err:
        bfg.check([str(java), "-jar", str(jar)], jar)
    assert err.value.exit_code == 2 and needed in err.value.message and "Java 8" in err.value.message


def test_something_that_is_no_bfg_is_refused(tmp_path):
    jar = tmp_path / "other.jar"
    jar.write_bytes(b"PK")
    java = fake_java(tmp_path / "bin", 'openjdk version "17.0.1"', "Usage: other-tool", 0)
    with pytest.raises(LabhooksError) as err:
        bfg.check([str(java), "-jar", str(jar)], jar)
    assert "did not print a BFG version" in err.value.message


@pytest.mark.skipif(not os.environ.get("LABHOOKS_BFG_JAR"), reason="LABHOOKS_BFG_JAR is not set")
def test_real_jar_is_checked_against_the_real_java_and_a_java_8(tmp_path):
    jar = Path(os.environ["LABHOOKS_BFG_JAR"])
    runtime = bfg.check(bfg.java_launcher(jar), jar)
    assert runtime.version[:2] >= (1, 12) and runtime.java >= 9
    java8 = fake_java(tmp_path / "bin", 'java version "1.8.0_292"', f"bfg {runtime.version_text}", 0)
    with pytest.raises(LabhooksError) as err:
        bfg.check([str(java8), "-jar", str(jar)], jar)
    assert f"needs Java {bfg.java_needed(runtime.version, bfg.built_with_java(jar))} or later" in err.value.message


def test_bfg_jar_from_environment_and_launcher_on_path(tmp_path, monkeypatch):
    jar = tmp_path / "env.jar"
    jar.write_bytes(b"PK")
    assert backends.resolve("auto", None, environ={"LABHOOKS_BFG_JAR": str(jar)}).launcher[-1] == str(jar.resolve())
    launcher = fake_program(tmp_path / "bin", "bfg", "exit 0")
    monkeypatch.setenv("PATH", f"{launcher.parent}{os.pathsep}{os.environ['PATH']}")
    backend = backends.resolve("auto", None, environ={})
    assert backend.name == "bfg" and backend.jar is None
    assert backend.command(job(5 * MiB, keep_placeholders=True)) == [
        str(launcher), "--strip-blobs-bigger-than", f"{5 * MiB - 1}B", "--private", "--no-blob-protection", "/r/.git"]
    # an explicit jar wins over the launcher
    assert backends.resolve("auto", str(jar), environ={}).launcher[-1] == str(jar.resolve())


def test_auto_falls_back_to_filter_repo_without_bfg(monkeypatch):
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                               if not (Path(p) / "bfg").exists()))
    backend = backends.resolve("auto", None, environ={})
    assert backend.name == "filter-repo"
    assert backend.command(job(100 * MiB))[1:] == [
        "--strip-blobs-bigger-than", str(100 * MiB - 1), "--force", "--partial",
        "--prune-empty", "never", "--prune-degenerate", "never",
    ]


def test_lfs_command_line_uses_an_exact_byte_threshold():
    backend = backends.resolve("lfs", None, environ={})
    command = backend.command(job(100 * MiB))
    assert command[1:] == ["lfs", "migrate", "import", "--everything", "--skip-fetch", "--yes",
                           f"--above={100 * MiB}b"]


def test_bfg_jar_option_with_other_backend_is_refused(tmp_path):
    with pytest.raises(LabhooksError) as err:
        backends.resolve("filter-repo", str(tmp_path / "x.jar"), environ={})
    assert err.value.exit_code == 2


def test_bfg_prepare_packs_every_loose_object_for_the_size_option(repo):
    repo.write("a.bin", os.urandom(4096))
    repo.commit("loose")
    assert int(dict(line.split(": ") for line in repo.git("count-objects", "-v").splitlines())["count"]) > 0
    gitdir = repo.path / ".git"
    backends.Backend("bfg", ["bfg"]).prepare(repo.path, backends.Job(MiB, gitdir, [], keep_placeholders=True))
    counts = dict(line.split(": ") for line in repo.git("count-objects", "-v").splitlines())
    assert counts["count"] == "0" and int(counts["in-pack"]) >= 3
    # the id list needs no packing: BFG reads loose objects by id
    backends.Backend("bfg", ["bfg"]).prepare(repo.path, backends.Job(MiB, gitdir, ["b" * 40, "c" * 40]))
    assert (gitdir / backends.BLOB_IDS_FILE).read_text() == "b" * 40 + "\n" + "c" * 40 + "\n"


def test_sha256_repository_is_refused_for_bfg_and_filter_repo_naming_lfs():
    for name in ("bfg", "filter-repo"):
        with pytest.raises(LabhooksError) as err:
            backends.ensure_can_rewrite(backends.Backend(name, [name]), "sha256")
        assert err.value.exit_code == 2 and "--backend lfs" in err.value.message
    backends.ensure_can_rewrite(backends.Backend("lfs", ["git", "lfs"]), "sha256")
    backends.ensure_can_rewrite(backends.Backend("bfg", ["bfg"]), "sha1")


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


def fake_bfg(folder: Path, script: str) -> Path:
    """A bfg launcher that answers --version as BFG does, then runs ``script``."""
    return fake_program(folder, "bfg", f'if [ "$1" = --version ]; then echo "bfg 1.14.0"; exit 0; fi\n{script}')


def test_bfg_that_exits_0_without_doing_anything_is_caught(repo, tmp_path):
    bfg_repo(repo)
    refs = repo.refs()
    # records its arguments, then does nothing and exits 0, as BFG does when it refuses
    fake_bfg(tmp_path / "bin", f'echo "$@" > {tmp_path / "args"}; cat "$2" > {tmp_path / "ids"}; '
                               'echo "BFG aborting"; exit 0')
    proc = run_clean(repo, tmp_path / "bin", "--max", "1M", "--yes", "--backend", "bfg")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("labhooks: the rewrite did not give the expected result")
    assert "git clone" in last and ".bundle" in last
    assert "still in the repository" in err
    ids_file = repo.path / ".git" / backends.BLOB_IDS_FILE
    assert (tmp_path / "args").read_text().split() == [
        "--strip-blobs-with-ids", str(ids_file), "--private", "--no-blob-protection", str(repo.path / ".git")]
    assert (tmp_path / "ids").read_text() == repo.rev("HEAD:big.bin") + "\n"  # exactly the planned blob
    assert not ids_file.exists() and pins.existing_pins(repo.path) == []  # scratch state gone
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
    assert pins.existing_pins(repo.path) == []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def slow_git(folder: Path, subcommand: str, pidfile: Path) -> None:
    """git, except that one subcommand first waits in a grandchild (the real git then runs)."""
    import shutil

    real = shutil.which("git")
    fake_program(folder, "git", f'if [ "$1" = {subcommand} ]; then sleep 300 & echo $! > {pidfile}; wait; fi\n'
                                f'exec {real} "$@"')


def interrupt_at(proc: subprocess.Popen, marker: str, pidfile: Path, sig=signal.SIGINT) -> tuple[str, str]:
    """A signal to labhooks alone (not its group) once ``marker`` is on its stderr and the slow child runs."""
    deadline = time.time() + 90
    seen = ""
    while marker not in seen and time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert marker in seen, seen
    while not pidfile.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=60)
    return out, seen + err


def test_interrupt_during_the_backup_says_nothing_changed_and_leaves_nothing(repo, tmp_path):
    bfg_repo(repo)
    refs = repo.refs()
    pidfile = tmp_path / "sleep.pid"
    slow_git(tmp_path / "bin", "bundle", pidfile)
    proc = run_clean(repo, tmp_path / "bin", "--max", "1M", "--yes", "--backend", "filter-repo")
    _, err = interrupt_at(proc, "backing up", pidfile)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "labhooks: interrupted before the rewrite: nothing was changed"
    assert not alive(int(pidfile.read_text()))  # the grandchild went with labhooks
    assert repo.refs() == refs and pins.existing_pins(repo.path) == []
    assert list(tmp_path.glob("*.bundle*")) == []  # no half-written backup
    again = run_clean(repo, tmp_path / "none", "--max", "1M", "--dry-run")
    assert again.wait(timeout=120) == 0, again.stderr.read()  # the next run is not blocked


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_during_rewrite_says_how_to_restore_and_the_restore_works(repo, tmp_path, sig):
    bfg_repo(repo)
    refs = repo.refs()
    pidfile = tmp_path / "sleep.pid"
    fake_bfg(tmp_path / "bin", f"sleep 300 & echo $! > {pidfile}; wait")
    proc = run_clean(repo, tmp_path / "bin", "--max", "1M", "--yes", "--backend", "bfg")
    _, err = interrupt_at(proc, "rewriting", pidfile, sig)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert "interrupted during the rewrite" in last
    assert not alive(int(pidfile.read_text()))
    assert (repo.path / "big.bin").stat().st_size == 2 * MiB  # the held file went back
    assert pins.existing_pins(repo.path) == [] and not (repo.path / ".git" / backends.BLOB_IDS_FILE).exists()
    in_place = last.split("or in place: ", 1)[1]
    bundle = Path(last.split("git clone ", 1)[1].split(" ", 1)[0])
    listed = subprocess.run(["git", "bundle", "list-heads", str(bundle)], capture_output=True, text=True,
                            check=True).stdout
    assert refs["refs/heads/main"] in listed
    subprocess.run(in_place, shell=True, cwd=repo.path, check=True, capture_output=True)
    assert repo.refs() == refs  # the pasted restore brings back the refs, not labhooks' pins


def test_interrupt_during_gc_says_the_rewrite_is_complete_and_keeps_the_stash(repo, tmp_path):
    bfg_repo(repo)
    for text in ("one", "two"):
        repo.write("README.md", text + "\n")
        repo.git("stash", "push", "-q", "-m", text)
    stash_before = repo.git("stash", "list", "--format=%gs")
    pidfile = tmp_path / "sleep.pid"
    slow_git(tmp_path / "bin", "gc", pidfile)
    proc = run_clean(repo, tmp_path / "bin", "--max", "1M", "--yes", "--no-backup", "--backend", "filter-repo")
    _, err = interrupt_at(proc, "git gc --prune=now", pidfile)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert "interrupted after the rewrite was complete" in last and "restore" not in last
    assert not alive(int(pidfile.read_text()))
    assert repo.git("stash", "list", "--format=%gs") == stash_before
    assert pins.existing_pins(repo.path) == []
    finish = last.split("finish with ", 1)[1]
    subprocess.run(finish, shell=True, cwd=repo.path, check=True, capture_output=True)
    assert verify.leftover_blobs(repo.path, MiB, set())[0] == []
    assert repo.git("stash", "list", "--format=%gs") == stash_before


# --- exclusion patterns, disk room, backup dir --------------------------------------------------

@pytest.mark.parametrize("path", ["new\nline.bin", "ends with cr\r"])
def test_names_gitignore_cannot_express_get_no_pattern(repo, path):
    assert held.exclude_pattern(path) is None
    result = held.exclude(repo.path, [path, "fine.bin"], "1.0 MiB")
    assert result.inexpressible == [path] and result.paths == ["fine.bin"]
    lines = result.file.read_text().splitlines()
    patterns = [line for line in lines if not line.startswith("#")]
    assert patterns[-1] == "/fine.bin" and not any(line.startswith(("/new", "line.bin", "/ends")) for line in patterns)

@pytest.mark.parametrize("path,pattern", [
    ("model.ckpt", "/model.ckpt"),
    ("dir with space/a b.bin", "/dir with space/a b.bin"),
    ("weights*[1]?.bin", "/weights\\*\\[1]\\?.bin"),
    ("#notes.bin", "/#notes.bin"),
    ("trailing ", "/trailing\\ "),
    ("two trailing  ", "/two trailing \\ "),
    ("!important.bin", "/!important.bin"),
    ("back\\slash.bin", "/back\\\\slash.bin"),
    ("carriage\rinside.bin", "/carriage\rinside.bin"),
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


def snapshot_with_a_big_file(repo: Repo, path: str) -> tuple[str, verify.Snapshot]:
    """One commit with keep.txt and a 2 MiB file at ``path``: (its blob, the snapshot before a strip)."""
    repo.write("keep.txt", "keep\n")
    repo.write(path, os.urandom(2 * MiB))
    repo.commit("start")
    return repo.rev(f"HEAD:{path}"), verify.take(repo.path)


def test_tree_comparison_catches_a_path_changed_besides_the_stripped_blob(repo):
    big, before = snapshot_with_a_big_file(repo, "big.bin")
    repo.git("rm", "-q", "--cached", "big.bin")
    repo.git("commit", "-q", "--amend", "-m", "start")
    after = verify.take(repo.path, with_trees=False)
    assert verify.compare_trees(before, after, {big: 2 * MiB}, repo.path) == []
    repo.write("keep.txt", "changed\n")
    repo.git("commit", "-q", "-am", "edit")
    after = verify.take(repo.path, with_trees=False)
    problems = verify.compare_trees(before, after, {big: 2 * MiB}, repo.path)
    assert len(problems) == 1 and "keep.txt" in problems[0]


def test_placeholder_check_accepts_exactly_bfgs_placeholder(repo):
    big, before = snapshot_with_a_big_file(repo, "d/big.bin")

    def amend(content: str, name: str = "d/big.bin.REMOVED.git-id") -> list[str]:
        repo.git("rm", "-q", "--cached", "--ignore-unmatch", "d/big.bin", "d/big.bin.REMOVED.git-id", "d/other")
        repo.write(name, content)
        repo.git("add", name)
        repo.git("commit", "-q", "--amend", "-m", "start")
        (repo.path / name).unlink()
        return verify.compare_trees(before, verify.take(repo.path, with_trees=False), {big: 2 * MiB}, repo.path,
                                    placeholders=True)

    assert amend(big) == []  # BFG's own: the old id, no newline
    assert len(amend(big + "\n")) == 1  # other content
    assert len(amend(big, "d/other")) == 1  # another name
    # and without --keep-placeholders, the placeholder itself is a difference
    assert amend(big) == [] and len(verify.compare_trees(before, verify.take(repo.path, with_trees=False),
                                                         {big: 2 * MiB}, repo.path)) == 1


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
    assert "killed clean" in proc.stderr and "Traceback" not in proc.stderr
    command = proc.stderr.split("delete them with ", 1)[1].split(", and run again", 1)[0]
    subprocess.run(command, shell=True, cwd=repo.path, check=True)
    assert pins.existing_pins(repo.path) == []
    again = labhooks("clean-large", "--max", "1M", "--dry-run", cwd=repo.path, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr


# --- next steps: the push plan and the forges --------------------------------------------------

def ref(name: str, oid: str):
    from labhooks.clean.refs import Ref

    return Ref(name, oid, oid)


def test_push_plan_without_a_listing_falls_back_to_remote_tracking_branches():
    from labhooks.clean import publish

    before = {"refs/heads/main": ref("refs/heads/main", "1" * 40),
              "refs/remotes/origin/main": ref("refs/remotes/origin/main", "1" * 40),
              "refs/remotes/origin/HEAD": ref("refs/remotes/origin/HEAD", "1" * 40),
              "refs/tags/v1": ref("refs/tags/v1", "3" * 40),
              "refs/heads/mine": ref("refs/heads/mine", "4" * 40)}
    after = {"refs/heads/main": ref("refs/heads/main", "a" * 40),
             "refs/remotes/origin/main": ref("refs/remotes/origin/main", "a" * 40),
             "refs/remotes/origin/HEAD": ref("refs/remotes/origin/HEAD", "a" * 40),
             "refs/tags/v1": ref("refs/tags/v1", "c" * 40),
             "refs/heads/mine": ref("refs/heads/mine", "d" * 40)}
    plan = publish.plan_pushes([publish.Listing("origin", "git@github.com:lab/x.git", None, "offline")],
                               before, after)
    [push] = plan.remotes
    assert [(u.remote_ref, u.source, u.new, u.old) for u in push.updates] == [
        ("refs/heads/main", "refs/heads/main", "a" * 40, "1" * 40)]
    assert "could not list origin (offline)" in push.left_out[0]
    assert plan.local_only == ["refs/heads/mine", "refs/tags/v1"]  # the tag may be on origin: not known, not pushed
    assert push.command() == ["git", "push", f"--force-with-lease=refs/heads/main:{'1' * 40}", "origin",
                              "refs/heads/main:refs/heads/main"]
    assert push.command(with_ids=True)[-1] == f"{'a' * 40}:refs/heads/main"


@pytest.mark.parametrize("url,words", [
    ("git@github.com:lab/x.git", ("refs/pull/", "LFS", "Support")),
    ("https://gitlab.example.org/lab/x.git", ("housekeeping", "Repository cleanup", "refs/merge-requests/")),
    ("https://huggingface.co/lab/model", ("super_squash_history", "re-create")),
    ("/srv/git/x.git", ("gc",)),
])
def test_forge_notes_say_what_each_forge_keeps(url, words):
    from labhooks.clean import publish

    [note] = publish.forge_notes(url)
    assert all(word in note for word in words), note
