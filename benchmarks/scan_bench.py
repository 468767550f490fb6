#!/usr/bin/env python3
"""Benchmark ``labhooks scan`` and ``check-large --all`` against the raw git pipeline.

Not a test. Builds two synthetic histories once (cached outside the repository) with
``../shared/tools/make_history.py``, then times, interleaved in one run so that every
ratio compares figures taken under the same machine load:

* clean repo (no blob over 100 MiB): ``check-large --all --max 100M`` and
  ``scan --max 100M`` vs ``git rev-list --objects --all | git cat-file --batch-check``;
* big repo (one 150 MiB blob buried, plus 60 and 20 MiB ones, all deleted again):
  the same two commands vs the raw pipeline;
* big repo: ``scan --all`` (the full report) vs the raw pipeline and vs
  ``git filter-repo --analyze``.

Each figure is the median over ``--runs`` runs: wall seconds, CPU seconds (user + sys of
the command and all its children) and the peak resident memory of the largest single
process (``/usr/bin/time -f %M``). Usage::

    python benchmarks/scan_bench.py [--cache /tmp/labhooks-bench] [--runs 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchutil import compile_labhooks  # noqa: E402
ROOT = HERE.parent
MAKE_HISTORY = ROOT.parent / "shared" / "tools" / "make_history.py"
TIME = "/usr/bin/time"

SHAPE = {"commits": 30000, "files_per_commit": 5, "tree_files": 3000}
REPOS = {
    "clean": [],
    "big": ["--big", "150@12000", "--big", "60@20000", "--big", "20@25000"],
}
# The reference of the scan issue: rev-list names every object, cat-file sizes it.
# --missing=print changes nothing in a complete repository and lets the pipeline finish
# in one with missing objects (a partial clone) instead of stopping at the first.
RAW = "git rev-list --objects --all --missing=print | git cat-file --buffer --batch-check > /dev/null"


def build(cache: Path, name: str, extra: list[str]) -> Path:
    target = cache / name
    stamp = target / ".git" / "labhooks-bench.json"
    spec = {"shape": SHAPE, "extra": extra, "version": 2}
    if stamp.exists() and json.loads(stamp.read_text()) == spec:
        return target
    if target.exists():
        shutil.rmtree(target)
    print(f"building {target} ...", file=sys.stderr, flush=True)
    subprocess.run(
        [sys.executable, str(MAKE_HISTORY), str(target), "--commits", str(SHAPE["commits"]),
         "--files-per-commit", str(SHAPE["files_per_commit"]), "--tree-files", str(SHAPE["tree_files"]),
         *extra], check=True)
    # What a real repository looks like after git's own housekeeping: one pack and a
    # commit-graph. Both sides of every comparison read the same repository.
    subprocess.run(["git", "gc", "--quiet"], cwd=target, check=True)
    stamp.write_text(json.dumps(spec))
    return target


def timed(command: str, cwd: Path) -> dict:
    """Wall, CPU and peak RSS of one shell command (stdout discarded)."""
    fmt = "%e %U %S %M"
    start = time.perf_counter()
    proc = subprocess.run([TIME, "-f", fmt, "sh", "-c", f"{command} > /dev/null"], cwd=cwd,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    last = proc.stderr.strip().splitlines()[-1].split()
    if proc.returncode not in (0, 1):  # check-large exits 1 when it finds a big blob
        raise SystemExit(f"{command!r} failed in {cwd}:\n{proc.stderr}")
    return {"wall": wall, "cpu": float(last[1]) + float(last[2]), "rss_kib": int(last[3])}


def cases(clean: Path, big: Path) -> list[tuple[str, str, Path, str]]:
    fresh = "rm -rf .git/filter-repo && "
    return [
        ("clean", "raw", clean, RAW),
        ("clean", "check-large --all --max 100M", clean, "labhooks check-large --all --max 100M --warn 0"),
        ("clean", "scan --max 100M", clean, "labhooks scan --max 100M"),
        ("big", "raw", big, RAW),
        ("big", "check-large --all --max 100M", big, "labhooks check-large --all --max 100M --warn 0"),
        ("big", "scan --max 100M", big, "labhooks scan --max 100M"),
        ("big", "scan --all", big, "labhooks scan --all"),
        ("big", "scan --all --by ext", big, "labhooks scan --all --by ext"),
        ("big", "filter-repo --analyze", big, fresh + "git filter-repo --analyze --quiet"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/labhooks-bench"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument("--skip-filter-repo", action="store_true")
    parser.add_argument("--only", choices=sorted(REPOS), help="measure one repository's cases only")
    parser.add_argument("--repo", type=Path, action="append", default=[],
                        help="instead of the synthetic histories, time the raw pipeline and "
                             "scan --all on this existing repository (repeatable)")
    args = parser.parse_args()
    for tool in ("labhooks", "git"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not on PATH")
    print(compile_labhooks(), f"; labhooks command: {shutil.which('labhooks')}")
    if args.repo:
        repos = {path.name: path.resolve() for path in args.repo}
        todo = [case for name, path in repos.items() for case in (
            (name, "raw", path, RAW), (name, "scan --all", path, "labhooks scan --all --format json"))]
    else:
        args.cache.mkdir(parents=True, exist_ok=True)
        repos = {"clean": build(args.cache, "clean", REPOS["clean"]), "big": build(args.cache, "big", REPOS["big"])}
        todo = cases(repos["clean"], repos["big"])
    objects = {
        name: int(subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch-check"], cwd=repo,
                                 capture_output=True, text=True, check=True).stdout.count("\n"))
        for name, repo in repos.items()
    }
    if args.skip_filter_repo or not shutil.which("git-filter-repo"):
        todo = [c for c in todo if "filter-repo" not in c[1]]
    if args.only:
        todo = [c for c in todo if c[0] == args.only]
    results: dict[tuple[str, str], list[dict]] = {(repo, name): [] for repo, name, _, _ in todo}
    load_before = os.getloadavg()
    for _, _, cwd, command in todo:  # warm the page cache once, untimed
        timed(command, cwd)
    for run in range(args.runs):
        # interleaved: each run measures every case once, in a rotated order
        order = todo[run % len(todo):] + todo[: run % len(todo)]
        for repo, name, cwd, command in order:
            results[(repo, name)].append(timed(command, cwd))
        print(f"run {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
    load_after = os.getloadavg()

    med = {key: {m: statistics.median(r[m] for r in runs) for m in ("wall", "cpu", "rss_kib")}
           for key, runs in results.items()}
    print(f"objects: {', '.join(f'{name} {count:,}' for name, count in objects.items())}; "
          f"synthetic histories: {SHAPE['commits']} commits each; runs: {args.runs}; "
          f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} ({os.cpu_count()} CPUs)")
    print(f"{'repo':6} {'command':32} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'wall/raw':>9} {'cpu/raw':>8}")
    for (repo, name), m in med.items():
        raw = med[(repo, "raw")]
        print(f"{repo:6} {name:32} {m['wall']:8.2f} {m['cpu']:8.2f} {m['rss_kib'] / 1024:9.1f} "
              f"{m['wall'] / raw['wall']:9.2f} {m['cpu'] / raw['cpu']:8.2f}")
    targets = [
        ("clean", "check-large --all --max 100M", "raw", 0.25),
        ("clean", "scan --max 100M", "raw", 0.25),
        ("big", "check-large --all --max 100M", "raw", 1.2),
        ("big", "scan --max 100M", "raw", 1.2),
        ("big", "scan --all", "raw", 1.2),
        ("big", "scan --all", "filter-repo --analyze", 1.0),
    ]
    print("targets (wall-clock ratio of medians):")
    targets += [(name, "scan --all", "raw", 1.2) for name in args.repo and repos
                if (name, "scan --all", "raw", 1.2) not in targets]
    for repo, name, base, limit in targets:
        if (repo, name) in med and (repo, base) in med:
            ratio = med[(repo, name)]["wall"] / med[(repo, base)]["wall"]
            verdict = "ok" if ratio <= limit else "MISSED"
            print(f"  {repo}: {name} / {base} = {ratio:.3f} (target <= {limit}) {verdict}")
    for (repo, name), m in med.items():
        if name == "scan --all" and (repo, "raw") in med:
            ratio = m["rss_kib"] / med[(repo, "raw")]["rss_kib"]
            print(f"  {repo}: peak memory of scan --all / raw = {ratio:.2f} (target <= 1.0) "
                  f"{'ok' if ratio <= 1.0 else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps({
            "objects": objects, "runs": args.runs, "load": [load_before, load_after],
            "results": {f"{r}: {n}": v for (r, n), v in results.items()},
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
