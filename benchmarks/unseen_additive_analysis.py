"""Offline analyses behind docs/yield-model.md's notes on unseen additives (Test1-Test4).

    python benchmarks/unseen_additive_analysis.py forest
        a forest on the Morgan blocks of ligand, base and aryl halide plus the additive
        as Morgan bits (radius 2 or 3, bits or counts), as RDKit 2D descriptors, or both;
        or on the components' Morgan features summed, as the network sees them: R² per split
    python benchmarks/unseen_additive_analysis.py disagreement --runs DIR
        DIR: the runs/ folder of an eight-member ``full_model_unseen_ensemble`` bench
        (``yield_model_bench.py --members 8``). For each member a forest is refitted
        without the member's held-out additives; the network's disagreement with it is
        added to the recalibration's error model, and the members' test rows give
        coverage and Spearman(|error|, σ) per split, with and without it.

Needs RDKit and scikit-learn (the project's dependencies) and ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "buchwald_hartwig"
SPLITS = ("Test1", "Test2", "Test3", "Test4")
OTHER_ROLES = ("ligand", "base", "aryl_halide")
ROLES = (*OTHER_ROLES, "additive")
Z95 = 1.959964


def load():
    frame = pd.read_csv(DATA / "reactions.csv")
    splits = json.loads((DATA / "splits.json").read_text())["splits"]
    return frame, splits


def train_test(splits, name):
    order = np.array(splits[name]["order"])
    return order[: splits[name]["n_train"]], order[splits[name]["n_train"]:]


class RoleFeatures:
    """One block per role and kind, each molecule computed once; an empty cell is zeros."""

    def __init__(self, frame):
        from rdkit import RDLogger

        RDLogger.DisableLog("rdApp.*")
        self.frame, self._by_molecule = frame, {}

    @staticmethod
    def _one(smiles, kind, radius, counts):
        from rdkit import Chem
        from rdkit.Chem import Descriptors, rdFingerprintGenerator

        molecule = Chem.MolFromSmiles(smiles)
        if kind == "descriptors":
            return np.array([describe(molecule) for _, describe in Descriptors._descList], float)
        generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=1024)
        fingerprint = generator.GetCountFingerprintAsNumPy if counts else generator.GetFingerprintAsNumPy
        return fingerprint(molecule).astype(float)

    def block(self, role, kind="morgan", radius=2, counts=False):
        rows = []
        for smiles in self.frame[role].fillna(""):
            key = smiles, kind, radius, counts
            if key not in self._by_molecule:
                self._by_molecule[key] = self._one(*key) if smiles else None
            rows.append(self._by_molecule[key])
        width = next(len(r) for r in rows if r is not None)
        return np.nan_to_num(np.stack([r if r is not None else np.zeros(width) for r in rows]))


def fit_forest(x, y, rows, trees, seed):
    from sklearn.ensemble import RandomForestRegressor

    varying = x[rows].std(axis=0) > 0
    forest = RandomForestRegressor(trees, max_features=1 / 3, n_jobs=2, random_state=seed)
    forest.fit(x[rows][:, varying], y[rows])
    return lambda other: forest.predict(x[other][:, varying])


def forest(args) -> None:
    from sklearn.metrics import r2_score

    frame, splits = load()
    features = RoleFeatures(frame)
    others = [features.block(role) for role in OTHER_ROLES]
    additive = features.block("additive")
    additive_r3_counts = features.block("additive", radius=3, counts=True)
    descriptors = features.block("additive", "descriptors")

    def summed(radius=2, counts=False):
        # the network's layout: the components' Morgan features added up (the network's
        # sum also holds the amine and precatalyst every reaction shares, and the product)
        return sum(features.block(role, radius=radius, counts=counts) for role in ROLES)

    layouts = {
        "by role, additive as Morgan bits": others + [additive],
        "by role, additive as RDKit descriptors": others + [descriptors],
        "by role, additive as both": others + [additive, descriptors],
        "by role, additive at radius 3": others + [features.block("additive", radius=3)],
        "by role, additive as radius-3 counts": others + [additive_r3_counts],
        "by role, every role as radius-3 counts": [
            features.block(role, radius=3, counts=True) for role in ROLES],
        "summed bits": [summed()],
        "summed radius-3 counts": [summed(3, True)],
        "summed bits + additive as radius-3 counts": [summed(), additive_r3_counts],
    }
    y = frame["yield"].to_numpy()
    for name, blocks in layouts.items():
        x = np.hstack(blocks)
        scores = []
        for split in SPLITS:
            train, test = train_test(splits, split)
            scores.append(r2_score(y[test], fit_forest(x, y, train, args.trees, 0)(test)))
        print(f"{name:<42}", " ".join(f"{s:.4f}" for s in scores), f"mean {np.mean(scores):.4f}", flush=True)


def error_design(frame, with_disagreement):
    share = np.clip(frame["predicted"].to_numpy(), 0, 100) / 100
    columns = [np.ones(len(frame)), np.log(np.maximum(frame["total_std"].to_numpy() ** 2, 1e-6)), share, share**2]
    if with_disagreement:
        columns.append(np.log(np.abs(frame["predicted"] - frame["forest"]).to_numpy() + 0.5))
    return np.column_stack(columns)


def disagreement(args) -> None:
    from scipy.stats import spearmanr

    frame, splits = load()
    features = RoleFeatures(frame)
    x = np.hstack([features.block(role) for role in ROLES])
    y = frame["yield"].to_numpy()
    row_of = {rxn: i for i, rxn in enumerate(frame["rxn"])}
    results = {False: [], True: []}
    for split in SPLITS:
        train, _ = train_test(splits, split)
        held_out, tested = [], []
        for member in sorted(args.runs.glob(f"full_model_unseen_ensemble-{split}-seed*")):
            val = pd.read_csv(member / "val_predictions.csv")
            test = pd.read_csv(member / "predictions.csv")
            val_rows = np.array([row_of[r] for r in val["rxn"]])
            predict = fit_forest(x, y, np.setdiff1d(train, val_rows), args.trees, len(held_out))
            val["forest"] = predict(val_rows)
            test["forest"] = predict(np.array([row_of[r] for r in test["rxn"]]))
            held_out.append(val)
            tested.append(test)
        if not held_out:
            raise SystemExit(f"no member runs of {split} under {args.runs}")
        val, test = pd.concat(held_out), pd.concat(tested)
        for with_disagreement in results:
            design = error_design(val, with_disagreement)
            error = np.abs(val["yield"] - val["predicted"]).to_numpy()
            coefficients = np.linalg.lstsq(design, np.log(error + 0.5), rcond=None)[0]
            factor = np.quantile(error / np.exp(design @ coefficients), 0.95) / Z95
            sigma = np.exp(error_design(test, with_disagreement) @ coefficients) * factor
            test_error = np.abs(test["yield"] - test["predicted"]).to_numpy()
            results[with_disagreement].append(
                (split, np.mean(test_error <= Z95 * sigma), spearmanr(test_error, sigma)[0]))
    for with_disagreement, rows in results.items():
        label = "with |network - forest|" if with_disagreement else "error model as now    "
        print(label, "  ".join(f"{s}: coverage {c:.3f} rho {r:.3f}" for s, c, r in rows))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("forest").set_defaults(run=forest, trees=300)
    run = commands.add_parser("disagreement")
    run.add_argument("--runs", type=Path, required=True)
    run.set_defaults(run=disagreement, trees=200)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    args.run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
