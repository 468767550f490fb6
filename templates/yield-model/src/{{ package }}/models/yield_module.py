"""Lightning modules: the yield regressor train.py fits, and the contrastive pretrainer."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

from ..uncertainty import DEFAULT_MEAN_FROM, check_mean_from
from .components.losses import contrastive_loss, heteroscedastic_loss
from .components.yield_net import ContrastiveHeads


class YieldLitModule(L.LightningModule):
    """Heteroscedastic regression of standardized yields with ``net``.

    ``optimizer`` and ``scheduler`` are partials (``_partial_: true`` in the config):
    the optimizer gets the parameters, the scheduler the optimizer. ``build_config``
    is the resolved config this module was built from; it is stored in every
    checkpoint so that ``eval.py`` can rebuild the module from the checkpoint alone.
    """

    def __init__(
        self,
        net: torch.nn.Module,
        optimizer,
        scheduler=None,
        alpha: float = 1.0,
        aux_weight: float = 0.01,
        mc_samples: int = 20,
        mean_from: str = DEFAULT_MEAN_FROM,
        build_config: dict | None = None,
    ):
        super().__init__()
        check_mean_from(mean_from)
        self.save_hyperparameters(logger=False, ignore=["net", "optimizer", "scheduler", "build_config"])
        self.net = net
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.build_config = build_config

    def forward(self, batch):
        return self.net(batch)

    def _loss(self, batch):
        mu, log_var, aux = self.net(batch)
        fit = heteroscedastic_loss(mu, log_var, batch["y"], self.hparams.alpha)
        return fit + self.hparams.aux_weight * aux, fit, mu

    def training_step(self, batch, batch_idx):
        loss, fit, _ = self._loss(batch)
        size = len(batch["y"])
        self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=size, sync_dist=True)
        self.log("train/fit", fit, on_step=False, on_epoch=True, batch_size=size, sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss, _, mu = self._loss(batch)
        size = len(batch["y"])
        self.log("val/loss", loss, batch_size=size, sync_dist=True)
        self.log("val/mse", torch.mean((mu - batch["y"]) ** 2), batch_size=size, sync_dist=True)

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer=optimizer), "interval": "epoch"}}

    def on_save_checkpoint(self, checkpoint):
        checkpoint["build_config"] = self.build_config


class ContrastivePretrainer(L.LightningModule):
    """Aligns the graph and SMILES encoders of ``net`` on training reactions (CLIP-style)."""

    def __init__(self, net, *, proj_dim=128, init_temperature=0.07, lr=1e-3):
        super().__init__()
        if net.graph is None or net.smiles is None:
            raise ValueError("contrastive pretraining needs both the graph and the SMILES encoder")
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
        return torch.optim.AdamW(params, lr=self.lr, fused=True)
