"""The Lightning data module the rankers train on: the library's embeddings (what
``embed`` wrote) as inputs, its properties as labels (NaN where missing), split into
train / validation / test."""

from __future__ import annotations

import math
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from .artifacts import StepError, check_trained_on, embeddings_digest, load_embeddings, read_materials


def one_hot(values, categories: list) -> np.ndarray:
    """Context (e.g. temperature bins) as one-hot columns; unknown values raise."""
    index = {c: i for i, c in enumerate(categories)}
    out = np.zeros((len(values), len(categories)), dtype=np.float32)
    for row, value in enumerate(values):
        if value not in index:
            raise StepError(f"context value {value!r} not in {list(categories)}")
        out[row, index[value]] = 1.0
    return out


def model_inputs(x, context, categories) -> np.ndarray:
    """Embeddings, with the one-hot context appended when the ranker uses one."""
    x = np.asarray(x, dtype=np.float32)
    if categories:
        if context is None:
            raise StepError(f"this ranker expects a context, one of {list(categories)}")
        if np.isscalar(context) or isinstance(context, str):
            context = [context] * len(x)
        x = np.hstack([x, one_hot(context, categories)])
    return np.ascontiguousarray(x, dtype=np.float32)


def split_indices(marks: list, n: int, test_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """The data's own train/test column when every row has one, else a seeded random split."""
    if all(mark in ("train", "test") for mark in marks) and {"train", "test"} <= set(marks):
        return [i for i, s in enumerate(marks) if s == "train"], [i for i, s in enumerate(marks) if s == "test"]
    order = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return sorted(order[n_test:].tolist()), sorted(order[:n_test].tolist())


class EmbeddingDataModule(L.LightningDataModule):
    """``materials``: the ``materials.jsonl`` of the library; ``embeddings``: the run
    folder holding ``embeddings.npy``. ``val_fraction`` of the training rows (seeded)
    are held out for validation. ``dims`` are the sizes a ranker config takes from here."""

    def __init__(self, materials: str, embeddings: str, tasks: list[str], batch_size: int = 64,
                 test_fraction: float = 0.2, val_fraction: float = 0.0, split_column: str = "split",
                 context_column: str | None = None, context_categories: list | None = None, seed: int = 0,
                 num_workers: int = 0):
        super().__init__()
        self.materials_path, self.embeddings_dir = Path(materials), Path(embeddings)
        self.tasks = list(tasks)
        self.batch_size, self.num_workers = batch_size, num_workers
        self.test_fraction, self.val_fraction = test_fraction, val_fraction
        self.split_column, self.seed = split_column, seed
        self.context_column = context_column
        self.context_categories = list(context_categories or []) if context_column else []
        self.inputs = self.labels = None
        self.embeddings_digest: str | None = None
        self.rows: dict[str, list[int]] = {}

    def setup(self, stage: str | None = None) -> None:
        if self.inputs is not None:
            return
        materials, _ = read_materials(self.materials_path)
        embeddings, ids = load_embeddings(self.embeddings_dir)
        if ids != [m.id for m in materials]:
            raise StepError("embeddings are stale (library changed): rerun `embed`")
        labels = np.array([[float(m.properties.get(t, math.nan)) for t in self.tasks] for m in materials],
                          dtype=np.float64).reshape(len(materials), len(self.tasks))
        context = [m.meta.get(self.context_column) for m in materials] if self.context_column else None
        self.embeddings_digest = embeddings_digest(embeddings)
        self.inputs = model_inputs(embeddings, context, self.context_categories)
        self.labels = labels.astype(np.float32)
        train, test = split_indices([m.meta.get(self.split_column) for m in materials], len(materials),
                                    self.test_fraction, self.seed)
        n_val = int(round(len(train) * self.val_fraction))
        held = set(np.random.default_rng(self.seed + 1).permutation(train)[:n_val].tolist())
        self.rows = {"train": [i for i in train if i not in held], "val": sorted(held), "test": test}
        observed = ~np.isnan(labels[self.rows["train"]])
        empty = [t for t, seen in zip(self.tasks, observed.any(axis=0)) if not seen]
        if empty:
            raise StepError(f"no training labels at all for tasks {empty}")

    def state_dict(self) -> dict:
        """Kept in every checkpoint: which embeddings the ranker learnt from."""
        return {"embeddings_digest": self.embeddings_digest} if self.embeddings_digest else {}

    def load_state_dict(self, state: dict) -> None:
        # Lightning calls this when training resumes from a checkpoint, after setup()
        self.setup()
        check_trained_on(state, self.embeddings_digest, "the checkpoint being resumed")

    @property
    def dims(self) -> dict:
        self.setup()
        return {"input_dim": int(self.inputs.shape[1]), "n_tasks": len(self.tasks), "tasks": self.tasks,
                "context_categories": self.context_categories}

    def target_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and spread of each task on its observed training labels."""
        y = self.labels[self.rows["train"]].astype(np.float64)
        mean = np.array([np.nanmean(y[:, t]) for t in range(y.shape[1])])
        std = np.array([np.nanstd(y[:, t]) for t in range(y.shape[1])])
        return mean, np.where(std > 0, std, 1.0)

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows[which]
        return self.inputs[rows], self.labels[rows]

    def _loader(self, which: str, shuffle: bool):
        x, y = self.split(which)
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=self.batch_size,
                          shuffle=shuffle, generator=generator if shuffle else None, num_workers=self.num_workers)

    def train_dataloader(self):
        return self._loader("train", True)

    def val_dataloader(self):
        # an empty list: no validation loop at all
        return self._loader("val", False) if self.rows["val"] else []

    def test_dataloader(self):
        return self._loader("test", False)
