"""recall: the query (a library id or formula, or a structure file) -> the ``recall.k``
most similar materials by cosine similarity: ``<run>/recall.csv``, ``recall.md``,
``query.json``, ``recall_map.png``.

    python -m <package>.recall query.id=PbTe
    python -m <package>.recall query.structure=cifs/PbTe.cif
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import encoders as enc
from .artifacts import StepError, load_embeddings, materials_file, read_materials, require, write_csv, write_text
from .entry import step_main
from .structures import Material


def resolve_query(cfg, materials, records, embeddings, ids):
    """(label, embedding, library index or None, formula) for the configured query: a
    library id or formula, or a structure file described and encoded like the library."""
    query = cfg.query
    if query.get("structure"):
        from .describe import describer
        from .descriptions import composition_text, describe_structures
        from .structures import read_structure, structure_hash

        path = Path(query.structure)
        if not path.is_file():
            raise StepError(f"query structure not found: {path}")
        structure = read_structure(path)
        encoder = enc.Encoder.load(require(Path(cfg.paths.run) / "encoder.pkl", "embed"))
        text = None
        if encoder.needs == enc.TEXT:
            text = describe_structures([structure], cache_dir=Path(cfg.paths.descriptions),
                                       describer=describer(cfg))[0][0]
        material = Material(path.stem, structure)
        vector = encoder.encode([enc.view(material, encoder.needs, text, composition_text(structure))])[0]
        digest = structure_hash(structure)
        same = [i for i, m in enumerate(materials) if structure_hash(m.structure) == digest]
        return path.stem, vector, (same[0] if same else None), structure.composition.reduced_formula
    wanted = str(query.id)
    for i, record in enumerate(records):
        if record["id"] == wanted:
            return wanted, embeddings[ids.index(record["id"])], i, record["formula"]
    reduced = reduced_formula(wanted)
    for i, record in enumerate(records):
        if reduced is not None and record["formula"] == reduced:
            return record["id"], embeddings[ids.index(record["id"])], i, record["formula"]
    raise StepError(f"query {wanted!r} is neither an id nor a formula in the library (or set query.structure)")


def reduced_formula(text: str) -> str | None:
    from pymatgen.core import Composition

    try:
        return Composition(text).reduced_formula
    except (ValueError, KeyError):
        return None


def run(cfg) -> Path:
    from .embed import colours
    from .plots import embedding_map, markdown_table
    from .similarity import top_k

    materials, records = read_materials(materials_file(cfg))
    out = Path(cfg.paths.run)
    embeddings, ids = load_embeddings(out)
    if ids != [m.id for m in materials]:
        raise StepError("embeddings are stale (library changed): rerun `embed`")
    label, vector, index, formula = resolve_query(cfg, materials, records, embeddings, ids)
    exclude = index if (cfg.recall.exclude_query and index is not None) else None
    found, sims = top_k(vector, embeddings, k=cfg.recall.k, exclude=exclude)
    rows = [
        {"rank": r + 1, "id": ids[i], "formula": records[i]["formula"],
         "crystal_system": records[i]["crystal_system"], "similarity": float(s)}
        for r, (i, s) in enumerate(zip(found.tolist(), sims.tolist()))
    ]
    write_csv(out / "recall.csv", rows)
    write_text(out / "recall.md", f"Recall for {label} ({formula}) with {cfg.encoder.name}\n\n"
               + markdown_table(rows, ["rank", "id", "formula", "crystal_system", "similarity"]))
    write_text(out / "query.json", json.dumps({"id": label, "formula": formula, "index": index,
                                               "embedding": np.asarray(vector, dtype=float).tolist()}))
    highlight = {"recalled": found.tolist()[: min(10, len(found))]}
    if index is not None:
        highlight = {"query": [index], **highlight}
    embedding_map(embeddings, colours(records, cfg.plot.color_by), out / "recall_map.png", method=cfg.plot.method,
                  seed=cfg.seed, highlight=highlight, title=f"{label}: top {len(highlight['recalled'])} recalled")
    best = ", ".join(f"{r['formula']} ({r['similarity']:.3f})" for r in rows[:5])
    print(f"recalled {len(rows)} materials for {label}: {best} -> {out / 'recall.csv'}")
    return out / "recall.csv"


main = step_main(run)

if __name__ == "__main__":
    main()
