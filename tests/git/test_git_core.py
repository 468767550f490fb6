"""The shared plumbing, against real repositories."""

from __future__ import annotations

import subprocess
import sys

from helpers import Repo

from labhooks.git.history import find_blob_origins
from labhooks.git.objects import blobs_at_least
from labhooks.git.process import split_revs
from labhooks.git.store import StoreListing, store_blobs_at_least


def _fast_import_history(repo: Repo, commits: int, blobs_at: dict[int, bytes]) -> None:
    """``commits`` linear commits; commit i (1-based) adds ``big<i>.bin`` when listed."""
    lines = []
    for i in range(1, commits + 1):
        message = f"commit {i}".encode()
        lines.append(b"commit refs/heads/main")
        lines.append(b"committer T <t@lab.invalid> %d +0000" % (1_600_000_000 + i))
        lines.append(b"data %d" % len(message))
        lines.append(message)
        content = f"{i}\n".encode()
        lines.append(b"M 100644 inline counter.txt")
        lines.append(b"data %d" % len(content))
        lines.append(content)
        if i in blobs_at:
            lines.append(b"M 100644 inline big%d.bin" % i)
            lines.append(b"data %d" % len(blobs_at[i]))
            lines.append(blobs_at[i])
        lines.append(b"")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo.path, input=b"\n".join(lines) + b"\n", check=True)


def test_blob_origins_are_the_same_whether_the_walk_is_split_or_not(repo):
    # 4,100 commits is enough for two parallel slices; one blob per half, and one blob
    # added in the old half and again (same content, other path) in the new half.
    old, new, twice = b"old" * 1000, b"new" * 1000, b"twice" * 1000
    _fast_import_history(repo, 4100, {10: old, 4000: new, 20: twice, 3900: twice})
    oids = {name: repo.git("hash-object", "--stdin", input=data.decode()).strip()
            for name, data in (("old", old), ("new", new), ("twice", twice))}
    subjects = {}
    for name, oid in oids.items():
        origin = find_blob_origins([oid], ["--all"], cwd=repo.path)[oid]
        subjects[name] = (origin.commit.subject, sorted(origin.paths))
    assert subjects == {
        "old": ("commit 10", ["big10.bin"]),
        "new": ("commit 4000", ["big4000.bin"]),
        "twice": ("commit 20", ["big20.bin", "big3900.bin"]),
    }
    together = find_blob_origins(oids.values(), ["--all"], cwd=repo.path)
    assert {oid: o.commit.subject for oid, o in together.items()} == {
        oids["old"]: "commit 10", oids["new"]: "commit 4000", oids["twice"]: "commit 20"}


def test_store_listing_finds_only_blobs_at_or_over_the_threshold(repo):
    repo.write("small.txt", "s" * 100)
    repo.write("edge.bin", "e" * 1000)
    repo.write("over.bin", "o" * 1001)
    repo.commit("three sizes")
    found = store_blobs_at_least(1000, cwd=repo.path)
    assert sorted(b.size for b in found.blobs) == [1000, 1001]
    assert all(b.type == "blob" for b in found.blobs)
    walked = blobs_at_least(["--all"], 1000, cwd=repo.path)
    assert sorted((b.size, b.path) for b in walked.blobs) == [(1000, "edge.bin"), (1001, "over.bin")]


def _store_truth(repo: Repo, threshold: int) -> dict[str, int]:
    """Every blob of at least ``threshold`` bytes, from a listing that types everything."""
    out = repo.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(objectsize)")
    return {oid: int(size) for oid, kind, size in (line.split() for line in out.splitlines())
            if kind == "blob" and int(size) >= threshold}


def _mixed_store(repo: Repo) -> None:
    """Packed and loose objects, big blobs on neighbouring lines of the listing, and a
    tree bigger than the threshold (trees are never reported)."""
    _fast_import_history(repo, 300, {i: bytes([i % 251]) * (1500 + i) for i in (3, 4, 5, 150, 299)})
    repo.git("reset", "-q", "--hard", "main")
    for i in range(60):
        repo.write(f"wide/{'n' * 30}{i}.txt", f"{i}\n")
    repo.write("loose-big.bin", "L" * 5000)
    repo.commit("loose objects")
    repo.write("dangling.bin", "D" * 2000)
    repo.git("hash-object", "-w", "dangling.bin")  # in the store, reachable from nothing


def test_store_listing_line_numbers_match_a_plain_listing(repo):
    _mixed_store(repo)
    plain = repo.git("cat-file", "--batch-all-objects", "--unordered", "--batch-check=%(objectsize)").split()
    with StoreListing(cwd=repo.path) as listing:
        hits = listing.sizes_at_least(1500)
        assert listing.lines == len(plain)
    assert hits == [(n, int(size)) for n, size in enumerate(plain) if int(size) >= 1500]
    assert len(hits) >= 8


def test_store_blobs_are_named_and_typed_exactly(repo):
    _mixed_store(repo)
    found = store_blobs_at_least(1500, cwd=repo.path)
    assert {b.oid: b.size for b in found.blobs} == _store_truth(repo, 1500)
    assert len(found.blobs) == 7  # five from fast-import, one loose, one dangling: no tree


def test_a_store_that_changes_between_listings_is_listed_again(repo):
    _mixed_store(repo)
    listing = StoreListing(cwd=repo.path)
    listing.wait()
    # new objects shift every line of the names listing that follows
    for i in range(5):
        repo.write(f"later{i}.bin", f"{i}" * (1500 + i))
        repo.git("hash-object", "-w", f"later{i}.bin")
    try:
        found = store_blobs_at_least(1500, cwd=repo.path, listing=listing)
    finally:
        listing.close()
    assert {b.oid: b.size for b in found.blobs} == _store_truth(repo, 1500)


def test_split_revs_folds_not_into_caret_prefixes():
    options, plain = split_revs(["a", "--not", "b", "^c", "--remotes=origin"])
    assert options == ["--not", "--remotes=origin"]
    assert plain == ["a", "^b", "c"]


def test_git_runner_moves_inputs_and_outputs_larger_than_a_pipe(tmp_path):
    """Megabytes each way at once: input bigger than the pipe goes through the writer
    thread while output and errors are read, and nothing is lost or reordered."""
    import hashlib

    from labhooks.git.process import BackgroundGit, run_git

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    payload = bytes(range(256)) * (12 * 1024)  # 3 MiB
    oid = run_git(["hash-object", "--stdin"], tmp_path, input=payload).stdout.strip()
    assert oid == hashlib.sha1(b"blob %d\0" % len(payload) + payload).hexdigest()
    names = "".join(f"{i:040x}\n" for i in range(60_000))  # 2.4 MiB of ids no repository holds
    answer = BackgroundGit(["cat-file", "--batch-check"], tmp_path, input=names).result()
    assert answer.stdout.splitlines() == [f"{i:040x} missing" for i in range(60_000)]
    failed = run_git(["rev-parse", "--verify", "no-such-ref"], tmp_path, check=False)
    assert failed.returncode == 128 and "fatal" in failed.stderr


def test_git_runner_works_when_the_standard_streams_are_closed(tmp_path):
    """A process started with fd 0 closed gets that fd from os.pipe(), which posix_spawn
    cannot hand on: the runner falls back to subprocess and still answers."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    script = ("from labhooks.git.process import run_git; import sys; "
              f"out = run_git(['rev-parse', '--git-dir'], {str(tmp_path)!r}).stdout; "
              "sys.stderr.write(out)")
    proc = subprocess.run(["bash", "-c", 'exec "$0" -c "$1" 0<&-', sys.executable, script],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ".git"
