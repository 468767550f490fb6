"""Multi-gate mixture of experts (Ma et al., KDD 2018) for several material properties at
once, as the paper's ranker, and single-task MLPs as its comparison.

Labels may be missing (NaN): the L1 loss of each task averages only its observed labels.
Targets are standardised per task so that one task's units do not dominate the loss.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn


def mlp(sizes: list[int], *, last_activation: bool, dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or last_activation:
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MMoE(nn.Module):
    """Shared experts; each task mixes their outputs with its own softmax gate, then its tower."""

    def __init__(self, input_dim: int, n_tasks: int, *, n_experts: int = 8,
                 expert_hidden: tuple[int, ...] = (128, 64, 32), tower_hidden: tuple[int, ...] = (32, 16),
                 dropout: float = 0.0):
        super().__init__()
        expert_hidden = list(expert_hidden)
        self.experts = nn.ModuleList(
            mlp([input_dim, *expert_hidden], last_activation=True, dropout=dropout) for _ in range(n_experts)
        )
        self.gates = nn.ModuleList(nn.Linear(input_dim, n_experts) for _ in range(n_tasks))
        self.towers = nn.ModuleList(
            mlp([expert_hidden[-1], *tower_hidden, 1], last_activation=False, dropout=dropout)
            for _ in range(n_tasks)
        )

    def gate_weights(self, x: torch.Tensor) -> torch.Tensor:
        """(tasks, batch, experts), each row a probability distribution over experts."""
        return torch.stack([torch.softmax(gate(x), dim=-1) for gate in self.gates])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expert_out = torch.stack([expert(x) for expert in self.experts], dim=1)  # (batch, experts, h)
        gates = self.gate_weights(x)
        outputs = []
        for task, tower in enumerate(self.towers):
            mixed = torch.einsum("be,beh->bh", gates[task], expert_out)
            outputs.append(tower(mixed))
        return torch.cat(outputs, dim=1)


class SingleTaskMLPs(nn.Module):
    """One independent network per task, each as deep as an expert plus a tower."""

    def __init__(self, input_dim: int, n_tasks: int, *, expert_hidden: tuple[int, ...] = (128, 64, 32),
                 tower_hidden: tuple[int, ...] = (32, 16), dropout: float = 0.0, **_ignored):
        super().__init__()
        sizes = [input_dim, *expert_hidden, *tower_hidden, 1]
        self.nets = nn.ModuleList(mlp(sizes, last_activation=False, dropout=dropout) for _ in range(n_tasks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([net(x) for net in self.nets], dim=1)


ARCHITECTURES = {"mmoe": MMoE, "single_task": SingleTaskMLPs}


def masked_l1(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean over tasks of each task's mean absolute error on its observed labels, and the
    per-task losses (NaN for a task with no label in the batch, which then adds nothing)."""
    observed = ~torch.isnan(target)
    errors = torch.where(observed, (pred - torch.nan_to_num(target)).abs(), torch.zeros_like(pred))
    counts = observed.sum(0)
    per_task = errors.sum(0) / counts.clamp(min=1)
    has_labels = counts > 0
    if not bool(has_labels.any()):
        return pred.sum() * 0.0, torch.full_like(per_task, float("nan"))
    total = per_task[has_labels].mean()
    return total, torch.where(has_labels, per_task, torch.full_like(per_task, float("nan")))


def one_hot(values, categories: list) -> np.ndarray:
    """Context (e.g. temperature bins) as one-hot columns; unknown values raise."""
    index = {c: i for i, c in enumerate(categories)}
    out = np.zeros((len(values), len(categories)), dtype=np.float32)
    for row, value in enumerate(values):
        if value not in index:
            raise ValueError(f"context value {value!r} not in {categories}")
        out[row, index[value]] = 1.0
    return out


@dataclass
class TrainConfig:
    architecture: str = "mmoe"
    n_experts: int = 8
    expert_hidden: tuple[int, ...] = (128, 64, 32)
    tower_hidden: tuple[int, ...] = (32, 16)
    dropout: float = 0.0
    epochs: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-5
    seed: int = 0


@dataclass
class Ranker:
    """A trained network with what it needs to turn inputs into property values."""

    model: nn.Module
    tasks: list[str]
    mean: np.ndarray
    std: np.ndarray
    config: TrainConfig
    input_dim: int
    context_categories: list = field(default_factory=list)
    history: list[float] = field(default_factory=list)

    def predict(self, x: np.ndarray, context=None) -> np.ndarray:
        inputs = _inputs(x, context, self.context_categories)
        self.model.eval()
        with torch.no_grad():
            scaled = self.model(torch.from_numpy(inputs)).numpy()
        return scaled * self.std + self.mean

    def save(self, path) -> None:
        torch.save(
            {
                "state_dict": self.model.state_dict(),
                "tasks": self.tasks,
                "mean": self.mean.tolist(),
                "std": self.std.tolist(),
                "config": asdict(self.config),
                "input_dim": self.input_dim,
                "context_categories": self.context_categories,
                "history": self.history,
            },
            path,
        )

    @classmethod
    def load(cls, path) -> "Ranker":
        saved = torch.load(path, map_location="cpu", weights_only=True)
        config = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved["config"].items()})
        model = build_model(config, saved["input_dim"] + len(saved["context_categories"]), len(saved["tasks"]))
        model.load_state_dict(saved["state_dict"])
        return cls(model, saved["tasks"], np.asarray(saved["mean"]), np.asarray(saved["std"]), config,
                   saved["input_dim"], saved["context_categories"], saved["history"])


def build_model(config: TrainConfig, input_dim: int, n_tasks: int) -> nn.Module:
    if config.architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {config.architecture!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[config.architecture](
        input_dim, n_tasks, n_experts=config.n_experts, expert_hidden=tuple(config.expert_hidden),
        tower_hidden=tuple(config.tower_hidden), dropout=config.dropout,
    )


def _inputs(x, context, categories) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if categories:
        if context is None:
            raise ValueError(f"this model expects a context, one of {categories}")
        if np.isscalar(context) or isinstance(context, str):
            context = [context] * len(x)
        x = np.hstack([x, one_hot(context, categories)])
    return np.ascontiguousarray(x, dtype=np.float32)


def train(x: np.ndarray, y: np.ndarray, tasks: list[str], config: TrainConfig | None = None,
          context=None, context_categories: list | None = None) -> Ranker:
    """Fit on inputs ``x`` (n, d) and labels ``y`` (n, tasks) with NaN for missing ones."""
    config = config or TrainConfig()
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] != len(tasks) or len(y) != len(x):
        raise ValueError(f"labels of shape {y.shape} do not match {len(x)} inputs and tasks {tasks}")
    observed = ~np.isnan(y)
    if not observed.any(axis=0).all():
        empty = [t for t, seen in zip(tasks, observed.any(axis=0)) if not seen]
        raise ValueError(f"no labels at all for tasks {empty}")
    mean = np.array([y[observed[:, t], t].mean() for t in range(y.shape[1])])
    std = np.array([y[observed[:, t], t].std() for t in range(y.shape[1])])
    std = np.where(std > 0, std, 1.0)
    categories = list(context_categories or [])
    inputs = _inputs(x, context, categories)

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    model = build_model(config, inputs.shape[1], len(tasks))
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    features = torch.from_numpy(inputs)
    targets = torch.from_numpy(((y - mean) / std).astype(np.float32))
    history = []
    for _ in range(config.epochs):
        model.train()
        order = torch.randperm(len(features), generator=generator)
        epoch_loss, batches = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            batch = order[start:start + config.batch_size]
            loss, _ = masked_l1(model(features[batch]), targets[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            epoch_loss += loss.item()
            batches += 1
        history.append(epoch_loss / max(batches, 1))
    if not all(math.isfinite(h) for h in history):
        raise RuntimeError("training diverged (non-finite loss); lower the learning rate")
    return Ranker(model, list(tasks), mean, std, config, int(np.asarray(x).shape[1]), categories, history)


def evaluate(ranker: Ranker, x, y, context=None) -> dict[str, dict[str, float]]:
    """MAE and R² per task on observed labels."""
    pred = ranker.predict(x, context)
    y = np.asarray(y, dtype=np.float64)
    metrics = {}
    for t, task in enumerate(ranker.tasks):
        seen = ~np.isnan(y[:, t])
        if not seen.any():
            continue
        err = pred[seen, t] - y[seen, t]
        total = ((y[seen, t] - y[seen, t].mean()) ** 2).sum()
        metrics[task] = {
            "mae": float(np.abs(err).mean()),
            "r2": float(1 - (err ** 2).sum() / total) if total > 0 else float("nan"),
            "n": int(seen.sum()),
        }
    return metrics
