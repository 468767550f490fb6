"""Time the starter projects' own test suites against the same suites at an older commit.

Each template is rendered twice, by the labhooks of ``--base`` (extracted with
``git archive``) and by this checkout, and each rendered project's suite
(``python -m pytest -q -p no:cacheprovider -x``) runs in interleaved rounds:

    python benchmarks/starter_suite_bench.py --base fa3cb5a --rounds 3

Prints the median wall time of each suite, the ratio now / base from the same rounds,
the test counts and the load average; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = ("yield-model", "recommender")


def render(labhooks_root: Path, template: str, target: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(labhooks_root))
    subprocess.run([sys.executable, "-m", "labhooks.cli", "new-project", template, str(target), "--name", "suite_bench"],
                   check=True, capture_output=True, text=True, env=env, cwd=labhooks_root)


def run_suite(project: Path) -> tuple[float, str]:
    # the project's own settings only: nothing of this checkout's pytest or path
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k != "PYTHONPATH"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"], cwd=project, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode != 0:
        raise SystemExit(f"{project}: the suite failed: {tail}")
    return wall, tail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="fa3cb5a", help="the commit to compare with (default: before issue 17)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--templates", nargs="+", default=list(TEMPLATES), choices=TEMPLATES)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="suite-bench-") as tmp:
        tmp = Path(tmp)
        base_root = tmp / "base-labhooks"
        base_root.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", args.base, "labhooks", "templates"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(base_root)], input=archive, check=True)
        projects = {}
        for template in args.templates:
            for side, root in (("base", base_root), ("now", REPO)):
                projects[template, side] = tmp / f"{template}-{side}"
                render(root, template, projects[template, side])
        times: dict = {key: [] for key in projects}
        tails: dict = {}
        loads = [os.getloadavg()[0]]
        for round_no in range(args.rounds):
            for key, project in projects.items():
                wall, tails[key] = run_suite(project)
                times[key].append(wall)
                print(f"round {round_no + 1}: {key[0]:12} {key[1]:4} {wall:6.1f} s  {tails[key]}", flush=True)
            loads.append(os.getloadavg()[0])
    print(f"\nbase {args.base}, {args.rounds} interleaved rounds, load average {min(loads):.1f}-{max(loads):.1f}")
    for template in args.templates:
        base, now = times[template, "base"], times[template, "now"]
        ratios = [n / b for n, b in zip(now, base)]
        count = lambda tail: re.search(r"(\d+) passed", tail).group(1)  # noqa: E731
        print(f"{template:12} base {statistics.median(base):6.1f} s ({count(tails[template, 'base'])} tests)  "
              f"now {statistics.median(now):6.1f} s ({count(tails[template, 'now'])} tests)  "
              f"ratio {statistics.median(ratios):.2f} (per round {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
