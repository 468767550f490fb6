"""MC-dropout inference: T stochastic passes -> mean, epistemic and aleatoric variance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


DEFAULT_MEAN_FROM = "deterministic"
MEAN_FROM = (DEFAULT_MEAN_FROM, "samples")


def check_mean_from(mean_from: str) -> None:
    if mean_from not in MEAN_FROM:
        raise ValueError(f"mean_from must be one of {', '.join(MEAN_FROM)}, not {mean_from!r}")


def mc_dropout_predict(net, loader, *, samples: int, y_mean: float, y_std: float, device="cpu",
                       mean_from: str = DEFAULT_MEAN_FROM, description: str = "MC-dropout") -> Predictions:
    """``samples`` passes with dropout active; ``samples <= 1`` gives one deterministic pass.

    The variances come from the stochastic passes. The predicted yield does too with
    ``mean_from="samples"``; by default it is one more pass with dropout off. Through a
    nonlinear network the passes' average is a different prediction, not a less noisy one:
    on Buchwald-Hartwig's random FullCV splits it was the less accurate of the two, on
    unseen additives the more accurate (README).
    The model has no batch-norm, so train mode only switches dropout on.
    """
    check_mean_from(mean_from)
    # imported here: a multirun's summary (ensembles, recalibration) needs no torch
    import torch

    was_training = net.training
    net.to(device)
    stochastic = samples > 1
    net.train(stochastic)
    passes = max(1, samples)
    deterministic_mean = stochastic and mean_from == "deterministic"
    means, epistemic, aleatoric = [], [], []
    try:
        with torch.no_grad(), progress(description, len(loader) * (passes + deterministic_mean), "batch passes") as bar:
            for batch in loader:
                batch = _to_device(batch, device)
                mus, variances = [], []
                for _ in range(passes):
                    mu, log_var, _ = net(batch)
                    mus.append(mu)
                    variances.append(torch.exp(log_var) if log_var is not None else torch.zeros_like(mu))
                    bar.advance()
                mus = torch.stack(mus)
                if deterministic_mean:
                    net.eval()
                    means.append(net(batch)[0])
                    net.train()
                    bar.advance()
                else:
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


def coverage_stretch(ratio, coverage: float) -> float:
    """Factor on a predicted std that makes ``coverage`` of the normal intervals hold,
    given each held-out row's |error| / std."""
    from scipy.stats import norm

    return float(np.quantile(ratio, coverage) / norm.ppf(0.5 + coverage / 2))


def variance_scale(y, predictions: Predictions, coverage: float = 0.95) -> float:
    """Factor on the predicted variance that makes ``coverage`` of the normal intervals
    hold on (y, predictions): rows held out from training, never the test rows."""
    std = np.sqrt(predictions.total_variance)
    usable = std > 0
    if usable.sum() < 2:
        return 1.0
    ratio = np.abs(np.asarray(y, dtype=float)[usable] - predictions.mean[usable]) / std[usable]
    return coverage_stretch(ratio, coverage) ** 2


def rescaled(predictions: Predictions, factor: float) -> Predictions:
    return Predictions(predictions.mean, predictions.epistemic * factor, predictions.aleatoric * factor)


# Below this many held-out rows the error model's four coefficients are not fitted; one
# factor on the variance is.
ERROR_MODEL_MIN_ROWS = 100
# Yields are percentages: errors under half a percent are measurement noise, and the log
# of an exact zero would dominate the fit.
ERROR_FLOOR = 0.5


@dataclass
class Recalibration:
    """The predicted variance, refitted on rows held out from training.

    The model's own variance is learnt from training rows, whose residuals shrink as
    training goes on, so it under-states the error and ranks it less well than it could.
    On held-out rows, ``log(|error| + 0.5)`` is regressed on the log of the predicted
    variance and on the predicted yield (linear and squared: a yield near 0 or 100 % errs
    less than one in the middle), and the fitted scale is stretched by one factor so that
    ``coverage`` of the held-out rows fall inside their intervals. With fewer than
    ``ERROR_MODEL_MIN_ROWS`` rows, only that factor is fitted (``variance_scale``).
    """

    coefficients: np.ndarray | None  # None: one factor on the variance
    factor: float

    @staticmethod
    def _design(predictions: Predictions) -> np.ndarray:
        share = np.clip(predictions.mean, *YIELD_RANGE) / YIELD_RANGE[1]
        log_variance = np.log(np.maximum(predictions.total_variance, 1e-6))
        return np.column_stack([np.ones_like(share), log_variance, share, share**2])

    @classmethod
    def fit(cls, y, predictions: Predictions, coverage: float = 0.95) -> "Recalibration":
        y = np.asarray(y, dtype=float)
        if len(y) < ERROR_MODEL_MIN_ROWS:
            return cls(None, variance_scale(y, predictions, coverage))
        design = cls._design(predictions)
        error = np.abs(y - predictions.mean)
        coefficients = np.linalg.lstsq(design, np.log(error + ERROR_FLOOR), rcond=None)[0]
        return cls(coefficients, coverage_stretch(error / np.exp(design @ coefficients), coverage))

    def __call__(self, predictions: Predictions) -> Predictions:
        if self.coefficients is None:
            return rescaled(predictions, self.factor)
        variance = (np.exp(self._design(predictions) @ self.coefficients) * self.factor) ** 2
        before = predictions.total_variance
        # each part keeps its share; a row predicted with no variance at all gets it as epistemic
        epistemic_share = np.divide(predictions.epistemic, before, out=np.ones_like(before), where=before > 0)
        return Predictions(predictions.mean, variance * epistemic_share, variance * (1 - epistemic_share))

    def describe(self) -> dict:
        """What metrics.json records of it."""
        if self.coefficients is None:
            return {"calibration": "scale", "variance_scale": self.factor}
        return {"calibration": "error_model", "error_model_coefficients": [float(c) for c in self.coefficients],
                "error_model_factor": self.factor}
