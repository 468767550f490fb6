"""The rankers' networks: a multi-gate mixture of experts (Ma et al., KDD 2018), the
paper's ranker, and single-task MLPs as its comparison. Plain ``nn.Module``s: inputs
(batch, input_dim) -> one standardised prediction per task (batch, n_tasks)."""

from __future__ import annotations

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

    def __init__(self, input_dim: int, n_tasks: int, n_experts: int = 8,
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

    def __init__(self, input_dim: int, n_tasks: int, hidden: tuple[int, ...] = (128, 64, 32, 32, 16),
                 dropout: float = 0.0):
        super().__init__()
        sizes = [input_dim, *hidden, 1]
        self.nets = nn.ModuleList(mlp(sizes, last_activation=False, dropout=dropout) for _ in range(n_tasks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([net(x) for net in self.nets], dim=1)
