"""embed: ``materials.jsonl`` -> ``<run>/embeddings.npy``, ``ids.json``, ``encoder.pkl``
(the fitted encoder, for queries) and ``map.png``, with the encoder ``encoder=`` builds.

    python -m <package>.embed [encoder=mat2vec]
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from hydra.utils import instantiate

from . import encoders as enc
from .artifacts import StepError, atomic_write, materials_file, read_materials, save_array, write_text
from .entry import step_main


def encoder_inputs(encoder, materials, records) -> list:
    try:
        return [enc.view(m, encoder.needs, r.get("description"), r.get("composition_text"))
                for m, r in zip(materials, records)]
    except ValueError as exc:
        raise StepError(str(exc)) from None


def colours(records, color_by: str) -> list:
    """What the maps colour each material by: a category or a property value."""
    if color_by in ("crystal_system", "formula"):
        return [r[color_by] for r in records]
    if any(color_by in r["meta"] for r in records):  # e.g. prototype, or a text column of the CSV
        return [r["meta"].get(color_by, "unknown") for r in records]
    values = [r["properties"].get(color_by) for r in records]
    if all(v is None for v in values):
        raise StepError(f"plot.color_by={color_by!r} is neither crystal_system, a text column nor a property")
    return [math.nan if v is None else float(v) for v in values]


def run(cfg) -> Path:
    from .plots import embedding_map

    materials, records = read_materials(materials_file(cfg))
    try:
        encoder = instantiate(cfg.encoder)
    except Exception as exc:  # a bad option: instantiate wraps the constructor's own error
        raise StepError(f"encoder={cfg.encoder.name}: {exc}") from None
    inputs = encoder_inputs(encoder, materials, records)
    encoder.fit(inputs)
    embeddings = encoder.encode(inputs)
    out = Path(cfg.paths.run)
    save_array(out / "embeddings.npy", embeddings)
    write_text(out / "ids.json", json.dumps([m.id for m in materials]))
    atomic_write(out / "encoder.pkl", encoder.save)
    used = embedding_map(embeddings, colours(records, cfg.plot.color_by), out / "map.png", method=cfg.plot.method,
                         seed=cfg.seed,
                         title=f"{encoder.name} embeddings of {len(materials)} materials by {cfg.plot.color_by}")
    print(f"embedded {len(materials)} materials with {encoder.name}: {embeddings.shape[1]} dimensions "
          f"-> {out / 'embeddings.npy'} (map: {used})")
    return out / "embeddings.npy"


main = step_main(run)

if __name__ == "__main__":
    main()
