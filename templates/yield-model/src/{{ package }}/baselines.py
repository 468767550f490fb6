"""Random-forest baselines on per-component features (Ahneman 2018 / Sandfort 2020 style).

A component is a reactant-side molecule by its position in the reaction SMILES
(Buchwald-Hartwig: aryl halide, amine, Pd precatalyst, ligand, base, additive).
"""

from __future__ import annotations

import numpy as np

from .featurization import morgan_fingerprint, split_reaction
from .uncertainty import YIELD_RANGE, Predictions


def components(rxn_smiles) -> list[list[str]]:
    rows = [split_reaction(r)[0] for r in rxn_smiles]
    width = max(len(r) for r in rows)
    return [r + [""] * (width - len(r)) for r in rows]


class ComponentFeatures:
    """Fitted on training reactions: one-hot or Morgan bits per component position.

    Columns constant on the training rows or duplicating an earlier column are
    dropped (they cannot split a tree), which makes the forest much faster.
    """

    def __init__(self, kind="morgan", radius=2, n_bits=1024):
        if kind not in ("onehot", "morgan"):
            raise ValueError(f"unknown component features {kind!r} (onehot or morgan)")
        self.kind, self.radius, self.n_bits = kind, radius, n_bits

    def _raw(self, rxn_smiles) -> np.ndarray:
        comps = components(rxn_smiles)
        width = self.width
        comps = [(c + [""] * width)[:width] for c in comps]
        blocks = []
        for pos in range(width):
            column = [c[pos] for c in comps]
            if self.kind == "onehot":
                cats = self.categories[pos]
                block = np.zeros((len(column), len(cats)), dtype=np.uint8)
                for i, m in enumerate(column):
                    if m in cats:
                        block[i, cats[m]] = 1
            else:
                cache = {m: morgan_fingerprint(m, self.radius, self.n_bits) if m else np.zeros(self.n_bits, np.uint8)
                         for m in set(column)}
                block = np.stack([cache[m] for m in column])
            blocks.append(block)
        return np.concatenate(blocks, axis=1)

    def fit(self, rxn_smiles) -> "ComponentFeatures":
        comps = components(rxn_smiles)
        self.width = len(comps[0])
        self.categories = [
            {m: i for i, m in enumerate(sorted({c[pos] for c in comps}))} for pos in range(self.width)
        ]
        raw = self._raw(rxn_smiles)
        varying = np.flatnonzero(raw.min(0) != raw.max(0))
        _, first = np.unique(raw[:, varying], axis=1, return_index=True)
        self.keep = varying[np.sort(first)]
        return self

    def transform(self, rxn_smiles) -> np.ndarray:
        return self._raw(rxn_smiles)[:, self.keep].astype(np.float32)


def fit_predict_random_forest(cfg, train_rxn, train_y, test_rxn, seed: int):
    """Fit on training rows; mean and spread of the trees give prediction and (epistemic) variance."""
    from sklearn.ensemble import RandomForestRegressor

    features = ComponentFeatures(cfg.features, cfg.radius, cfg.n_bits).fit(train_rxn)
    x_train, x_test = features.transform(train_rxn), features.transform(test_rxn)
    forest = RandomForestRegressor(
        n_estimators=cfg.n_estimators,
        max_features=cfg.max_features,
        min_samples_leaf=cfg.min_samples_leaf,
        n_jobs=cfg.n_jobs,
        random_state=seed,
    )
    forest.fit(x_train, np.asarray(train_y, dtype=float))
    per_tree = np.stack([tree.predict(x_test) for tree in forest.estimators_])
    predictions = Predictions(
        mean=np.clip(per_tree.mean(0), *YIELD_RANGE),
        epistemic=per_tree.var(0),
        aleatoric=np.zeros(len(test_rxn)),
    )
    return predictions, {"n_features": int(x_train.shape[1])}
