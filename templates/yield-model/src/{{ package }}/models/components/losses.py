"""Training objectives: heteroscedastic regression and CLIP-style contrastive alignment."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def heteroscedastic_loss(mu, log_var, y, alpha: float = 1.0) -> torch.Tensor:
    """``(1-alpha)*MSE + alpha*mean(exp(-s)*(y-mu)^2 + s)`` with s = log sigma^2.

    alpha=1 is the pure Gaussian negative log-likelihood (up to constants); a model
    without an uncertainty head (``log_var is None``) is trained on the MSE alone.
    """
    squared = (y - mu) ** 2
    mse = squared.mean()
    if log_var is None:
        return mse
    nll = (torch.exp(-log_var) * squared + log_var).mean()
    return (1.0 - alpha) * mse + alpha * nll


def contrastive_loss(a, b, log_inverse_temperature) -> torch.Tensor:
    """Symmetric cross-entropy over cosine similarities; row i of ``a`` matches row i of ``b``."""
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    logits = a @ b.t() * log_inverse_temperature.exp()
    target = torch.arange(a.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
