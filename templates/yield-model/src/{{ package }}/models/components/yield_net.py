"""The multimodal yield network: any subset of the three encoders, fused, with a (mu, log var) head."""

from __future__ import annotations

import math

import torch
from torch import nn


class YieldNet(nn.Module):
    """``graph``, ``smiles`` and ``human`` are encoders (or None to leave a branch out);
    each has an ``out_dim``. ``human`` returns (features, MoE auxiliary loss)."""

    def __init__(
        self,
        graph: nn.Module | None = None,
        smiles: nn.Module | None = None,
        human: nn.Module | None = None,
        fusion_hidden: tuple[int, ...] = (512, 128),
        fusion_dropout: float = 0.1,
        uq: bool = True,
    ):
        super().__init__()
        if graph is None and smiles is None and human is None:
            raise ValueError("YieldNet needs at least one of the graph, smiles and human encoders")
        self.graph, self.smiles, self.human = graph, smiles, human
        self.uq = bool(uq)
        width = sum(e.out_dim for e in (graph, smiles, human) if e is not None)
        layers = []
        for size in fusion_hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(fusion_dropout)]
            width = size
        self.fusion = nn.Sequential(*layers)
        self.head = nn.Linear(width, 2 if self.uq else 1)
        if self.uq:
            # Start near unit variance on standardized yields.
            nn.init.zeros_(self.head.bias)

    def encode(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        parts, aux = [], None
        if self.graph is not None:
            parts.append(self.graph(batch))
        if self.smiles is not None:
            parts.append(self.smiles(batch))
        if self.human is not None:
            human, aux = self.human(batch)
            parts.append(human)
        fused = torch.cat(parts, dim=1)
        return fused, aux if aux is not None else fused.new_zeros(())

    def forward(self, batch):
        """(mu, log variance or None, MoE auxiliary loss), all on the standardized yield scale."""
        fused, aux = self.encode(batch)
        out = self.head(self.fusion(fused))
        mu = out[:, 0]
        log_var = out[:, 1].clamp(-10.0, 10.0) if self.uq else None
        return mu, log_var, aux


class ContrastiveHeads(nn.Module):
    """Projections of the graph and SMILES reaction vectors into one space, plus the temperature."""

    def __init__(self, graph_dim, smiles_dim, proj_dim=128, init_temperature=0.07):
        super().__init__()
        self.graph_proj = nn.Linear(graph_dim, proj_dim)
        self.smiles_proj = nn.Linear(smiles_dim, proj_dim)
        self.log_inverse_temperature = nn.Parameter(torch.tensor(math.log(1.0 / init_temperature)))
