"""clean-large against the same job done by hand, on a synthetic history.

Builds (once, under --work, never inside the repository) a history of about 5,000
commits with two buried blobs over 100 MiB using ../shared/tools/make_history.py, then
for each run copies it twice and times, on the same machine in the same run:

  ours: labhooks clean-large --max 100M --yes --no-backup --backend filter-repo
  hand: git filter-repo --strip-blobs-bigger-than 100M --force
        && git reflog expire --expire=now --all && git gc --prune=now --aggressive

The order alternates between runs so neither side always gets the warm page cache.
The backup (git bundle create --all + git bundle verify) is timed on its own copy.

usage: python benchmarks/clean_bench.py [--runs 3] [--work /tmp/labhooks-clean-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from labhooks.clean.plan import store_size

HERE = Path(__file__).resolve().parent
MAKE_HISTORY = HERE.parent.parent / "shared" / "tools" / "make_history.py"
RECIPE = ["--commits", "5000", "--files-per-commit", "5", "--tree-files", "3000",
          "--big", "120@1000", "--big", "110@3000"]


STEP_RE = re.compile(r"^labhooks: (.*): done in ([0-9.]+) s$", re.MULTILINE)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmds: list[list[str]], cwd: Path, steps: dict | None = None) -> float:
    """Wall seconds for the commands; their CPU seconds go in steps["cpu"] (less sensitive to
    other work on a shared machine than wall time)."""
    start = time.perf_counter()
    cpu_start = children_cpu()
    for cmd in cmds:
        began = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, check=True, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if steps is not None:
            steps[" ".join(cmd[:3])] = round(time.perf_counter() - began, 2)
            for what, seconds in STEP_RE.findall(proc.stderr):
                steps[what.split(" ")[0] + " " + what.split(" ")[1]] = float(seconds)
    if steps is not None:
        steps["cpu"] = round(children_cpu() - cpu_start, 2)
    return time.perf_counter() - start


def build_source(work: Path) -> Path:
    source = work / "source"
    stamp = source / ".git" / "labhooks-bench-recipe"
    if stamp.exists() and stamp.read_text() == " ".join(RECIPE):
        return source
    shutil.rmtree(source, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, str(MAKE_HISTORY), str(source), *RECIPE], check=True)
    stamp.write_text(" ".join(RECIPE))
    return source


def fresh_copy(source: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True)
    (target / ".git" / "labhooks-bench-recipe").unlink(missing_ok=True)
    return target


def run_ours(repo: Path, steps: dict) -> float:
    return timed([[sys.executable, "-m", "labhooks", "clean-large", "--max", "100M", "--yes", "--no-backup",
                   "--backend", "filter-repo"]], repo, steps)


def run_hand(repo: Path, steps: dict) -> float:
    return timed([
        ["git", "filter-repo", "--strip-blobs-bigger-than", "100M", "--force"],
        ["git", "reflog", "expire", "--expire=now", "--all"],
        ["git", "gc", "--prune=now", "--aggressive"],
    ], repo, steps)


def run_backup(repo: Path, bundle: Path) -> float:
    bundle.unlink(missing_ok=True)
    return timed([["git", "bundle", "create", str(bundle), "--all"],
                  ["git", "bundle", "verify", "-q", str(bundle)]], repo)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/labhooks-clean-bench"))
    args = parser.parse_args(argv)
    source = build_source(args.work)
    results = {"ours_s": [], "hand_s": [], "ratio": [], "cpu_ratio": [], "backup_s": []}
    sizes = {}
    for run in range(args.runs):
        ours_repo = fresh_copy(source, args.work / "ours")
        hand_repo = fresh_copy(source, args.work / "hand")
        sizes["before"] = store_size(ours_repo)
        order = [("ours", run_ours, ours_repo), ("hand", run_hand, hand_repo)]
        if run % 2:
            order.reverse()
        times, steps = {}, {"ours": {}, "hand": {}}
        for name, runner, repo in order:
            times[name] = runner(repo, steps[name])
        # what clean-large spends besides the tools it runs: plan, pins, checks, Python start
        steps["ours"]["own work"] = round(times["ours"] - sum(
            v for k, v in steps["ours"].items() if not k.startswith(sys.executable) and k != "cpu"), 2)
        results["cpu_ratio"].append(round(steps["ours"]["cpu"] / steps["hand"]["cpu"], 3))
        results.setdefault("steps", []).append(steps)
        sizes["after_ours"], sizes["after_hand"] = store_size(ours_repo), store_size(hand_repo)
        results["ours_s"].append(round(times["ours"], 2))
        results["hand_s"].append(round(times["hand"], 2))
        results["ratio"].append(round(times["ours"] / times["hand"], 3))
        shutil.rmtree(ours_repo)
        shutil.rmtree(hand_repo)
        backup_repo = fresh_copy(source, args.work / "backup")
        bundle = args.work / "backup.bundle"
        results["backup_s"].append(round(run_backup(backup_repo, bundle), 2))
        sizes["bundle"] = bundle.stat().st_size
        bundle.unlink()
        shutil.rmtree(backup_repo)
        print(f"run {run + 1}: ours {times['ours']:.2f} s, hand {times['hand']:.2f} s, "
              f"ratio {times['ours'] / times['hand']:.3f}, backup {results['backup_s'][-1]:.2f} s; "
              f"steps {json.dumps(steps)}", flush=True)
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    summary = {
        "load_average_at_end": load,
        "runs": args.runs,
        "median_ours_s": statistics.median(results["ours_s"]),
        "median_hand_s": statistics.median(results["hand_s"]),
        "median_ratio": statistics.median(results["ratio"]),
        "median_cpu_ratio": statistics.median(results["cpu_ratio"]),
        "median_backup_s": statistics.median(results["backup_s"]),
        **results,
        "store_bytes": sizes,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
