"""Order recalled candidates by their predicted properties.

``profile``: closest predicted property profile to the query's (the paper's score),
Euclidean distance in units of each property's training spread. ``utility``: a weighted
sum of standardised predictions (e.g. +1 band gap, -1 formation energy).
"""

from __future__ import annotations

import numpy as np


def profile_distance(candidate_pred: np.ndarray, query_pred: np.ndarray, scale: np.ndarray) -> np.ndarray:
    diff = (np.asarray(candidate_pred) - np.asarray(query_pred)[None, :]) / np.asarray(scale)[None, :]
    return np.sqrt((diff ** 2).sum(axis=1))


def utility(candidate_pred: np.ndarray, weights: dict[str, float], tasks: list[str], mean: np.ndarray,
            scale: np.ndarray) -> np.ndarray:
    unknown = set(weights) - set(tasks)
    if unknown:
        raise ValueError(f"utility weights for unknown tasks {sorted(unknown)}; tasks: {tasks}")
    w = np.array([float(weights.get(t, 0.0)) for t in tasks])
    if not np.any(w):
        raise ValueError("utility ranking needs at least one non-zero weight")
    return ((np.asarray(candidate_pred) - mean[None, :]) / scale[None, :]) @ w


def order(method: str, candidate_pred, *, query_pred=None, weights=None, tasks=None, mean=None, scale=None,
          similarity=None) -> tuple[np.ndarray, np.ndarray]:
    """(order of candidates best first, score used). Ties fall back to recall similarity,
    then to recall order."""
    n = len(candidate_pred)
    similarity = np.zeros(n) if similarity is None else np.asarray(similarity, dtype=np.float64)
    if method == "profile":
        if query_pred is None:
            raise ValueError("profile ranking needs the query's predicted properties")
        score = -profile_distance(candidate_pred, query_pred, scale)
    elif method == "utility":
        score = utility(candidate_pred, weights or {}, tasks, mean, scale)
    else:
        raise ValueError(f"unknown ranking method {method!r} (profile or utility)")
    ranking = np.lexsort((np.arange(n), -similarity, -score))
    return ranking, score
