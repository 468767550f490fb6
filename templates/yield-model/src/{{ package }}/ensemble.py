"""Deep ensembles: runs of one experiment on one split that differ only in their seed, combined.

A seeds multirun leaves one ``predictions.csv`` per member (``-m seed=1,2
hydra/launcher=local`` trains two side by side, one per core). The ensemble predicts
the members' mean; their disagreement joins the epistemic variance (mean of the
members' epistemic variances + variance of their means), the aleatoric variance is the
members' mean. Every multirun's summary combines its seeds this way; by hand:
    python -m <package>.ensemble RUN_DIR RUN_DIR ... --out DIR

That mixture is wider than the ensemble's error: for every row, the mean of the members'
squared errors is the ensemble's squared error plus the variance of their means. So the
mixture is shrunk by one factor, ``ensemble_shrink``, that makes its sum over the test
rows the members' variance minus their disagreement, which is what that identity expects
of the ensemble's squared error; the ranking of the rows is kept. When every member has
held out rows it never trained on (``val_predictions.csv``: ``data.val_folds``, one fold
a member), the members' variances are first recalibrated on those rows, pooled
(``uncertainty.Recalibration``), so that the members' intervals hold 95 % of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import VAL_PREDICTIONS, write_run_outputs
from .uncertainty import Predictions, Recalibration

# what members must share to be one ensemble
IDENTITY = ("experiment", "data", "split")


class EnsembleError(ValueError):
    """Runs that cannot be combined; the command prints its one line and exits 2."""


def one_per_seed(seeds: list) -> bool:
    """Members of one ensemble differ in their seed and in nothing else that IDENTITY holds."""
    return len(set(seeds)) == len(seeds)


def read_member(run_dir) -> tuple[pd.DataFrame, dict]:
    run_dir = Path(run_dir)
    try:
        with open(run_dir / "metrics.json", encoding="utf-8") as fh:
            metrics = json.load(fh)
        frame = pd.read_csv(run_dir / "predictions.csv")
    except FileNotFoundError as exc:
        raise EnsembleError(f"{run_dir}: not a finished run ({Path(exc.filename).name} missing)") from None
    return frame, metrics


def read_held_out(run_dir) -> pd.DataFrame | None:
    """A member's predictions of the rows it held out, or None when it held out none."""
    path = Path(run_dir) / VAL_PREDICTIONS
    return pd.read_csv(path) if path.is_file() else None


def as_predictions(frame: pd.DataFrame) -> Predictions:
    return Predictions(frame["predicted"].to_numpy(float), frame["epistemic_var"].to_numpy(float),
                       frame["aleatoric_var"].to_numpy(float))


def check_same_rows(frames: list[pd.DataFrame]) -> None:
    first = frames[0]
    for frame in frames[1:]:
        same_rows = len(frame) == len(first) and frame["rxn"].equals(first["rxn"])
        if not (same_rows and np.allclose(frame["yield"], first["yield"])):
            raise EnsembleError("the runs predicted different test rows: members must share data and split")


def combine(members: list[Predictions]) -> Predictions:
    """The members' predictions of the same rows as one mixture."""
    means = np.stack([m.mean for m in members])
    return Predictions(
        mean=means.mean(0),
        epistemic=np.mean([m.epistemic for m in members], axis=0) + means.var(0),
        aleatoric=np.mean([m.aleatoric for m in members], axis=0),
    )


def calibrated(frames: list[pd.DataFrame], held_out: list[pd.DataFrame | None]) -> tuple[Predictions, dict]:
    """The members' mixture, recalibrated and shrunk as the module's docstring says, and
    what was done, for metrics.json."""
    check_same_rows(frames)
    members = [as_predictions(f) for f in frames]
    described: dict = {"calibration": None, "calibration_rows": 0}
    if held_out and all(h is not None and len(h) for h in held_out):
        pooled = pd.concat(held_out, ignore_index=True)
        recalibration = Recalibration.fit(pooled["yield"].to_numpy(float), as_predictions(pooled))
        members = [recalibration(m) for m in members]
        described = {**recalibration.describe(), "calibration_rows": len(pooled)}
    mixture = combine(members)
    disagreement = np.stack([m.mean for m in members]).var(0)
    members_variance = mixture.total_variance - disagreement
    total = mixture.total_variance.sum()
    # never narrower than K members with independent errors would make it
    shrink = 1.0 if total <= 0 else float(np.clip((members_variance - disagreement).sum() / total, 1 / len(frames), 1))
    return (Predictions(mixture.mean, mixture.epistemic * shrink, mixture.aleatoric * shrink),
            {**described, "ensemble_shrink": shrink})


def seed_ensemble(run_dirs, members: list[tuple[pd.DataFrame, dict]]) -> tuple[Predictions, dict]:
    """The checked, calibrated ensemble of one experiment's seeds, and what was done."""
    identities = {tuple(m.get(k) for k in IDENTITY) for _, m in members}
    if len(identities) > 1:
        raise EnsembleError(f"the runs are not one experiment on one split: {sorted(map(str, identities))}")
    seeds = [m.get("seed") for _, m in members]
    if not one_per_seed(seeds):
        raise EnsembleError(f"the runs share a seed ({seeds}): members must differ in their seed")
    return calibrated([f for f, _ in members], [read_held_out(d) for d in run_dirs])


def write_ensemble(run_dirs, out_dir) -> dict:
    """metrics.json, predictions.csv and plots of the ensemble of ``run_dirs`` in ``out_dir``."""
    members = [read_member(d) for d in run_dirs]
    if len(members) < 2:
        raise EnsembleError("an ensemble needs two runs or more")
    predictions, factors = seed_ensemble(run_dirs, members)
    frames = [f for f, _ in members]
    seeds = [m.get("seed") for _, m in members]
    first = members[0][1]
    extra = {k: first.get(k) for k in IDENTITY}
    extra.update(members=len(members), seeds=seeds, member_r2=[m.get("r2") for _, m in members],
                 member_runs=[str(d) for d in run_dirs], **factors)
    return write_run_outputs(out_dir, frames[0]["rxn"], frames[0]["yield"].to_numpy(float), predictions, extra)


def write_blend(run_dirs, out_dir) -> dict:
    """Runs of two experiments or more on one split, one weight per experiment: each
    experiment's seeds are first combined as ``write_ensemble`` does, then the experiments'
    predictions are averaged, their disagreement joining the epistemic variance."""
    members = [read_member(d) for d in run_dirs]
    splits = {(m.get("data"), m.get("split")) for _, m in members}
    if len(splits) > 1:
        raise EnsembleError(f"the runs are not on one data set and split: {sorted(map(str, splits))}")
    by_experiment: dict[str, list[int]] = {}
    for index, (_, metrics) in enumerate(members):
        by_experiment.setdefault(str(metrics.get("experiment")), []).append(index)
    if len(by_experiment) < 2:
        raise EnsembleError("a blend needs runs of two experiments or more (one experiment's seeds: leave out --blend)")
    check_same_rows([f for f, _ in members])
    parts = []
    for indices in by_experiment.values():
        chosen = [members[i] for i in indices]
        parts.append(as_predictions(chosen[0][0]) if len(chosen) == 1
                     else seed_ensemble([run_dirs[i] for i in indices], chosen)[0])
    first = members[0]
    extra = {"experiment": "+".join(by_experiment), "data": first[1].get("data"), "split": first[1].get("split"),
             "blended": {name: len(indices) for name, indices in by_experiment.items()}, "members": len(members),
             "member_runs": [str(d) for d in run_dirs]}
    return write_run_outputs(out_dir, first[0]["rxn"], first[0]["yield"].to_numpy(float), combine(parts), extra)


def ensembles_of(runs: list[dict], sweep_dir) -> list[dict]:
    """One ensemble per experiment, data set and split that two seeds or more ran, written
    under ``sweep_dir/ensembles/``."""
    sweep_dir = Path(sweep_dir)
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault(tuple(run.get(k) for k in IDENTITY), []).append(run)
    written = []
    for identity, members in groups.items():
        if len(members) < 2 or not one_per_seed([m.get("seed") for m in members]):
            continue  # one run, or a sweep over something other than the seed
        out = sweep_dir / "ensembles" / "-".join(str(part) for part in identity)
        written.append(write_ensemble([sweep_dir / m["run_dir"] for m in members], out))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (each with metrics.json, predictions.csv)")
    parser.add_argument("--out", type=Path, required=True, help="where the ensemble's outputs go")
    parser.add_argument("--blend", action="store_true",
                        help="runs of different experiments on one split: one weight per experiment")
    args = parser.parse_args(argv)
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        # a run's own folder, say: its metrics and predictions would be overwritten
        print(f"error: {args.out} exists and is not an empty folder: give a new one for --out", file=sys.stderr)
        return 2
    try:
        metrics = (write_blend if args.blend else write_ensemble)(args.runs, args.out)
    except EnsembleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"ensemble of {metrics['members']} ({metrics['experiment']} on {metrics['data']}/{metrics['split']}): "
          f"R2 {metrics['r2']:.4f}  MAE {metrics['mae']:.2f}  Spearman(|err|,unc) "
          f"{metrics['spearman_abs_err_uncertainty']:.3f}  coverage95 {metrics['coverage_95']:.3f}  -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
