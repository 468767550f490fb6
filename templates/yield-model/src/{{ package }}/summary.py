"""Summaries over a multirun: mean ± std and median / IQR / trimean per metric, and
the deep ensemble of every experiment and split that several seeds ran (ensemble.py;
``ensembles.json`` and ``ensembles/``).

Runs automatically at the end of every ``-m`` sweep (Hydra callback); by hand:
    python -m <package>.summary logs/train/multiruns/<date>
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hydra.experimental.callback import Callback

from .ensemble import ensembles_of
from .metrics import robust_summary

METRICS = ("r2", "mae", "rmse", "spearman_abs_err_uncertainty", "coverage_95")


def collect_runs(sweep_dir) -> list[dict]:
    sweep_dir = Path(sweep_dir)
    runs = []
    for path in sorted(sweep_dir.rglob("metrics.json")):
        if "ensembles" in path.relative_to(sweep_dir).parts:
            continue  # combined from the runs, not one of them
        with open(path, encoding="utf-8") as fh:
            metrics = json.load(fh)
        metrics["run_dir"] = str(path.parent.relative_to(sweep_dir))
        runs.append(metrics)
    return runs


def summarize(runs) -> dict:
    """Per (experiment, data) group and metric, over all its seeds and splits."""
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(f"{run.get('experiment')} / {run.get('data')}", []).append(run)
    return {
        group: {
            "runs": len(members),
            "splits": sorted({str(m.get("split")) for m in members}),
            **{metric: robust_summary([m.get(metric) for m in members]) for metric in METRICS},
        }
        for group, members in groups.items()
    }


def to_markdown(summary: dict, ensembles: list[dict] = ()) -> str:
    lines = []
    for group, stats in summary.items():
        lines += [
            f"## {group} ({stats['runs']} runs; splits {', '.join(stats['splits'])})",
            "",
            "| metric | mean ± std | median | IQR | trimean |",
            "|---|---|---|---|---|",
        ]
        for metric in METRICS:
            s = stats[metric]
            if not s.get("n"):
                lines.append(f"| {metric} | n/a | | | |")
                continue
            lines.append(
                f"| {metric} | {s['mean']:.4f} ± {s['std']:.4f} | {s['median']:.4f} | {s['iqr']:.4f} | {s['trimean']:.4f} |"
            )
        lines.append("")
    if ensembles:
        lines += [
            "## Ensembles over seeds (ensembles/)",
            "",
            "| experiment / data / split | members | " + " | ".join(METRICS) + " | members' r2 |",
            "|---|---|" + "---|" * len(METRICS) + "---|",
        ]
        for e in ensembles:
            cells = " | ".join(f"{e[m]:.4f}" for m in METRICS)
            members = ", ".join(f"{r:.4f}" for r in e["member_r2"])
            lines.append(f"| {e['experiment']} / {e['data']} / {e['split']} | {e['members']} | {cells} | {members} |")
        lines.append("")
    return "\n".join(lines)


def write_summary(sweep_dir) -> dict:
    sweep_dir = Path(sweep_dir)
    runs = [r for r in collect_runs(sweep_dir) if r["run_dir"] != "."]
    summary = summarize(runs)
    ensembles = ensembles_of(runs, sweep_dir)
    with open(sweep_dir / "summary.json", "w", encoding="utf-8") as fh:
        json.dump(summary, fh, indent=2)
    if ensembles:
        with open(sweep_dir / "ensembles.json", "w", encoding="utf-8") as fh:
            json.dump(ensembles, fh, indent=2)
    (sweep_dir / "summary.md").write_text(to_markdown(summary, ensembles), encoding="utf-8")
    return summary


class MultirunSummaryCallback(Callback):
    def on_multirun_end(self, config, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if sweep_dir.is_dir():
            write_summary(sweep_dir)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        parser.error(f"{args.sweep_dir} is not a folder")
    print(to_markdown(write_summary(args.sweep_dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
