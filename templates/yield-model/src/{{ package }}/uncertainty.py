"""MC-dropout inference: T stochastic passes -> mean, epistemic and aleatoric variance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .progress import progress

YIELD_RANGE = (0.0, 100.0)


@dataclass
class Predictions:
    mean: np.ndarray  # yield scale, clipped to 0-100
    epistemic: np.ndarray  # variance across passes, yield units squared
    aleatoric: np.ndarray  # mean predicted variance, yield units squared

    @property
    def total_variance(self) -> np.ndarray:
        return self.epistemic + self.aleatoric


def _to_device(batch, device):
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}


@torch.no_grad()
def mc_dropout_predict(net, loader, *, samples: int, y_mean: float, y_std: float, device="cpu",
                       description: str = "MC-dropout") -> Predictions:
    """``samples`` passes with dropout active; ``samples <= 1`` gives one deterministic pass.

    The model has no batch-norm, so train mode only switches dropout on.
    """
    was_training = net.training
    net.to(device)
    stochastic = samples > 1
    net.train(stochastic)
    passes = max(1, samples)
    means, epistemic, aleatoric = [], [], []
    try:
        with progress(description, len(loader) * passes, "batch passes") as bar:
            for batch in loader:
                batch = _to_device(batch, device)
                mus, variances = [], []
                for _ in range(passes):
                    mu, log_var, _ = net(batch)
                    mus.append(mu)
                    variances.append(torch.exp(log_var) if log_var is not None else torch.zeros_like(mu))
                    bar.advance()
                mus = torch.stack(mus)
                means.append(mus.mean(0))
                epistemic.append(mus.var(0, unbiased=False))
                aleatoric.append(torch.stack(variances).mean(0))
    finally:
        net.train(was_training)
    mean = torch.cat(means).double().cpu().numpy() * y_std + y_mean
    scale = y_std**2
    return Predictions(
        mean=np.clip(mean, *YIELD_RANGE),
        epistemic=torch.cat(epistemic).double().cpu().numpy() * scale,
        aleatoric=torch.cat(aleatoric).double().cpu().numpy() * scale,
    )


def variance_scale(y, predictions: Predictions, coverage: float = 0.95) -> float:
    """Factor on the predicted variance that makes ``coverage`` of the normal intervals
    hold on (y, predictions): rows held out from training, never the test rows."""
    from scipy.stats import norm

    std = np.sqrt(predictions.total_variance)
    usable = std > 0
    if usable.sum() < 2:
        return 1.0
    ratio = np.abs(np.asarray(y, dtype=float)[usable] - predictions.mean[usable]) / std[usable]
    return float((np.quantile(ratio, coverage) / norm.ppf(0.5 + coverage / 2)) ** 2)


def rescaled(predictions: Predictions, factor: float) -> Predictions:
    return Predictions(predictions.mean, predictions.epistemic * factor, predictions.aleatoric * factor)
