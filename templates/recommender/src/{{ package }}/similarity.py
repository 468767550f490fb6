"""Cosine top-k recall: one matrix product against L2-normalised library embeddings."""

from __future__ import annotations

import numpy as np


def top_k(queries, library, k: int = 100, exclude=None) -> tuple[np.ndarray, np.ndarray]:
    """Indices and cosine similarities of the ``k`` nearest library rows for each query.

    ``queries`` is (d,) or (q, d); ``library`` (n, d); both unit-length rows (cosine
    similarity is then their dot product). ``exclude`` gives, per query, library indices
    never to return (e.g. the query itself): an int, a list of ints, or None. Ties keep
    library order, so results do not depend on the BLAS or the partition algorithm.
    Returns arrays of shape (q, k') with k' = min(k, n - excluded), best first.
    """
    queries = np.asarray(queries, dtype=np.float32)
    single = queries.ndim == 1
    queries = np.atleast_2d(queries)
    library = np.asarray(library, dtype=np.float32)
    if queries.shape[1] != library.shape[1]:
        raise ValueError(f"query dimension {queries.shape[1]} != library dimension {library.shape[1]}")
    if k < 1:
        raise ValueError("k must be at least 1")
    similarities = queries @ library.T
    exclusions = _per_query(exclude, len(queries))
    out_index, out_sim = [], []
    for row, sims in enumerate(similarities):
        drop = exclusions[row]
        if drop:
            sims = sims.copy()
            sims[drop] = -np.inf
        available = len(sims) - len(set(drop))
        kk = min(k, available)
        order = _stable_top(sims, kk)
        out_index.append(order)
        out_sim.append(sims[order])
    width = min(len(o) for o in out_index)
    index = np.stack([o[:width] for o in out_index])
    sims = np.stack([s[:width] for s in out_sim])
    return (index[0], sims[0]) if single else (index, sims)


def _stable_top(sims: np.ndarray, k: int) -> np.ndarray:
    if k >= len(sims):
        candidates = np.arange(len(sims))
    else:
        threshold = np.partition(sims, len(sims) - k)[len(sims) - k]
        candidates = np.flatnonzero(sims >= threshold)
    order = candidates[np.lexsort((candidates, -sims[candidates]))]
    return order[:k]


def _per_query(exclude, n_queries: int) -> list[list[int]]:
    if exclude is None:
        return [[] for _ in range(n_queries)]
    if np.isscalar(exclude):
        return [[int(exclude)] for _ in range(n_queries)]
    exclude = list(exclude)
    if n_queries == 1 and exclude and np.isscalar(exclude[0]):
        return [[int(i) for i in exclude]]
    if len(exclude) != n_queries:
        raise ValueError("exclude needs one entry per query")
    return [[] if e is None else ([int(e)] if np.isscalar(e) else [int(i) for i in e]) for e in exclude]
