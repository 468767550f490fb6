"""The guard, the scan and clean-large read one rule for "over SIZE" (SIZE or more) and one
for "introduced in" (labhooks.git.history): asked about the same repository, they name the
same blobs and the same commits."""

from __future__ import annotations

import json
import re

import pytest
from helpers import MiB, Repo, labhooks


@pytest.fixture
def merged(repo) -> tuple[Repo, dict[str, str]]:
    """main and a side branch, each adding a big file, merged; the merge itself adds a third
    (a conflict resolution that brought a new file, the case first-parent diffs must see)."""
    repo.write("README.md", "hello\n")
    repo.commit("initial", no_verify=True)
    repo.git("switch", "-q", "-c", "side")
    repo.big("side/model.ckpt", 2 * MiB, seed=1)
    side = repo.commit("side: add a checkpoint", no_verify=True)
    repo.git("switch", "-q", "main")
    repo.big("main/data.h5", 3 * MiB, seed=2)
    main = repo.commit("main: add data", no_verify=True)
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side")
    repo.big("merged/result.npy", 4 * MiB, seed=3)
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "merge side, with results")
    merge = repo.rev("HEAD")
    return repo, {"side/model.ckpt": side, "main/data.h5": main, "merged/result.npy": merge}


def guard_commits(repo: Repo) -> dict[str, str]:
    proc = labhooks("check-large", "--all", "--max", "1M", cwd=repo.path)
    assert proc.returncode == 1, proc.stderr
    return {m[0]: m[1] for m in re.findall(r"^  (\S+)  [\d.]+ MiB  \(introduced in ([0-9a-f]{10}) ", proc.stdout, re.M)}


def scan_commits(repo: Repo) -> dict[str, str]:
    proc = labhooks("scan", "--max", "1M", "--format", "json", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    return {r["paths"][0]: r["commit"]["oid"][:10] for r in json.loads(proc.stdout) if r["record"] == "blob"}


def clean_commits(repo: Repo) -> dict[str, str]:
    proc = labhooks("clean-large", "--max", "1M", "--dry-run", "--backend", "filter-repo", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    found = re.findall(r"^\s+[\d.]+ MiB  [0-9a-f]{10}  (\S+)  added in ([0-9a-f]{10}) ", proc.stdout, re.M)
    return dict(found)


def test_guard_scan_and_clean_large_name_the_same_introducing_commits(merged):
    repo, introduced = merged
    expected = {path: oid[:10] for path, oid in introduced.items()}
    assert guard_commits(repo) == expected
    assert scan_commits(repo) == expected
    assert clean_commits(repo) == expected


def test_a_blob_of_exactly_the_limit_is_over_it_for_all_three(repo):
    repo.write("README.md", "hello\n")
    repo.big("exact.bin", 1 * MiB)
    repo.big("just-under.bin", 1 * MiB - 1, seed=5)
    repo.commit("one of exactly 1 MiB, one a byte less", no_verify=True)
    guard = labhooks("check-large", "--all", "--max", "1M", "--warn", "0", cwd=repo.path)
    assert guard.returncode == 1 and "exact.bin" in guard.stdout and "just-under.bin" not in guard.stdout
    scan = json.loads(labhooks("scan", "--max", "1M", "--format", "json", cwd=repo.path).stdout)
    assert [r["paths"] for r in scan if r["record"] == "blob"] == [["exact.bin"]]
    plan = labhooks("clean-large", "--max", "1M", "--dry-run", "--backend", "filter-repo", cwd=repo.path)
    assert plan.returncode == 0 and "Nothing to do" not in plan.stdout, plan.stdout
    assert "1 blob(s)" in plan.stdout and "exact.bin" in plan.stdout and "just-under.bin" not in plan.stdout
    cleaned = labhooks("clean-large", "--max", "1M", "--yes", "--backend", "filter-repo", cwd=repo.path)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    after = labhooks("check-large", "--all", "--max", "1M", "--warn", "0", cwd=repo.path)
    assert after.returncode == 0, after.stdout
    kept = labhooks("scan", "--format", "json", cwd=repo.path).stdout
    assert "just-under.bin" in kept
