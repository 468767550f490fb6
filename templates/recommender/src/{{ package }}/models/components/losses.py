"""The rankers' loss: labels may be missing (NaN)."""

from __future__ import annotations

import torch


def masked_l1(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean over tasks of each task's mean absolute error on its observed labels, and the
    per-task losses (NaN for a task with no label in the batch, which then adds nothing)."""
    observed = ~torch.isnan(target)
    errors = torch.where(observed, (pred - torch.nan_to_num(target)).abs(), torch.zeros_like(pred))
    counts = observed.sum(0)
    per_task = errors.sum(0) / counts.clamp(min=1)
    has_labels = counts > 0
    if not bool(has_labels.any()):
        return pred.sum() * 0.0, torch.full_like(per_task, float("nan"))
    total = per_task[has_labels].mean()
    return total, torch.where(has_labels, per_task, torch.full_like(per_task, float("nan")))
