"""Pictures and tables: a 2-D map of the embeddings and the recall list."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def project_2d(embeddings: np.ndarray, method: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """2-D coordinates by UMAP (``auto`` uses it when installed) or PCA."""
    embeddings = np.asarray(embeddings, dtype=np.float64)
    if method in ("auto", "umap") and len(embeddings) > 15:
        try:
            import umap
        except ImportError:
            if method == "umap":
                raise RuntimeError("method=umap needs `pip install umap-learn`") from None
        else:
            reducer = umap.UMAP(n_components=2, metric="cosine", random_state=seed)
            return reducer.fit_transform(embeddings), "UMAP"
    centred = embeddings - embeddings.mean(axis=0)
    if len(centred) < 2:
        return np.zeros((len(centred), 2)), "PCA"
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((len(coords), 2 - coords.shape[1]))])
    # SVD signs are arbitrary; fix them so the same data always gives the same picture
    signs = np.sign(coords[np.argmax(np.abs(coords), axis=0), range(2)])
    return coords * np.where(signs == 0, 1, signs), "PCA"


def embedding_map(embeddings, colour_values, path: Path, *, title: str = "", highlight: dict | None = None,
                  method: str = "auto", seed: int = 0) -> str:
    """Scatter of the library, coloured by a category (crystal system) or a number
    (a property); ``highlight`` maps labels to row indices (query, recalled). Returns
    the projection used."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    coords, used = project_2d(embeddings, method, seed)
    fig, ax = plt.subplots(figsize=(7, 5.5), dpi=120)
    values = list(colour_values)
    numeric = all(isinstance(v, (int, float)) for v in values)
    if numeric:
        data = np.array(values, dtype=float)
        points = ax.scatter(coords[:, 0], coords[:, 1], c=data, s=14, cmap="viridis", alpha=0.85)
        fig.colorbar(points, ax=ax)
    else:
        for category in sorted(set(map(str, values))):
            rows = [i for i, v in enumerate(values) if str(v) == category]
            ax.scatter(coords[rows, 0], coords[rows, 1], s=14, alpha=0.85, label=category)
        ax.legend(fontsize=7, loc="best", frameon=False)
    markers = iter(("*", "o", "s", "^"))
    for label, rows in (highlight or {}).items():
        rows = list(rows)
        if rows:
            ax.scatter(coords[rows, 0], coords[rows, 1], s=90, marker=next(markers, "x"), facecolors="none",
                       edgecolors="black", linewidths=1.2, label=label)
    if highlight:
        ax.legend(fontsize=7, loc="best", frameon=False)
    ax.set_xlabel(f"{used} 1")
    ax.set_ylabel(f"{used} 2")
    ax.set_title(title or f"Embedding map ({used})")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return used


def markdown_table(rows: list[dict], columns: list[str], digits: int = 3) -> str:
    def cell(value):
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.{digits}f}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"
