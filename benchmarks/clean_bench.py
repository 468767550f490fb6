"""clean-large against the same job done by hand, on a synthetic history.

Builds (once, under --work, never inside the repository) a history of about 5,000
commits with two buried blobs over 100 MiB using ../shared/tools/make_history.py, then
for each run times, each on a fresh copy, on the same machine in the same run:

  bfg:  labhooks clean-large --max 100M --yes --no-backup --backend bfg --bfg-jar JAR
  hand: java -jar JAR --strip-blobs-bigger-than 100M --no-blob-protection
        && git reflog expire --expire=now --all && git gc --prune=now --aggressive
        (what the lab's notes tell members to run)
  filter-repo: labhooks clean-large --max 100M --yes --no-backup --backend filter-repo

The order rotates between runs so no side always gets the warm page cache. The
figure that counts is bfg / hand (median of the per-run ratios). The backup (git bundle
create --all + git bundle verify) is excluded from both and timed on its own copy.

usage: python benchmarks/clean_bench.py [--runs 3] [--work /tmp/labhooks-clean-bench] [--bfg-jar JAR]
(JAR defaults to $LABHOOKS_BFG_JAR, else ../shared/tools/bfg/bfg.jar)
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

from benchutil import compile_labhooks
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


def clean_large(backend: str, *extra: str):
    def run(repo: Path, steps: dict) -> float:
        return timed([[sys.executable, "-m", "labhooks", "clean-large", "--max", "100M", "--yes", "--no-backup",
                       "--backend", backend, *extra]], repo, steps)
    return run


def by_hand(jar: Path):
    def run(repo: Path, steps: dict) -> float:
        return timed([
            ["java", "-jar", str(jar), "--strip-blobs-bigger-than", "100M", "--no-blob-protection", str(repo)],
            ["git", "reflog", "expire", "--expire=now", "--all"],
            ["git", "gc", "--prune=now", "--aggressive"],
        ], repo, steps)
    return run


def run_backup(repo: Path, bundle: Path) -> float:
    bundle.unlink(missing_ok=True)
    return timed([["git", "bundle", "create", str(bundle), "--all"],
                  ["git", "bundle", "verify", "-q", str(bundle)]], repo)


def default_jar() -> Path:
    named = os.environ.get("LABHOOKS_BFG_JAR")
    return Path(named) if named else HERE.parent.parent / "shared" / "tools" / "bfg" / "bfg.jar"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/labhooks-clean-bench"))
    parser.add_argument("--bfg-jar", type=Path, default=None)
    args = parser.parse_args(argv)
    jar = (args.bfg_jar or default_jar()).resolve()
    if not jar.is_file():
        parser.error(f"no BFG jar at {jar}: pass --bfg-jar or set LABHOOKS_BFG_JAR")
    print(compile_labhooks(), flush=True)
    source = build_source(args.work)
    contenders = {"bfg": clean_large("bfg", "--bfg-jar", str(jar)), "hand": by_hand(jar),
                  "filter-repo": clean_large("filter-repo")}
    results: dict = {name + "_s": [] for name in contenders}
    results.update(ratio=[], cpu_ratio=[], filter_repo_ratio=[], backup_s=[], steps=[])
    sizes = {"before": store_size(source)}
    names = list(contenders)
    for run in range(args.runs):
        order = names[run % len(names):] + names[:run % len(names)]
        times, steps = {}, {}
        for name in order:
            repo = fresh_copy(source, args.work / name)
            steps[name] = {}
            times[name] = contenders[name](repo, steps[name])
            sizes["after_" + name] = store_size(repo)
            shutil.rmtree(repo)
        for name in names:
            results[name + "_s"].append(round(times[name], 2))
        results["ratio"].append(round(times["bfg"] / times["hand"], 3))
        results["cpu_ratio"].append(round(steps["bfg"]["cpu"] / steps["hand"]["cpu"], 3))
        results["filter_repo_ratio"].append(round(times["filter-repo"] / times["hand"], 3))
        results["steps"].append(steps)
        backup_repo = fresh_copy(source, args.work / "backup")
        bundle = args.work / "backup.bundle"
        results["backup_s"].append(round(run_backup(backup_repo, bundle), 2))
        sizes["bundle"] = bundle.stat().st_size
        bundle.unlink()
        shutil.rmtree(backup_repo)
        print(f"run {run + 1} (order {', '.join(order)}): bfg {times['bfg']:.2f} s, hand {times['hand']:.2f} s, "
              f"filter-repo {times['filter-repo']:.2f} s, bfg/hand {results['ratio'][-1]:.3f}; "
              f"steps {json.dumps(steps)}", flush=True)
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    summary = {
        "jar": str(jar),
        "load_average_at_end": load,
        "runs": args.runs,
        **{f"median_{name}_s": statistics.median(results[name + "_s"]) for name in names},
        "median_ratio_bfg_over_hand": statistics.median(results["ratio"]),
        "median_cpu_ratio_bfg_over_hand": statistics.median(results["cpu_ratio"]),
        "median_ratio_filter_repo_over_hand": statistics.median(results["filter_repo_ratio"]),
        "median_backup_s": statistics.median(results["backup_s"]),
        **results,
        "store_bytes": sizes,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
