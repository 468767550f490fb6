"""Benchmark the ``yield-model`` starter project on the Buchwald-Hartwig data.

Renders the project with ``labhooks new-project``, then trains each requested
experiment on each requested published split through the project's own entry
point (one subprocess per run, under a timeout) and prints the test metrics.

    python benchmarks/yield_model_bench.py --runs rf_morgan:FullCV_01 full_model:FullCV_01 \\
        --minutes 15 --threads 1

Run it niced (``nice -n 10``) on a shared machine; every result records the load
average before and after its run.

Results go to benchmarks/results/yield_model.json (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "buchwald_hartwig"
PACKAGE = "bh_bench"

# Published figures for context (mean R2 on FullCV unless noted).
REFERENCE = {
    "rf_morgan": "RF 0.92 (Ahneman 2018, DFT descriptors)",
    "full_model": "Yield-BERT 0.95, graph nets ~0.97",
    "Test1": "Yield-BERT 0.84",
    "Test2": "Yield-BERT 0.84",
    "Test3": "Yield-BERT 0.74",
    "Test4": "Yield-BERT 0.54",
}


def render(workdir: Path) -> Path:
    project = workdir / "project"
    if (project / "pyproject.toml").is_file():
        return project
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "labhooks.cli", "new-project", "yield-model", str(project), "--name", PACKAGE],
        check=True, capture_output=True, text=True,
    )
    return project


def run_command(project, data, experiment, split, *, minutes, epochs, threads, extra, seed=None):
    """The project's own training command for one run, and the folder it writes."""
    name = f"{experiment}-{split}" + ("" if seed is None else f"-seed{seed}")
    run_dir = project.parent / "runs" / name
    overrides = [
        f"experiment={experiment}",
        "data=buchwald_hartwig",
        f"data.root={data}",
        f"data.split={split}",
        f"torch_threads={threads}",
        f"hydra.run.dir={run_dir}",
        f"paths.cache_dir={project.parent / 'cache'}",
    ]
    if not experiment.startswith("rf_"):
        overrides += [
            "trainer.enable_progress_bar=false",
            "~callbacks.rich_progress_bar",
            f"trainer.max_epochs={epochs}",
            f"trainer.max_time=00:00:{int(minutes):02d}:{int(round((minutes % 1) * 60)):02d}",
        ]
    else:
        overrides.append(f"model.n_jobs={threads}")
    overrides += list(extra)
    if seed is not None:
        overrides.append(f"seed={seed}")
    return [sys.executable, "-m", f"{PACKAGE}.train", *overrides], run_dir, name


def run_one(project, data, experiment, split, *, minutes, epochs, threads, timeout, extra, members=1,
            first_seed=1) -> dict:
    """One run, or ``members`` seeds from ``first_seed`` on trained side by side (one process
    each) and combined by the project's ensemble module, as a seeds multirun on
    ``hydra/launcher=local`` does."""
    seeds = [None] if members == 1 else list(range(first_seed, first_seed + members))
    commands = [run_command(project, data, experiment, split, minutes=minutes, epochs=epochs, threads=threads,
                            extra=extra, seed=seed) for seed in seeds]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(project / "src"))
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    logs = [open(project.parent / f"{name}.log", "w") for _, _, name in commands]  # noqa: SIM115
    try:
        procs = [subprocess.Popen(argv, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
                 for (argv, _, _), log in zip(commands, logs)]
        codes = [proc.wait(timeout=timeout) for proc in procs]
    finally:
        for log in logs:
            log.close()
    wall = time.perf_counter() - t0
    load = {"load_before": load_before, "load_after": os.getloadavg()}
    failed = [name for (_, _, name), code in zip(commands, codes) if code != 0]
    if failed:
        last = (project.parent / f"{failed[0]}.log").read_text().strip().splitlines()[-1:]
        return {"experiment": experiment, "split": split, "error": last, "wall_seconds": wall, **load}
    runs = [json.loads((run_dir / "metrics.json").read_text()) for _, run_dir, _ in commands]
    if members == 1:
        metrics = runs[0]
    else:
        out = project.parent / "runs" / f"{experiment}-{split}-ensemble"
        shutil.rmtree(out, ignore_errors=True)  # this bench's own output of an earlier round
        subprocess.run([sys.executable, "-m", f"{PACKAGE}.ensemble", *(str(d) for _, d, _ in commands), "--out", str(out)],
                       cwd=project, env=env, check=True, capture_output=True, text=True)
        metrics = json.loads((out / "metrics.json").read_text())
        # the members' training: each ran on its own core at the same time
        for key in ("train_seconds", "epochs", "epoch_seconds_median"):
            metrics[key] = max(r.get(key) or 0 for r in runs)
        metrics["member_metrics"] = runs
    metrics.update(wall_seconds=wall, **load)
    return metrics


def fmt(value, spec=".4f"):
    return "n/a" if value is None or value != value else format(value, spec)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workdir", type=Path, default=REPO / "benchmarks" / ".work" / "yield-model")
    parser.add_argument("--runs", nargs="+", default=["rf_morgan:FullCV_01", "full_model:FullCV_01"],
                        help="EXPERIMENT:SPLIT pairs")
    parser.add_argument("--minutes", type=float, default=15.0, help="training wall-clock cap per neural run")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per neural run (cosine schedule length)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--members", type=int, default=1,
                        help="train this many seeds side by side (one process each) and report their ensemble")
    parser.add_argument("--first-seed", type=int, default=1, help="the members' seeds start here")
    parser.add_argument("--set", dest="extra", nargs="*", default=[], help="extra Hydra overrides for every run")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "yield_model.json")
    args = parser.parse_args(argv)
    if not (args.data / "reactions.csv").is_file():
        parser.error(f"no reactions.csv in {args.data}")
    project = render(args.workdir)
    results = []
    header = f"{'experiment':20} {'split':10} {'R2':>7} {'MAE':>6} {'RMSE':>6} {'rho':>6} {'cov95':>6} {'epochs':>6} {'s/epoch':>8} {'train s':>8}"
    print(header, flush=True)
    for spec in args.runs:
        experiment, split = spec.split(":")
        timeout = int(args.minutes * 60 + 900)
        m = run_one(project, args.data, experiment, split, minutes=args.minutes, epochs=args.epochs,
                    threads=args.threads, timeout=timeout, extra=args.extra, members=args.members,
                    first_seed=args.first_seed)
        results.append(m)
        if "error" in m:
            print(f"{experiment:20} {split:10} FAILED {m['error']}", flush=True)
            continue
        print(
            f"{experiment:20} {split:10} {fmt(m['r2']):>7} {fmt(m['mae'], '.2f'):>6} {fmt(m['rmse'], '.2f'):>6} "
            f"{fmt(m['spearman_abs_err_uncertainty'], '.3f'):>6} {fmt(m['coverage_95'], '.3f'):>6} "
            f"{m.get('epochs', '-')!s:>6} {fmt(m.get('epoch_seconds_median'), '.1f'):>8} {fmt(m['train_seconds'], '.0f'):>8}"
            + (f"  members {' '.join(fmt(r, '.4f') for r in m['member_r2'])} calibration {m.get('calibration', 'none')}/{m.get('calibration_rows', 0)}"
               f" shrink {fmt(m.get('ensemble_shrink'), '.2f')}" if "member_r2" in m else "")
            + f"  load {m['load_before'][0]:.1f}->{m['load_after'][0]:.1f}"
            f"   ({REFERENCE.get(split if split.startswith('Test') else experiment, '')})",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"threads": args.threads, "members": args.members, "runs": results}, indent=2))
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
