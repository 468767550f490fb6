"""The shared plumbing, against real repositories."""

from __future__ import annotations

import subprocess

from gitutil import Repo

from labhooks import plumbing


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
        origin = plumbing.find_blob_origins([oid], ["--all"], cwd=repo.path)[oid]
        subjects[name] = (origin.commit.subject, sorted(origin.paths))
    assert subjects == {
        "old": ("commit 10", ["big10.bin"]),
        "new": ("commit 4000", ["big4000.bin"]),
        "twice": ("commit 20", ["big20.bin", "big3900.bin"]),
    }
    together = plumbing.find_blob_origins(oids.values(), ["--all"], cwd=repo.path)
    assert {oid: o.commit.subject for oid, o in together.items()} == {
        oids["old"]: "commit 10", oids["new"]: "commit 4000", oids["twice"]: "commit 20"}


def test_store_listing_finds_only_blobs_at_or_over_the_threshold(repo):
    repo.write("small.txt", "s" * 100)
    repo.write("edge.bin", "e" * 1000)
    repo.write("over.bin", "o" * 1001)
    repo.commit("three sizes")
    found = plumbing.store_blobs_at_least(1000, cwd=repo.path)
    assert sorted(b.size for b in found.blobs) == [1000, 1001]
    assert all(b.type == "blob" for b in found.blobs)
    walked = plumbing.blobs_at_least(["--all"], 1000, cwd=repo.path)
    assert sorted((b.size, b.path) for b in walked.blobs) == [(1000, "edge.bin"), (1001, "over.bin")]


def test_split_revs_folds_not_into_caret_prefixes():
    options, plain = plumbing.split_revs(["a", "--not", "b", "^c", "--remotes=origin"])
    assert options == ["--not", "--remotes=origin"]
    assert plain == ["a", "^b", "c"]
