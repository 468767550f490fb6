"""The three reaction encoders: molecular graph, SMILES transformer, human features (MoE)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MoleculeGraphEncoder(nn.Module):
    """Edge-conditioned message passing (one shared NNConv + GRU, ``steps`` times), Set2Set readout."""

    def __init__(self, atom_dim, bond_dim, hidden=64, steps=3, set2set_steps=3, out_dim=1024):
        super().__init__()
        from torch_geometric.nn import NNConv, Set2Set

        self.steps = steps
        self.embed = nn.Sequential(nn.Linear(atom_dim, hidden), nn.ReLU())
        edge_network = nn.Linear(bond_dim, hidden * hidden)
        self.conv = NNConv(hidden, hidden, edge_network, aggr="add", root_weight=False)
        self.gru = nn.GRU(hidden, hidden)
        # The readout sees the initial and the final node states side by side.
        self.readout = Set2Set(2 * hidden, processing_steps=set2set_steps)
        self.project = nn.Sequential(nn.Linear(4 * hidden, out_dim), nn.PReLU())

    def forward(self, graphs) -> torch.Tensor:
        h0 = self.embed(graphs.x)
        h, state = h0, h0.unsqueeze(0)
        # Bond feature vectors take few distinct values (8 in Buchwald-Hartwig's 1400
        # bonds), so the edge network's weights are computed once per kind of bond.
        kinds, kind_of_edge = torch.unique(graphs.edge_attr, dim=0, return_inverse=True)
        for _ in range(self.steps):
            message = F.relu(edge_conditioned_conv(self.conv, h, graphs.edge_index, kinds, kind_of_edge))
            out, state = self.gru(message.unsqueeze(0), state)
            h = out.squeeze(0)
        pooled = self.readout(torch.cat([h0, h], dim=1), graphs.batch, dim_size=graphs.num_graphs)
        return self.project(pooled)


def edge_conditioned_conv(conv, h, edge_index, kinds, kind_of_edge) -> torch.Tensor:
    """``conv(h, edge_index, edge_attr)`` of an ``NNConv(aggr="add", root_weight=False)``,
    where ``edge_attr == kinds[kind_of_edge]``, computed once per distinct bond kind.

    NNConv builds an (in x out) weight matrix for every edge from its features and
    multiplies each source node by its own copy: for Buchwald-Hartwig batches that is
    1400 matrices of 64x64 and most of an epoch's time. With k kinds of bond, the k
    matrices are applied to every node at once and each edge picks its row.
    """
    n_kinds, width = len(kinds), conv.out_channels
    weights = conv.nn(kinds).view(n_kinds, conv.in_channels, width).permute(1, 0, 2)
    per_kind = (h @ weights.reshape(conv.in_channels, n_kinds * width)).view(len(h), n_kinds, width)
    source, target = edge_index
    messages = per_kind[source, kind_of_edge]
    out = h.new_zeros(len(h), width).index_add_(0, target, messages)
    return out if conv.bias is None else out + conv.bias


class ReactionGraphEncoder(nn.Module):
    """Encode each distinct molecule of a batch once; reaction = sum(reactants) || sum(products)."""

    def __init__(self, atom_dim, bond_dim, hidden=64, steps=3, set2set_steps=3, out_dim=1024):
        super().__init__()
        self.molecule = MoleculeGraphEncoder(atom_dim, bond_dim, hidden, steps, set2set_steps, out_dim)
        self.out_dim = 2 * out_dim

    def forward(self, batch) -> torch.Tensor:
        molecules = self.molecule(batch["graphs"])
        return torch.cat([batch["reactant_counts"] @ molecules, batch["product_counts"] @ molecules], dim=1)


class SmilesEncoder(nn.Module):
    """Transformer over reaction-SMILES tokens; the [CLS] position is pooled."""

    def __init__(
        self, vocab_size, max_len=512, d_model=128, n_heads=4, n_layers=1, ff_dim=256, dropout=0.1, pad_id=0
    ):
        super().__init__()
        self.pad_id = pad_id
        self.max_len = max_len
        self.tokens = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        self.positions = nn.Embedding(max_len, d_model)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, ff_dim, dropout, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.pooler = nn.Sequential(nn.Linear(d_model, d_model), nn.Tanh())
        self.out_dim = d_model

    def forward(self, batch) -> torch.Tensor:
        tokens = batch["tokens"][:, : self.max_len]
        padding = tokens.eq(self.pad_id)
        *inner, last = self.encoder.layers
        if not inner and not last.norm_first:
            cls = first_position_from_embeddings(last, self.tokens, self.positions, tokens, padding, self.dropout)
            return self.pooler(self.norm(cls))
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.dropout(self.tokens(tokens) + self.positions(positions)[None])
        for layer in inner:
            x = layer(x, src_key_padding_mask=padding)
        return self.pooler(self.norm(first_position_only(last, x, padding)))


def first_position_from_embeddings(layer, token_embedding, position_embedding, tokens, padding, dropout):
    """``layer(dropout(token_embedding(tokens) + position_embedding(positions)))[:, 0]`` of a
    post-norm layer that reads the embeddings directly (a 1-layer encoder), without
    projecting every token.

    A key or value is linear in its input, so with the input a token's embedding plus
    its position's, every key and value is a row of a (vocabulary x width) table plus a
    row of a (length x width) table. The [CLS] query scores the tables' rows once and
    each token picks its score; the attention weights are summed per vocabulary entry
    and per position and multiplied by the value tables. No (batch x tokens x width)
    tensor is formed: the SMILES branch of a training step fell from 101 to 5 ms.

    In eval mode this equals the layer (tested). In training the embedding dropout
    reaches the [CLS] query alone, since the keys and values are never formed token by
    token; the attention dropout on their weights stays.
    """
    attention = layer.self_attn
    width, heads = attention.embed_dim, attention.num_heads
    head_width = width // heads
    weight, bias = attention.in_proj_weight, attention.in_proj_bias
    w_query, w_key, w_value = weight.split(width)
    n, length = tokens.shape
    vocabulary = len(token_embedding.weight)
    positions = position_embedding.weight[:length]

    first = dropout(token_embedding(tokens[:, 0]) + positions[0])
    query = F.linear(first, w_query, bias[:width]).view(n, heads, head_width) * head_width**-0.5

    def per_head(rows, w):
        return (rows @ w.t()).view(len(rows), heads, head_width)

    # The key bias adds the same score to every token of a row: softmax ignores it.
    index = tokens[:, None, :].expand(n, heads, length)
    scores = torch.einsum("bhe,vhe->bhv", query, per_head(token_embedding.weight, w_key)).gather(2, index)
    scores = scores + torch.einsum("bhe,lhe->bhl", query, per_head(positions, w_key))
    weights = F.softmax(scores.masked_fill(padding[:, None, :], float("-inf")), dim=-1)
    weights = F.dropout(weights, attention.dropout, layer.training)
    by_token = weights.new_zeros(n, heads, vocabulary).scatter_add_(2, index, weights)
    attended = (
        torch.einsum("bhv,vhe->bhe", by_token, per_head(token_embedding.weight, w_value))
        + torch.einsum("bhl,lhe->bhe", weights, per_head(positions, w_value))
        + weights.sum(-1, keepdim=True) * bias[2 * width:].view(heads, head_width)
    )
    h = layer.norm1(first + layer.dropout1(attention.out_proj(attended.reshape(n, width))))
    return layer.norm2(h + feed_forward(layer, h))


def feed_forward(layer: nn.TransformerEncoderLayer, h) -> torch.Tensor:
    """The layer's feed-forward block with its dropouts, as the layer applies it."""
    return layer.dropout2(layer.linear2(layer.dropout(layer.activation(layer.linear1(h)))))


def first_position_only(layer: nn.TransformerEncoderLayer, x, padding) -> torch.Tensor:
    """``layer(x)[:, 0]`` computed for the first position alone.

    The pooler reads only [CLS], so the last layer needs one query attending over all
    keys: this skips the quadratic attention and the feed-forward of every other
    token, which is most of the SMILES branch's cost with one layer.
    """
    def attend(query, memory):
        out = layer.self_attn(query, memory, memory, key_padding_mask=padding, need_weights=False)[0]
        return layer.dropout1(out)

    h = x[:, :1]
    if layer.norm_first:
        memory = layer.norm1(x)
        h = h + attend(memory[:, :1], memory)
        h = h + feed_forward(layer, layer.norm2(h))
    else:
        h = layer.norm1(h + attend(h, x))
        h = layer.norm2(h + feed_forward(layer, h))
    return h[:, 0]


class MixtureOfExperts(nn.Module):
    """Softmax-gated experts; optional top-k routing renormalised over the kept experts."""

    def __init__(self, dim, n_experts=4, hidden=None, top_k=None, dropout=0.1):
        super().__init__()
        hidden = hidden or 2 * dim
        self.n_experts = n_experts
        self.top_k = top_k if top_k and top_k < n_experts else None
        self.gate = nn.Linear(dim, n_experts)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, dim))
            for _ in range(n_experts)
        )

    def gates(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """(routing weights used, full softmax probabilities); each row of both sums to 1."""
        probs = F.softmax(self.gate(x), dim=-1)
        if self.top_k is None:
            return probs, probs
        top_values, top_index = probs.topk(self.top_k, dim=-1)
        weights = torch.zeros_like(probs).scatter(-1, top_index, top_values)
        return weights / weights.sum(-1, keepdim=True), probs

    def forward(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        weights, probs = self.gates(x)
        expert_out = torch.stack([expert(x) for expert in self.experts], dim=1)  # (B, E, D)
        out = (weights.unsqueeze(-1) * expert_out).sum(1)
        # Load balancing (Switch-Transformer style): share of rows whose top choice is e
        # times the mean probability of e; equals 1 when the load is uniform.
        share = F.one_hot(probs.argmax(-1), self.n_experts).float().mean(0)
        aux = self.n_experts * (share * probs.mean(0)).sum()
        return out, aux


class HumanFeatureEncoder(nn.Module):
    """Summed Morgan fingerprints -> dense -> residual MoE blocks."""

    def __init__(self, n_bits=1024, hidden=256, n_blocks=2, n_experts=4, top_k=None, dropout=0.1):
        super().__init__()
        self.input = nn.Sequential(nn.Linear(n_bits, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(n_blocks))
        self.blocks = nn.ModuleList(
            MixtureOfExperts(hidden, n_experts, top_k=top_k, dropout=dropout) for _ in range(n_blocks)
        )
        self.out_dim = hidden

    def forward(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.input(batch["fingerprints"])
        aux = h.new_zeros(())
        for norm, block in zip(self.norms, self.blocks):
            update, block_aux = block(norm(h))
            h = h + update
            aux = aux + block_aux
        return h, aux
