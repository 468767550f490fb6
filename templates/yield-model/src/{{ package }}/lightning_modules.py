"""Lightning wrappers: data module, yield regressor, contrastive pretrainer."""

from __future__ import annotations

from dataclasses import dataclass

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader

from .data import ReactionCollator
from .featurization import featurize_reactions
from .models.losses import contrastive_loss, heteroscedastic_loss
from .models.yield_model import ContrastiveHeads
from .tokenizer import SmilesTokenizer


@dataclass
class PreparedData:
    """Every reaction of a split, featurized once; rows < n_train are training rows."""

    table: object
    tokenizer: SmilesTokenizer
    tokens: torch.Tensor
    fingerprints: torch.Tensor
    targets: torch.Tensor  # standardized yields
    yields: np.ndarray  # raw yields
    n_train: int
    y_mean: float
    y_std: float

    @property
    def train_rows(self) -> np.ndarray:
        return np.arange(self.n_train)

    @property
    def test_rows(self) -> np.ndarray:
        return np.arange(self.n_train, len(self.yields))


def prepare(split, model_cfg, *, cache_dir=None, tokenizer=None, elements=None, y_stats=None) -> PreparedData:
    """Featurize train+test; the tokenizer vocabulary and yield scaling come from training rows only."""
    rxn = list(split.train["rxn"]) + list(split.test["rxn"])
    yields = np.concatenate([split.train["yield"].to_numpy(), split.test["yield"].to_numpy()]).astype(np.float64)
    n_train = len(split.train)
    table = featurize_reactions(
        rxn, radius=model_cfg.human.radius, n_bits=model_cfg.human.n_bits, cache_dir=cache_dir, elements=elements
    )
    tokenizer = tokenizer or SmilesTokenizer.build(rxn[:n_train])
    tokens = tokenizer.encode_batch(rxn, model_cfg.smiles.max_len)
    fingerprints = torch.from_numpy(table.summed_fingerprints())
    if y_stats is None:
        y_mean = float(yields[:n_train].mean())
        y_std = float(yields[:n_train].std()) or 1.0
    else:
        y_mean, y_std = y_stats
    targets = torch.tensor((yields - y_mean) / y_std, dtype=torch.float32)
    return PreparedData(table, tokenizer, tokens, fingerprints, targets, yields, n_train, y_mean, y_std)


class ReactionDataModule(L.LightningDataModule):
    def __init__(self, prepared: PreparedData, batch_size=64, num_workers=0, with_graphs=True, val_fraction=0.0, seed=0):
        super().__init__()
        self.prepared = prepared
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.collate = ReactionCollator(
            prepared.table, prepared.tokens, prepared.fingerprints, prepared.targets, with_graphs=with_graphs
        )
        train = prepared.train_rows
        n_val = int(round(val_fraction * len(train)))
        if n_val:
            train = np.random.default_rng(seed).permutation(train)
            self.val_rows, self.fit_rows = np.sort(train[:n_val]), np.sort(train[n_val:])
        else:
            self.val_rows, self.fit_rows = None, train

    def _loader(self, rows, shuffle):
        return DataLoader(
            rows.tolist(),
            batch_size=self.batch_size,
            shuffle=shuffle,
            collate_fn=self.collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self):
        return self._loader(self.fit_rows, True)

    def val_dataloader(self):
        return self._loader(self.val_rows, False) if self.val_rows is not None else None

    def test_dataloader(self):
        return self._loader(self.prepared.test_rows, False)


class YieldRegressor(L.LightningModule):
    def __init__(self, net, *, lr=1e-3, weight_decay=1e-5, alpha=1.0, aux_weight=0.01, scheduler="cosine"):
        super().__init__()
        self.net = net
        self.lr = lr
        self.weight_decay = weight_decay
        self.alpha = alpha
        self.aux_weight = aux_weight
        self.scheduler = scheduler

    def _loss(self, batch):
        mu, log_var, aux = self.net(batch)
        fit = heteroscedastic_loss(mu, log_var, batch["y"], self.alpha)
        return fit + self.aux_weight * aux, fit, mu

    def training_step(self, batch, batch_idx):
        loss, fit, _ = self._loss(batch)
        self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=len(batch["y"]))
        self.log("train/fit", fit, on_step=False, on_epoch=True, batch_size=len(batch["y"]))
        return loss

    def validation_step(self, batch, batch_idx):
        loss, _, mu = self._loss(batch)
        self.log("val/loss", loss, batch_size=len(batch["y"]))
        self.log("val/mse", torch.mean((mu - batch["y"]) ** 2), batch_size=len(batch["y"]))

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        if self.scheduler != "cosine":
            return optimizer
        max_epochs = self.trainer.max_epochs if self.trainer.max_epochs and self.trainer.max_epochs > 0 else 100
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs, eta_min=self.lr * 0.01)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": cosine, "interval": "epoch"}}


class ContrastivePretrainer(L.LightningModule):
    """Aligns the graph and SMILES encoders of ``net`` on training reactions (CLIP-style)."""

    def __init__(self, net, *, proj_dim=128, init_temperature=0.07, lr=1e-3):
        super().__init__()
        if net.graph is None or net.smiles is None:
            raise ValueError("contrastive pretraining needs both the graph and the SMILES branch")
        self.net = net
        self.heads = ContrastiveHeads(net.graph.out_dim, net.smiles.out_dim, proj_dim, init_temperature)
        self.lr = lr

    def training_step(self, batch, batch_idx):
        graph = self.heads.graph_proj(self.net.graph(batch))
        smiles = self.heads.smiles_proj(self.net.smiles(batch))
        loss = contrastive_loss(graph, smiles, self.heads.log_inverse_temperature)
        self.log("pretrain/loss", loss, on_step=False, on_epoch=True, batch_size=len(batch["y"]))
        return loss

    def on_before_optimizer_step(self, optimizer):
        # Keep the logit scale bounded as CLIP does (temperature >= 0.01).
        with torch.no_grad():
            self.heads.log_inverse_temperature.clamp_(max=float(np.log(100.0)))

    def configure_optimizers(self):
        params = [p for m in (self.net.graph, self.net.smiles, self.heads) for p in m.parameters()]
        return torch.optim.AdamW(params, lr=self.lr)
