"""The files the steps hand to each other, written atomically, and the one error a
step raises for what the user can fix.

    describe: library -> <library>/materials.jsonl (structures, properties, texts)
    embed:    materials -> <run>/embeddings.npy, ids.json, encoder.pkl, map.png
    recall:   query -> <run>/recall.csv, recall.md, query.json, recall_map.png
    train:    embeddings + labels -> <run>/rankers/<ranker>/ranker.ckpt, metrics.json
    rank:     recall + ranker -> <run>/rankers/<ranker>/ranking.csv, ranking.md
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path

from .structures import Material


class StepError(Exception):
    """A problem the user can fix (missing input, bad setting): reported in one line."""


def atomic_write(path: Path, write) -> None:
    """``write(tmp)`` fills a temporary file beside ``path``, which then replaces it:
    a step that fails half-way leaves the previous artifact, never half of a new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_array(path: Path, array) -> None:
    import numpy as np

    def write(tmp: Path):
        with open(tmp, "wb") as fh:  # np.save(path) would append ".npy" to the temporary name
            np.save(fh, array)

    atomic_write(path, write)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_csv(path: Path, rows: list[dict]) -> None:
    def write(tmp: Path):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["rank"])
            writer.writeheader()
            writer.writerows(rows)

    atomic_write(path, write)


def require(path: Path, step: str) -> Path:
    if not Path(path).exists():
        raise StepError(f"{path} not found: run the `{step}` step first (with the same data/encoder settings)")
    return Path(path)


def materials_file(cfg) -> Path:
    return Path(cfg.paths.library) / "materials.jsonl"


def read_materials(path: Path) -> tuple[list[Material], list[dict]]:
    """The library as ``describe`` wrote it: materials and their JSON records."""
    from pymatgen.core import Structure

    materials, records = [], []
    with open(require(path, "describe"), encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            properties = {k: (math.nan if v is None else v) for k, v in record["properties"].items()}
            materials.append(Material(record["id"], Structure.from_dict(record["structure"]), properties,
                                      record["meta"]))
            records.append(record)
    return materials, records


def embeddings_digest(embeddings) -> str:
    """What a ranker checkpoint records of the embeddings it was trained on: ``embed``
    run again with other settings writes into the same run folder, and a ranker trained
    before would take the new vectors for the ones it learnt from without any error."""
    import hashlib

    import numpy as np

    array = np.ascontiguousarray(embeddings)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def check_trained_on(state: dict | None, digest: str, checkpoint) -> None:
    """Refuse ``checkpoint`` (its data module's ``state``) where its ranker learnt from
    other embeddings than those with ``digest``. Checkpoints from before the digest was
    kept have no record and pass."""
    recorded = (state or {}).get("embeddings_digest")
    if recorded and recorded != digest:
        raise StepError(f"{checkpoint} was trained on other embeddings than the run folder holds now "
                        "(`embed` ran again since): run the `train` step again")


def load_embeddings(run_dir: Path):
    """(embeddings, ids) as ``embed`` wrote them into ``run_dir``."""
    import numpy as np

    run_dir = Path(run_dir)
    embeddings = np.load(require(run_dir / "embeddings.npy", "embed"))
    ids = json.loads((run_dir / "ids.json").read_text(encoding="utf-8"))
    return embeddings, ids
