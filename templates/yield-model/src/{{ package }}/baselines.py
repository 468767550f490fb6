"""Random-forest baselines (Ahneman 2018; Sandfort 2020 for fingerprints) whose features
mean the same thing on every row, whatever the order or number of molecules.

* With role columns (``data.roles``, e.g. ligand, additive, base, aryl_halide): one
  block per role, one-hot of the molecule or its Morgan bits; an empty cell is a
  zero block.
* Without: an order-free encoding of the reactant side, the count of each distinct
  training molecule (one-hot) or the summed Morgan bits of the reactants.
"""

from __future__ import annotations

import numpy as np

from .featurization import molecules_by_slot, slot_fingerprints
from .progress import progress, track
from .uncertainty import YIELD_RANGE, Predictions


class ComponentFeatures:
    """Fitted on training rows. Columns constant on the training rows or duplicating an
    earlier column are dropped (they cannot split a tree), which makes the forest faster."""

    def __init__(self, kind="morgan", radius=2, n_bits=1024, roles=None):
        if kind not in ("onehot", "morgan"):
            raise ValueError(f"unknown component features {kind!r} (onehot or morgan)")
        self.kind, self.radius, self.n_bits = kind, radius, n_bits
        self.roles = list(roles) if roles else None

    def _raw(self, frame) -> np.ndarray:
        rows = molecules_by_slot(frame, self.roles)
        if self.kind == "morgan":
            return slot_fingerprints(rows, self.radius, self.n_bits)
        blocks = []
        for slot, vocabulary in enumerate(self.vocabularies):
            block = np.zeros((len(rows), len(vocabulary)), dtype=np.float32)
            for i, row in enumerate(rows):
                for molecule in row[slot]:
                    if molecule in vocabulary:
                        block[i, vocabulary[molecule]] += 1
            blocks.append(block)
        return np.concatenate(blocks, axis=1)

    def fit(self, frame) -> "ComponentFeatures":
        rows = molecules_by_slot(frame, self.roles)
        self.vocabularies = [
            {m: i for i, m in enumerate(sorted({m for row in rows for m in row[slot]}))}
            for slot in range(len(rows[0]))
        ]
        raw = self._raw(frame)
        varying = np.flatnonzero(raw.min(0) != raw.max(0))
        _, first = np.unique(raw[:, varying], axis=1, return_index=True)
        self.keep = varying[np.sort(first)]
        return self

    def transform(self, frame) -> np.ndarray:
        return self._raw(frame)[:, self.keep]


class RandomForestBaseline:
    """Not a Lightning module: ``fit`` and ``predict`` take the data module's split."""

    def __init__(self, features="morgan", radius=2, n_bits=1024, n_estimators=500, max_features=0.33,
                 min_samples_leaf=1, n_jobs=None, seed=0):
        from .cores import available_cores

        self.features = ComponentFeatures(features, radius, n_bits)
        self.n_estimators = int(n_estimators)
        # trees are independent: one per core this process may use, never more
        self.forest_args = dict(max_features=max_features, min_samples_leaf=min_samples_leaf,
                                n_jobs=int(n_jobs or available_cores()), random_state=seed)

    def fit(self, datamodule) -> "RandomForestBaseline":
        from sklearn.ensemble import RandomForestRegressor

        train = datamodule.load().train
        self.features.roles = datamodule.roles
        self.features.fit(train)
        x, y = self.features.transform(train), train["yield"].to_numpy(dtype=float)
        # Grown a tenth at a time (warm_start) to show progress: scikit-learn draws each
        # new tree's seed as a single fit of all trees would, so the forest is the same.
        self.forest = RandomForestRegressor(n_estimators=0, warm_start=True, **self.forest_args)
        chunk = max(1, -(-self.n_estimators // 10))
        with progress("random forest fit", self.n_estimators, "trees") as bar:
            while self.forest.n_estimators < self.n_estimators:
                before = self.forest.n_estimators
                self.forest.set_params(n_estimators=min(self.n_estimators, before + chunk)).fit(x, y)
                bar.advance(self.forest.n_estimators - before)
        return self

    @property
    def n_features(self) -> int:
        return int(len(self.features.keep))

    def _per_tree(self, frame, description: str) -> np.ndarray:
        x = self.features.transform(frame)
        return np.stack([tree.predict(x) for tree in track(self.forest.estimators_, description, "trees")])

    def predict(self, frame) -> Predictions:
        """Mean and spread of the trees: prediction and (epistemic) variance."""
        per_tree = self._per_tree(frame, "random forest predict")
        return Predictions(mean=np.clip(per_tree.mean(0), *YIELD_RANGE), epistemic=per_tree.var(0),
                           aleatoric=np.zeros(len(frame)))

    def out_of_bag(self, datamodule) -> tuple[np.ndarray, Predictions]:
        """Each training row predicted by the trees whose bootstrap left it out (about a
        third of them): rows held out from training without holding any out, so the
        intervals can be calibrated while the forest keeps every training row."""
        train = datamodule.load().train
        per_tree = self._per_tree(train, "random forest out-of-bag")
        out = np.ones(per_tree.shape, dtype=bool)
        for tree, in_bag in enumerate(self.forest.estimators_samples_):
            out[tree, in_bag] = False
        count = out.sum(0)
        usable = count >= 2
        per_tree, out, count = per_tree[:, usable], out[:, usable], count[usable]
        mean = (per_tree * out).sum(0) / count
        variance = (out * (per_tree - mean) ** 2).sum(0) / count
        y = train["yield"].to_numpy(dtype=float)[usable]
        return y, Predictions(mean=np.clip(mean, *YIELD_RANGE), epistemic=variance, aleatoric=np.zeros(len(y)))
