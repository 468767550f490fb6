"""The multimodal yield model: any subset of the three encoders, fused, with a (mu, log var) head."""

from __future__ import annotations

import math

import torch
from torch import nn

from .encoders import HumanFeatureEncoder, ReactionGraphEncoder, SmilesEncoder


class YieldModel(nn.Module):
    def __init__(self, cfg, *, atom_dim, bond_dim, vocab_size, pad_id):
        """``cfg``: the ``model`` config (branches, graph, smiles, human, fusion, uq)."""
        super().__init__()
        branches = cfg.branches
        if not (branches.graph or branches.smiles or branches.human):
            raise ValueError("model.branches: enable at least one of graph, smiles, human")
        self.uq = bool(cfg.uq)
        self.graph = self.smiles = self.human = None
        width = 0
        if branches.graph:
            g = cfg.graph
            self.graph = ReactionGraphEncoder(
                atom_dim, bond_dim, g.hidden, g.steps, g.set2set_steps, g.out_dim
            )
            width += self.graph.out_dim
        if branches.smiles:
            s = cfg.smiles
            self.smiles = SmilesEncoder(
                vocab_size, s.max_len, s.d_model, s.n_heads, s.n_layers, s.ff_dim, s.dropout, pad_id
            )
            width += self.smiles.out_dim
        if branches.human:
            h = cfg.human
            self.human = HumanFeatureEncoder(h.n_bits, h.hidden, h.n_blocks, h.n_experts, h.top_k, h.dropout)
            width += self.human.out_dim
        layers = []
        for size in cfg.fusion.hidden:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(cfg.fusion.dropout)]
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
