"""``labhooks scan`` against real repositories built with real git (nothing mocked)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess

import pytest
from helpers import MiB, Repo, labhooks, partial_clone

from labhooks.git.history import added_blobs
from labhooks.sizes import format_size

KiB = 1024
LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)


def scan_json(repo: Repo, *args: str, env: dict | None = None) -> tuple[list[dict], dict]:
    proc = labhooks("scan", "--format", "json", *args, cwd=repo.path, env=env)
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert records[-1]["record"] == "summary"
    return records[:-1], records[-1]


def by_oid(records: list[dict]) -> dict[str, dict]:
    return {r["oid"]: r for r in records}


def reachable_blobs(repo: Repo) -> dict[str, int]:
    """Every blob reachable from any ref with its size, by the plain git pipeline."""
    listing = repo.git("rev-list", "--objects", "--all")
    out = repo.git("cat-file", "--batch-check=%(objecttype) %(objectname) %(objectsize)",
                   input="".join(line.split(" ")[0] + "\n" for line in listing.splitlines()))
    return {oid: int(size) for kind, oid, size in (line.split() for line in out.splitlines()) if kind == "blob"}


@pytest.fixture
def history(repo: Repo) -> Repo:
    """Several commits: a kept big blob, a deleted big blob, one blob under two paths,
    small files in nested folders, an LFS pointer, a second author."""
    repo.write("README.md", "# demo\n")
    repo.write("src/model.py", "print('model')\n" * 20)
    repo.write("src/util/helpers.py", "x = 1\n")
    repo.big("data/weights.bin", 3 * MiB, seed=1)
    repo.commit("first import")
    repo.big("data/raw/dump.csv", 2 * MiB, seed=2)
    repo.write("assets/logo.png", LFS_POINTER)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "add the dump", "--author", "Other Person <other@lab.invalid>")
    (repo.path / "data/raw/dump.csv").unlink()
    repo.write("src/model.py", "print('model v2')\n" * 20)
    repo.commit("drop the dump")
    # the same bytes again under another path, in a later commit
    (repo.path / "backup").mkdir()
    (repo.path / "backup/weights-copy.bin").write_bytes((repo.path / "data/weights.bin").read_bytes())
    repo.commit("back up the weights")
    return repo


def test_blob_stored_under_two_paths_lists_both_and_its_first_commit(history):
    records, summary = scan_json(history)
    weights = by_oid(records)[history.rev("HEAD:data/weights.bin")]
    assert weights["paths"] == ["data/weights.bin", "backup/weights-copy.bin"]
    first = history.rev("HEAD~3")
    assert weights["commit"]["oid"] == first
    assert weights["commit"]["subject"] == "first import"
    assert weights["commit"]["author"] == "Lab Tester"
    assert weights["commit"]["email"] == "tester@lab.invalid"
    assert weights["commit"]["date"] == history.git("show", "-s", "--format=%aI", first).strip()
    assert weights["size"] == 3 * MiB
    assert weights["at_head"] is True
    assert records[0]["oid"] == weights["oid"], "the biggest blob comes first"


def test_blob_removed_from_head_is_reported_with_the_commit_that_added_it(history):
    dump = history.rev("HEAD~2:data/raw/dump.csv")
    records, _ = scan_json(history)
    record = by_oid(records)[dump]
    assert record["at_head"] is False
    assert record["paths"] == ["data/raw/dump.csv"]
    assert record["commit"]["oid"] == history.rev("HEAD~2")
    assert record["commit"]["author"] == "Other Person"
    assert record["size"] == 2 * MiB
    # the old version of a modified file is history too
    old_model = by_oid(records)[history.rev("HEAD~3:src/model.py")]
    assert old_model["at_head"] is False
    assert by_oid(records)[history.rev("HEAD:src/model.py")]["at_head"] is True


def test_lfs_pointer_is_recognised_and_ordinary_small_files_are_not(history):
    records, _ = scan_json(history)
    found = by_oid(records)
    assert found[history.rev("HEAD:assets/logo.png")]["lfs_pointer"] is True
    assert found[history.rev("HEAD:README.md")]["lfs_pointer"] is False
    assert found[history.rev("HEAD:data/weights.bin")]["lfs_pointer"] is False


def test_pointer_written_by_git_lfs_itself_is_recognised(repo):
    repo.git("lfs", "install", "--local")
    repo.git("lfs", "track", "*.ckpt")
    repo.write("model.ckpt", os.urandom(4096))
    repo.commit("checkpoint through LFS")
    pointer = repo.rev("HEAD:model.ckpt")
    assert repo.git("cat-file", "-p", pointer).startswith("version https://git-lfs")
    records, _ = scan_json(repo)
    assert by_oid(records)[pointer]["lfs_pointer"] is True
    assert by_oid(records)[repo.rev("HEAD:.gitattributes")]["lfs_pointer"] is False


def test_totals_agree_with_the_plain_git_pipeline(history):
    truth = reachable_blobs(history)
    records, summary = scan_json(history, "--top", "0")
    assert summary["blobs"] == len(truth)
    assert summary["blob_bytes"] == sum(truth.values())
    assert {r["oid"]: r["size"] for r in records} == truth
    sizes = [r["size"] for r in records]
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize("by", ["ext", "dir", "path", "author"])
def test_groups_add_up_to_the_total(history, by):
    records, summary = scan_json(history, "--by", by, "--top", "0")
    assert records and all(r["record"] == "group" and r["by"] == by for r in records)
    assert sum(r["count"] for r in records) == summary["blobs"]
    assert sum(r["bytes"] for r in records) == summary["blob_bytes"]
    assert abs(sum(r["share"] for r in records) - 1.0) < 1e-9
    assert [r["bytes"] for r in records] == sorted((r["bytes"] for r in records), reverse=True)


def test_group_figures_by_extension_and_directory(history):
    ext, _ = scan_json(history, "--by", "ext")
    groups = {r["key"]: r for r in ext}
    assert groups[".bin"]["count"] == 1  # one blob, though stored under two paths
    assert groups[".bin"]["bytes"] == 3 * MiB
    assert groups[".bin"]["head_bytes"] == 3 * MiB
    assert groups[".csv"]["bytes"] == 2 * MiB and groups[".csv"]["head_bytes"] == 0
    assert groups[".py"]["count"] == 3  # two versions of model.py and helpers.py
    assert ext[0]["key"] == ".bin"
    dirs, _ = scan_json(history, "--by", "dir")
    keys = {r["key"]: r for r in dirs}
    assert keys["data/raw"]["bytes"] == 2 * MiB
    assert keys["."]["count"] == 1  # README.md at the top
    assert keys["src/util"]["count"] == 1
    authors, _ = scan_json(history, "--by", "author")
    people = {r["key"]: r for r in authors}
    assert people["Other Person <other@lab.invalid>"]["count"] == 2  # dump.csv and the pointer


def test_json_round_trips_and_matches_table_and_csv(history):
    records, summary = scan_json(history)
    assert json.loads(json.dumps(records)) == records
    table = labhooks("scan", cwd=history.path)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["#", "SIZE", "BLOB"]
    for rank, record in enumerate(records, 1):
        row = lines[rank]
        assert row.startswith(f"{rank} ")
        assert format_size(record["size"]) in row
        assert record["oid"][:10] in row
        assert ", ".join(record["paths"]) in row
        assert record["commit"]["oid"][:10] in row
    assert f"blobs: {summary['blobs']:,} reachable, {format_size(summary['blob_bytes'])} in total" in table.stdout
    assert f"objects: {summary['store_objects']:,} in the object store" in table.stdout
    assert f"pack size on disk: {format_size(summary['pack_bytes'])}" in table.stdout

    rows = list(csv.DictReader(io.StringIO(labhooks("scan", "--format", "csv", cwd=history.path).stdout)))
    assert [r["oid"] for r in rows] == [r["oid"] for r in records]
    for row, record in zip(rows, records):
        assert int(row["size"]) == record["size"]
        assert row["paths"].split("\n") == record["paths"]
        assert row["commit"] == record["commit"]["oid"]
        assert row["at_head"] == str(record["at_head"]).lower()

    groups, _ = scan_json(history, "--by", "dir")
    table = labhooks("scan", "--by", "dir", cwd=history.path).stdout.splitlines()
    for rank, group in enumerate(groups, 1):
        cells = table[rank].split()
        assert cells[:3] == [str(rank), group["key"], f"{group['count']:,}"]
        assert format_size(group["bytes"]) in table[rank]
        assert f"{group['share'] * 100:.1f}%" in table[rank]
    as_csv = labhooks("scan", "--by", "dir", "--format", "csv", cwd=history.path).stdout
    group_rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert [(r["key"], int(r["bytes"])) for r in group_rows] == [(g["key"], g["bytes"]) for g in groups]


def test_top_limits_rows_but_not_the_summary(history):
    records, summary = scan_json(history, "--top", "2")
    assert [r["rank"] for r in records] == [1, 2]
    assert summary["blobs"] == len(reachable_blobs(history))


def test_rich_table_with_share_bars_when_colour_is_forced(history):
    # TERM pinned: rich draws no colour on TERM=dumb, which some CI runners set
    env = {"FORCE_COLOR": "1", "NO_COLOR": "", "COLUMNS": "160", "TERM": "xterm-256color"}
    proc = labhooks("scan", "--by", "ext", cwd=history.path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Weight by ext" in proc.stdout
    assert "\x1b[" in proc.stdout  # styled
    assert "█" in proc.stdout  # the share bars
    plain = labhooks("scan", "--by", "ext", cwd=history.path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in plain.stdout and "█" not in plain.stdout


def test_progress_goes_to_stderr_only(history):
    proc = labhooks("scan", "--format", "json", "--progress", cwd=history.path)
    assert proc.returncode == 0
    assert "walked" in proc.stderr and "commits" in proc.stderr
    json.loads(proc.stdout)
    quiet = labhooks("scan", "--format", "json", cwd=history.path)
    assert quiet.stderr == ""


def test_empty_repository(repo):
    records, summary = scan_json(repo)
    assert records == []
    assert summary["blobs"] == 0 and summary["blob_bytes"] == 0
    proc = labhooks("scan", cwd=repo.path)
    assert proc.returncode == 0 and "no blobs to show" in proc.stdout
    groups, _ = scan_json(repo, "--by", "ext")
    assert groups == []
    _, with_max = scan_json(repo, "--max", "1M")
    assert with_max["over_max"] == {"blobs": 0, "bytes": 0, "unknown": 0}


def test_only_an_unborn_branch_with_staged_files(repo):
    repo.write("staged.txt", "not committed yet\n")
    repo.git("add", "staged.txt")
    records, summary = scan_json(repo)
    assert records == [] and summary["blobs"] == 0


def test_unborn_branch_beside_other_branches(repo):
    repo.big("old.bin", 64 * KiB)
    repo.commit("on main")
    repo.git("checkout", "-q", "--orphan", "fresh")
    repo.git("rm", "-q", "--cached", "old.bin")
    records, summary = scan_json(repo)
    assert summary["blobs"] == 1
    assert records[0]["paths"] == ["old.bin"] and records[0]["at_head"] is False


def test_revision_range_limits_the_walk(history):
    records, summary = scan_json(history, "HEAD~1..HEAD")
    assert summary["blobs"] == 0  # the copy's bytes were already in HEAD~1
    records, summary = scan_json(history, "HEAD~2..HEAD")
    assert {tuple(r["paths"]) for r in records} == {("src/model.py",)}
    assert summary["revs"][0] == history.rev("HEAD")


def test_blob_only_a_merge_brings_in(repo):
    repo.write("a.txt", "a\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("side.txt", "side\n")
    repo.commit("side work")
    repo.git("checkout", "-q", "main")
    repo.write("main.txt", "main\n")
    repo.commit("main work")
    repo.git("merge", "-q", "--no-commit", "side")
    repo.write("resolved.txt", "written during the merge\n")
    repo.git("add", "resolved.txt")
    repo.git("commit", "-q", "-m", "merge side")
    records, summary = scan_json(repo)
    found = by_oid(records)
    assert found[repo.rev("HEAD:resolved.txt")]["commit"]["subject"] == "merge side"
    assert found[repo.rev("HEAD:side.txt")]["commit"]["subject"] == "side work"
    assert summary["blobs"] == len(reachable_blobs(repo))


def _check_large_findings(repo: Repo, limit: str) -> tuple[int, list[str]]:
    proc = labhooks("check-large", "--all", "--max", limit, "--warn", "0", cwd=repo.path)
    assert proc.returncode in (0, 1), proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("  ") and " (introduced in " in line]
    return proc.returncode, lines


def test_max_summary_agrees_with_check_large_all(history):
    history.big("exact.bin", 1 * MiB, seed=7)  # exactly at the limit: both count it
    history.big("small.bin", 1 * MiB - 1, seed=8)
    history.commit("edge cases")
    records, summary = scan_json(history, "--max", "1M")
    over = {r["oid"]: r for r in records}
    expected = {oid: size for oid, size in reachable_blobs(history).items() if size >= MiB}
    assert {oid: r["size"] for oid, r in over.items()} == expected
    assert summary["over_max"] == {"blobs": len(expected), "bytes": sum(expected.values()), "unknown": 0}
    table = labhooks("scan", "--max", "1M", cwd=history.path).stdout
    assert (f"stripping blobs of {format_size(MiB)} or more would remove {len(expected)} blobs, "
            f"{format_size(sum(expected.values()))}") in table

    rc, lines = _check_large_findings(history, "1M")
    assert rc == 1
    assert len(lines) == len(over)
    for record in over.values():
        described = [line for line in lines if f"  {format_size(record['size'])}  " in line
                     and all(p in line for p in record["paths"])]
        assert len(described) == 1, (record, lines)


def test_max_with_nothing_that_big_does_not_walk_history(history, tmp_path):
    trace = tmp_path / "trace.txt"
    records, summary = scan_json(history, "--max", "50M", env={"GIT_TRACE": str(trace)})
    assert records == [] and summary["walked"] is False
    assert summary["over_max"] == {"blobs": 0, "bytes": 0, "unknown": 0}
    commands = trace.read_text()
    assert "cat-file" in commands
    assert " log " not in commands and "rev-list" not in commands
    rc, lines = _check_large_findings(history, "50M")
    assert rc == 0 and lines == []
    # with a candidate the walk happens, once
    trace.unlink()
    records, summary = scan_json(history, "--max", "2M", env={"GIT_TRACE": str(trace)})
    assert summary["walked"] is True and len(records) == 2
    assert trace.read_text().count("git log") >= 1


def _object_count(repo: Repo) -> int:
    return len(repo.git("cat-file", "--batch-all-objects", "--batch-check").splitlines())


def test_partial_clone_reports_unknown_sizes_and_fetches_nothing(history, tmp_path):
    partial = partial_clone(history, tmp_path / "partial")
    assert partial.git("config", "--get", "remote.origin.promisor").strip() == "true"
    before = _object_count(partial)
    truth = reachable_blobs(history)
    head_blobs = {line.split()[2] for line in partial.git("ls-tree", "-r", "HEAD").splitlines()}

    records, summary = scan_json(partial, "--top", "0")
    assert summary["blobs"] == len(truth)
    missing = set(truth) - head_blobs
    assert missing and summary["unknown_blobs"] == len(missing)
    found = by_oid(records)
    for oid in missing:
        assert found[oid]["size"] is None and found[oid]["paths"]
    assert summary["blob_bytes"] == sum(truth[oid] for oid in head_blobs)
    assert [r["size"] for r in records][-len(missing):] == [None] * len(missing)

    _, with_max = scan_json(partial, "--max", "1M")
    assert with_max["walked"] is True  # the store cannot vouch for what it lacks
    assert with_max["over_max"]["unknown"] == len(missing)
    groups, _ = scan_json(partial, "--by", "ext", "--top", "0")
    assert sum(g["unknown"] for g in groups) == len(missing)
    table = labhooks("scan", cwd=partial.path).stdout
    assert f"{len(missing)} of unknown size (missing locally, not fetched)" in table
    assert _object_count(partial) == before, "scan must never fetch"


@pytest.mark.parametrize("args, message", [
    (["--max", "12Q"], "invalid size '12Q'"),
    (["--max", "-5M"], "invalid size"),
    (["--max", "0"], "--max must be more than 0 bytes"),
    (["--top", "-1"], "--top must be a whole number"),
    (["--top", "many"], "--top must be a whole number"),
    (["--by", "colour"], "--by must be one of"),
    (["--format", "xml"], "--format must be one of"),
    (["no-such-branch"], "bad revision or range"),
    (["HEAD..no-such-branch"], "bad revision or range"),
    (["HEAD", "--all"], "give a revision range or --all, not both"),
])
def test_bad_input_is_one_line_and_exit_2(history, args, message):
    proc = labhooks("scan", *args, cwd=history.path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("labhooks: ") and message in lines[0], proc.stderr


def test_not_a_repository_is_one_line_and_exit_2(tmp_path):
    proc = labhooks("scan", cwd=tmp_path, env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "not a git repository" in proc.stderr


def test_odd_paths_survive_in_json(repo):
    repo.write("dåta/with space/naïve file.bin", b"\x00" * 100)
    repo.write("tab\there.txt", "t\n")
    repo.commit("odd names")
    records, _ = scan_json(repo)
    paths = {p for r in records for p in r["paths"]}
    assert paths == {"dåta/with space/naïve file.bin", "tab\there.txt"}
    groups, _ = scan_json(repo, "--by", "dir")
    assert {g["key"] for g in groups} == {"dåta/with space", "."}


def test_blob_reached_only_through_a_tag_is_listed_without_a_commit(history):
    loose = history.git("hash-object", "-w", "--stdin", input="tagged bytes, in no commit\n").strip()
    history.git("tag", "loose-blob", loose)
    records, summary = scan_json(history, "--top", "0")
    record = by_oid(records)[loose]
    assert record["commit"] is None and record["size"] == len("tagged bytes, in no commit\n")
    assert summary["blobs"] == len(reachable_blobs(history))
    authors, _ = scan_json(history, "--by", "author", "--top", "0")
    assert "(no commit)" in {a["key"] for a in authors}
    assert sum(a["count"] for a in authors) == summary["blobs"]


def test_blob_sizes_reports_a_missing_object_as_unknown(history):
    from labhooks.scan.walk import blob_sizes

    present = history.rev("HEAD:README.md").encode()
    absent = b"0123456789abcdef0123456789abcdef01234567"
    sizes = blob_sizes([present, absent, present], cwd=history.path)
    assert list(sizes) == [len("# demo\n"), -1, len("# demo\n")]


def test_sha256_repository(tmp_path):
    repo = Repo.init(tmp_path / "sha256", "--object-format=sha256")
    repo.write("a.txt", "same bytes\n")
    repo.write("b/a-copy.txt", "same bytes\n")
    repo.big("big.bin", 200 * KiB)
    repo.commit("two names for one blob")
    records, summary = scan_json(repo)
    assert summary["blobs"] == 2
    shared = by_oid(records)[repo.rev("HEAD:a.txt")]
    assert len(shared["oid"]) == 64 and len(shared["commit"]["oid"]) == 64
    assert shared["paths"] == ["a.txt", "b/a-copy.txt"]
    assert records[0]["size"] == 200 * KiB


def test_path_that_is_not_utf8_is_still_written(repo):
    blob = repo.git("hash-object", "-w", "--stdin", input="latin-1 name\n").strip()
    subprocess.run([b"git", b"update-index", b"--add", b"--cacheinfo", b"100644," + blob.encode() + b",caf\xe9.txt"],
                   cwd=repo.path, check=True)
    repo.git("commit", "-q", "-m", "odd bytes")
    records, _ = scan_json(repo)
    assert records[0]["paths"] == ["caf\udce9.txt"]  # the escape Python uses for the raw byte
    for fmt in ("table", "csv"):
        proc = labhooks("scan", "--format", fmt, cwd=repo.path)
        assert proc.returncode == 0, proc.stderr
        assert "caf\\xe9.txt" in proc.stdout
    groups = labhooks("scan", "--by", "path", "--format", "csv", cwd=repo.path)
    assert groups.returncode == 0 and "caf\\xe9.txt" in groups.stdout


def test_walk_in_slices_and_small_chunks_gives_the_same_blobs(repo):
    pass

    for n in range(12):
        if n == 5:
            repo.git("checkout", "-q", "-b", "side")
        if n == 8:
            repo.git("checkout", "-q", "main")
            repo.git("merge", "-q", "--no-ff", "-X", "theirs", "-m", "merge side", "side")
        repo.write(f"d{n % 3}/f{n}.txt", f"version {n}\n" * (n + 1))
        repo.write("shared.txt", f"shared {n % 4}\n")  # the same bytes come back later
        repo.commit(f"commit {n}")

    def walk(**options):
        return [(h, o, p) for h, o, p in added_blobs(["--all"], repo.path, **options)]

    whole = walk(jobs=1)
    assert walk(jobs=3, min_slice=2) == whole
    assert walk(jobs=1, chunk_size=7) == whole
    assert walk(jobs=2, min_slice=3, chunk_size=64) == whole
    seen = {oid.decode() for _, oids, _ in whole for oid in oids}
    assert seen == set(reachable_blobs(repo))


def _history_with_commits_that_print_nothing(repo: Repo, commits: int) -> None:
    """Commits that only delete, and merges that bring nothing new: git log prints no
    record for them, which is where a cut by --max-count goes wrong."""
    for n in range(commits):
        if n % 5 == 3:
            repo.git("rm", "-q", f"d{(n - 1) % 3}/f{n - 1}.txt")
            repo.commit(f"delete {n}")
            continue
        if n % 7 == 6:
            repo.git("checkout", "-q", "-b", f"side{n}")
            repo.git("commit", "-q", "--allow-empty", "-m", f"empty {n}")
            repo.git("checkout", "-q", "main")
            repo.git("merge", "-q", "--no-ff", "-m", f"merge {n}", f"side{n}")
        repo.write(f"d{n % 3}/f{n}.txt", f"version {n}\n")
        repo.commit(f"commit {n}")


def test_the_two_slice_walk_is_exact_wherever_it_cuts(repo, monkeypatch):
    import time

    from labhooks.git import history

    _history_with_commits_that_print_nothing(repo, 40)
    whole = [item for item in added_blobs(["--all"], repo.path, jobs=1)]
    assert len({header for header, _, _ in whole}) == len(whole)
    started: list[list[str]] = []
    real_slice = history._LogSlice

    class WatchedSlice(real_slice):  # the real git processes, only noted down
        def __init__(self, tips, extra, *args, **kwargs):
            started.append(list(extra))
            super().__init__(tips, extra, *args, **kwargs)

    monkeypatch.setattr(history, "_LogSlice", WatchedSlice)
    monkeypatch.setattr(history, "_PEEK_EVERY", 1)
    for share in (0.1, 0.3, 0.5, 0.7, 0.9):
        monkeypatch.setattr(history, "NEWER_SLICE_SHARE", share)
        started.clear()
        walked = []
        for item in added_blobs(["--all"], repo.path, jobs=2, min_slice=2, chunk_size=64):
            walked.append(item)
            if len(walked) <= 2:
                time.sleep(0.3)  # the count, then the older slice's first record, come meanwhile
        assert walked == whole, share
        assert any(arg.startswith("--skip=") for extra in started for arg in extra), share


def test_the_walk_goes_on_alone_when_the_store_holds_far_more_commits(repo, monkeypatch):
    import time

    from labhooks.git import history

    for n in range(6):
        repo.write("f.txt", f"kept {n}\n")
        repo.commit(f"kept {n}")
    kept = repo.rev("HEAD")
    for n in range(40):  # commits that no ref reaches any more, but the store still holds
        repo.write("f.txt", f"dropped {n}\n")
        repo.commit(f"dropped {n}")
    repo.git("reset", "-q", "--hard", kept)
    whole = list(added_blobs(["--all"], repo.path, jobs=1))
    assert len(whole) == 6
    monkeypatch.setattr(history, "_PEEK_EVERY", 1)
    walked = []
    for item in added_blobs(["--all"], repo.path, jobs=2, min_slice=2, chunk_size=64):
        walked.append(item)
        if len(walked) <= 2:
            time.sleep(0.3)  # the cut (23 of 46 stored commits) is past the 6 reachable ones
    assert walked == whole


def test_user_log_settings_do_not_change_the_walk(history):
    before, summary = scan_json(history, "--top", "0")
    history.git("config", "log.showRoot", "false")
    history.git("config", "log.showSignature", "true")
    history.git("config", "diff.renames", "copies")
    history.git("config", "color.ui", "always")
    after, again = scan_json(history, "--top", "0")
    assert after == before and again == summary
    assert by_oid(after)[history.rev("HEAD:README.md")]["commit"]["subject"] == "first import"


@pytest.mark.parametrize("args", [
    ("scan", "--max", "50M"),
    ("scan", "--max=50M", "--format", "json"),
    ("check-large", "--all"),
])
def test_store_listing_starts_before_any_other_git_command(history, tmp_path, args):
    # the listing is nearly all of the work: it is started before the command's own
    # modules are imported, so it is the first git process of the run. The order is the
    # order of fork (process ids, read from each process's trace2 session id), not the
    # order in which the processes got round to writing their trace, which a busy
    # machine shuffles
    traces = tmp_path / "trace2"
    traces.mkdir()
    proc = labhooks(*args, cwd=history.path, env={"GIT_TRACE2_EVENT": str(traces)})
    assert proc.returncode == 0, proc.stderr
    started = []
    for trace in traces.iterdir():
        start = next(event for event in map(json.loads, trace.read_text().splitlines())
                     if event["event"] == "start")
        started.append((int(start["sid"].rsplit("-P", 1)[1], 16), start["argv"][1:]))
    commands = [" ".join(argv) for _, argv in sorted(started)]
    assert commands[0].startswith("cat-file --batch-all-objects --unordered"), commands
    assert not any(argv[0] == "log" for _, argv in started), commands
