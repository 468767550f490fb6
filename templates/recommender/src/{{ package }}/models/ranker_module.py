"""The Lightning module every ``configs/ranker/*.yaml`` builds: any network that maps
inputs to one value per task, trained on standardised labels with the masked L1 loss."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

from .components.losses import masked_l1


def property_metrics(pred: np.ndarray, y: np.ndarray, tasks: list[str]) -> dict[str, dict[str, float]]:
    """MAE and R² per task, on its observed labels, in the labels' own units."""
    y = np.asarray(y, dtype=np.float64)
    metrics = {}
    for t, task in enumerate(tasks):
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


class RankerLitModule(L.LightningModule):
    """``net`` maps (batch, input_dim) to (batch, len(tasks)) standardised predictions.
    ``optimizer`` and ``scheduler`` are partials (``_partial_: true``). Each task's
    label mean and spread, taken from the training rows when fitting starts, are
    buffers: a checkpoint predicts in the labels' units with nothing else.
    ``build_config`` is the resolved config this module was built from, kept in every
    checkpoint so that the rank and eval steps rebuild it from the file alone."""

    def __init__(self, net: torch.nn.Module, optimizer, scheduler=None, name: str = "ranker",
                 tasks: list[str] | tuple = (), context_categories: list | tuple = (), build_config: str | None = None):
        super().__init__()
        self.save_hyperparameters(logger=False, ignore=["net", "optimizer", "scheduler", "build_config"])
        self.net = net
        self.tasks = list(tasks)
        self.context_categories = list(context_categories)
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.build_config = build_config
        self.register_buffer("target_mean", torch.zeros(len(self.tasks)))
        self.register_buffer("target_std", torch.ones(len(self.tasks)))
        self._test_outputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        if stage == "fit" and datamodule is not None:
            mean, std = datamodule.target_stats()
            self.target_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
            self.target_std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions in the labels' units."""
        return self.net(x) * self.target_std + self.target_mean

    def _loss(self, batch):
        x, y = batch
        return masked_l1(self.net(x), (y - self.target_mean) / self.target_std)

    def training_step(self, batch, batch_idx):
        loss, _ = self._loss(batch)
        self.log("train/loss", loss, on_step=False, on_epoch=True, batch_size=len(batch[0]))
        return loss

    def validation_step(self, batch, batch_idx):
        loss, _ = self._loss(batch)
        self.log("val/loss", loss, batch_size=len(batch[0]))

    def test_step(self, batch, batch_idx):
        loss, _ = self._loss(batch)
        self.log("test/loss", loss, batch_size=len(batch[0]))
        self._test_outputs.append((self(batch[0]).detach().cpu(), batch[1].cpu()))

    def on_test_epoch_end(self):
        pred = torch.cat([p for p, _ in self._test_outputs]).numpy()
        y = torch.cat([t for _, t in self._test_outputs]).numpy()
        self._test_outputs.clear()
        for task, values in property_metrics(pred, y, self.tasks).items():
            self.log_dict({f"test/{task}/mae": values["mae"], f"test/{task}/r2": values["r2"]})

    def configure_optimizers(self):
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": self.scheduler_factory(optimizer=optimizer), "interval": "epoch"}}

    def on_save_checkpoint(self, checkpoint):
        checkpoint["build_config"] = self.build_config

    def predict_properties(self, x, context=None) -> np.ndarray:
        """Property values for embeddings ``x`` (numpy), with the context the ranker was
        trained with (one category for all rows, or one per row)."""
        from ..datamodule import model_inputs

        inputs = torch.from_numpy(model_inputs(x, context, self.context_categories))
        self.eval()
        with torch.no_grad():
            return self(inputs.to(self.device)).cpu().numpy().astype(np.float64)


def load_ranker(path, embeddings_digest: str) -> RankerLitModule:
    """A ranker from a Lightning checkpoint of ``train``: rebuilt from the config it keeps,
    refused unless it learnt from the embeddings with ``embeddings_digest``."""
    from ..artifacts import StepError, check_trained_on
    from ..checkpoints import load_rebuilt
    from ..datamodule import EmbeddingDataModule

    model, checkpoint = load_rebuilt(path, StepError, made_by="train step",
                                     missing="run the `train` step first (with the same data/encoder/ranker settings)")
    check_trained_on(checkpoint.get(EmbeddingDataModule.__qualname__), embeddings_digest, path)
    return model
