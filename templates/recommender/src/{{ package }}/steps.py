"""The pipeline steps. Each reads what the previous one wrote under the run folders, so
they chain from the command line and can be rerun one at a time.

    describe: library -> <library>/materials.jsonl (structures, properties, texts)
    embed:    materials -> <run>/embeddings.npy, ids.json, encoder.pkl, map.png
    recall:   query -> <run>/recall.csv, recall.md, query.json, recall_map.png
    train:    embeddings + labels -> <run>/ranker.pt, metrics.json
    rank:     recall + ranker -> <run>/ranking.csv, ranking.md
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from . import encoders as enc
from .structures import Material


class StepError(Exception):
    """A problem the user can fix (missing input, bad setting): reported in one line."""


# ---------------------------------------------------------------- files


def _atomic_write(path: Path, write) -> None:
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


def _save_array(path: Path, array) -> None:
    with open(path, "wb") as fh:  # np.save(path) would append ".npy" to the temporary name
        np.save(fh, array)


def _write_text(path: Path, text: str) -> None:
    _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _require(path: Path, step: str) -> Path:
    if not Path(path).exists():
        raise StepError(f"{path} not found: run the `{step}` step first (with the same data/encoder settings)")
    return Path(path)


def library_dir(cfg) -> Path:
    return Path(cfg.paths.library)


def run_dir(cfg) -> Path:
    return Path(cfg.paths.run)


# ---------------------------------------------------------------- data


def load_library(data) -> list[Material]:
    kind = data.kind
    if kind == "prototypes":
        from .prototypes import prototype_library

        return prototype_library(data.get("per_prototype"), list(data.prototypes) if data.get("prototypes") else None)
    if kind == "files":
        from .structures import load_directory

        try:
            return load_directory(
                Path(data.structures_dir), Path(data.properties) if data.get("properties") else None,
                id_column=data.get("id_column", "id"), tasks=list(data.tasks),
                split=data.get("split"), split_column=data.get("split_column", "split"), limit=data.get("limit"),
            )
        except (FileNotFoundError, ValueError) as exc:
            raise StepError(str(exc)) from None
    if kind == "materials_project":
        from .structures import load_materials_project

        try:
            return load_materials_project(
                material_ids=list(data.material_ids) if data.get("material_ids") else None,
                chemsys=list(data.chemsys) if data.get("chemsys") else None,
                fields=tuple(data.tasks), limit=data.get("limit"),
            )
        except RuntimeError as exc:
            raise StepError(str(exc)) from None
    raise StepError(f"unknown data.kind {kind!r} (prototypes, files or materials_project)")


def read_materials(path: Path) -> tuple[list[Material], list[dict]]:
    from pymatgen.core import Structure

    materials, records = [], []
    with open(_require(path, "describe"), encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            properties = {k: (math.nan if v is None else v) for k, v in record["properties"].items()}
            materials.append(Material(record["id"], Structure.from_dict(record["structure"]), properties,
                                      record["meta"]))
            records.append(record)
    return materials, records


# ---------------------------------------------------------------- steps


def _describer(cfg):
    from .describe import RobocrysDescriber

    try:
        return RobocrysDescriber(mineral_matching=cfg.describe.mineral_matching)
    except ValueError as exc:
        raise StepError(str(exc)) from None


def describe(cfg) -> Path:
    from .describe import composition_text, describe_structures
    from .structures import crystal_system

    materials = load_library(cfg.data)
    ids = [m.id for m in materials]
    if len(set(ids)) != len(ids):
        raise StepError("the library has duplicate ids")
    structures = [m.structure for m in materials]
    if cfg.describe.text == "robocrys":
        texts, stats = describe_structures(structures, cache_dir=Path(cfg.paths.cache), describer=_describer(cfg),
                                           n_jobs=cfg.describe.n_jobs)
    elif cfg.describe.text == "none":
        texts, stats = [None] * len(structures), {"hits": 0, "misses": 0}
    else:
        raise StepError(f"describe.text must be robocrys or none, not {cfg.describe.text!r}")

    def write(tmp: Path):
        with open(tmp, "w", encoding="utf-8") as fh:
            for material, text in zip(materials, texts):
                record = {
                    "id": material.id,
                    "formula": material.formula,
                    "crystal_system": crystal_system(material.structure),
                    "properties": {k: (None if isinstance(v, float) and math.isnan(v) else v)
                                   for k, v in material.properties.items()},
                    "meta": material.meta,
                    "description": text,
                    "composition_text": composition_text(material.structure),
                    "structure": material.structure.as_dict(),
                }
                fh.write(json.dumps(record) + "\n")

    out = library_dir(cfg) / "materials.jsonl"
    _atomic_write(out, write)
    print(f"described {len(materials)} materials ({stats['hits']} from cache, {stats['misses']} new) -> {out}")
    return out


def _encoder_inputs(encoder, materials, records):
    return [enc.view(m, encoder.needs, r.get("description"), r.get("composition_text"))
            for m, r in zip(materials, records)]


def embed(cfg) -> Path:
    from .plots import embedding_map

    materials, records = read_materials(library_dir(cfg) / "materials.jsonl")
    try:
        encoder = enc.make_encoder(cfg.encoder.kind, **dict(cfg.encoder.options or {}))
        inputs = _encoder_inputs(encoder, materials, records)
    except ValueError as exc:
        raise StepError(str(exc)) from None
    encoder.fit(inputs)
    embeddings = encoder.encode(inputs)
    out = run_dir(cfg)
    _atomic_write(out / "embeddings.npy", lambda p: _save_array(p, embeddings))
    _write_text(out / "ids.json", json.dumps([m.id for m in materials]))
    _atomic_write(out / "encoder.pkl", encoder.save)
    colour = _colours(records, cfg.plot.color_by)
    used = embedding_map(embeddings, colour, out / "map.png", method=cfg.plot.method, seed=cfg.seed,
                         title=f"{cfg.encoder.name} embeddings of {len(materials)} materials by {cfg.plot.color_by}")
    print(f"embedded {len(materials)} materials with {cfg.encoder.name}: {embeddings.shape[1]} dimensions "
          f"-> {out / 'embeddings.npy'} (map: {used})")
    return out / "embeddings.npy"


def _colours(records, color_by: str):
    if color_by in ("crystal_system", "formula"):
        return [r[color_by] for r in records]
    if any(color_by in r["meta"] for r in records):  # e.g. prototype, or a text column of the CSV
        return [r["meta"].get(color_by, "unknown") for r in records]
    values = [r["properties"].get(color_by) for r in records]
    if all(v is None for v in values):
        raise StepError(f"plot.color_by={color_by!r} is neither crystal_system, a text column nor a property")
    return [math.nan if v is None else float(v) for v in values]


def _load_embeddings(cfg):
    out = run_dir(cfg)
    embeddings = np.load(_require(out / "embeddings.npy", "embed"))
    ids = json.loads((out / "ids.json").read_text(encoding="utf-8"))
    return embeddings, ids


def resolve_query(cfg, materials, records, embeddings, ids):
    """(label, embedding, library index or None, formula) for the configured query: a
    library id or formula, or a structure file described and encoded like the library."""
    query = cfg.query
    if query.get("structure"):
        from .describe import composition_text, describe_structures
        from .structures import read_structure, structure_hash

        path = Path(query.structure)
        if not path.is_file():
            raise StepError(f"query structure not found: {path}")
        structure = read_structure(path)
        encoder = enc.Encoder.load(_require(run_dir(cfg) / "encoder.pkl", "embed"))
        text = None
        if encoder.needs == enc.TEXT:
            text = describe_structures([structure], cache_dir=Path(cfg.paths.cache), describer=_describer(cfg))[0][0]
        material = Material(path.stem, structure)
        vector = encoder.encode([enc.view(material, encoder.needs, text, composition_text(structure))])[0]
        digest = structure_hash(structure)
        same = [i for i, m in enumerate(materials) if structure_hash(m.structure) == digest]
        return path.stem, vector, (same[0] if same else None), structure.composition.reduced_formula
    wanted = str(query.id)
    for i, record in enumerate(records):
        if record["id"] == wanted:
            return wanted, embeddings[ids.index(record["id"])], i, record["formula"]
    reduced = _reduced_formula(wanted)
    for i, record in enumerate(records):
        if reduced is not None and record["formula"] == reduced:
            return record["id"], embeddings[ids.index(record["id"])], i, record["formula"]
    raise StepError(f"query {wanted!r} is neither an id nor a formula in the library (or set query.structure)")


def _reduced_formula(text: str) -> str | None:
    from pymatgen.core import Composition

    try:
        return Composition(text).reduced_formula
    except (ValueError, KeyError):
        return None


def recall(cfg) -> Path:
    from .plots import embedding_map, markdown_table
    from .recall import top_k

    materials, records = read_materials(library_dir(cfg) / "materials.jsonl")
    embeddings, ids = _load_embeddings(cfg)
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
    out = run_dir(cfg)
    _write_csv(out / "recall.csv", rows)
    _write_text(out / "recall.md", f"Recall for {label} ({formula}) with {cfg.encoder.name}\n\n"
                + markdown_table(rows, ["rank", "id", "formula", "crystal_system", "similarity"]))
    _write_text(out / "query.json", json.dumps({"id": label, "formula": formula, "index": index,
                                                "embedding": np.asarray(vector, dtype=float).tolist()}))
    highlight = {"recalled": found.tolist()[: min(10, len(found))]}
    if index is not None:
        highlight = {"query": [index], **highlight}
    embedding_map(embeddings, _colours(records, cfg.plot.color_by), out / "recall_map.png", method=cfg.plot.method,
                  seed=cfg.seed, highlight=highlight, title=f"{label}: top {len(highlight['recalled'])} recalled")
    best = ", ".join(f"{r['formula']} ({r['similarity']:.3f})" for r in rows[:5])
    print(f"recalled {len(rows)} materials for {label}: {best} -> {out / 'recall.csv'}")
    return out / "recall.csv"


def _write_csv(path: Path, rows: list[dict]) -> None:
    def write(tmp: Path):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["rank"])
            writer.writeheader()
            writer.writerows(rows)

    _atomic_write(path, write)


def _labels(materials, tasks) -> np.ndarray:
    return np.array([[float(m.properties.get(t, math.nan)) for t in tasks] for m in materials], dtype=np.float64)


def _context(cfg, materials):
    column = cfg.ranker.context.get("column")
    if not column:
        return None, []
    categories = list(cfg.ranker.context.categories)
    return [m.meta.get(column) for m in materials], categories


def split_indices(materials, test_fraction: float, seed: int, split_column: str = "split"):
    """Use the data's own train/test column when it has one, else a seeded random split."""
    marks = [m.meta.get(split_column) for m in materials]
    if all(mark in ("train", "test") for mark in marks) and "test" in marks and "train" in marks:
        return ([i for i, s in enumerate(marks) if s == "train"], [i for i, s in enumerate(marks) if s == "test"])
    order = np.random.default_rng(seed).permutation(len(materials))
    n_test = int(round(len(materials) * test_fraction))
    return sorted(order[n_test:].tolist()), sorted(order[:n_test].tolist())


def train(cfg) -> Path:
    from .mmoe import TrainConfig, evaluate
    from .mmoe import train as fit

    materials, _ = read_materials(library_dir(cfg) / "materials.jsonl")
    embeddings, ids = _load_embeddings(cfg)
    import torch

    from .cores import default_threads

    # torch's own default, every core, oversubscribes a shared laptop (minutes, not seconds)
    torch.set_num_threads(int(cfg.ranker.get("threads") or default_threads()))
    tasks = list(cfg.data.tasks)
    y = _labels(materials, tasks)
    context, categories = _context(cfg, materials)
    train_rows, test_rows = split_indices(materials, cfg.ranker.test_fraction, cfg.seed,
                                          cfg.data.get("split_column", "split"))
    settings = {k: cfg.ranker[k] for k in ("n_experts", "dropout", "epochs", "batch_size", "lr", "weight_decay")}
    settings.update(expert_hidden=tuple(cfg.ranker.expert_hidden), tower_hidden=tuple(cfg.ranker.tower_hidden),
                    seed=cfg.seed)

    def pick(rows):
        return None if context is None else [context[i] for i in rows]

    architectures = [cfg.ranker.architecture]
    if cfg.ranker.compare_single_task and cfg.ranker.architecture != "single_task":
        architectures.append("single_task")
    metrics, main_model = {}, None
    for architecture in architectures:
        try:
            model = fit(embeddings[train_rows], y[train_rows], tasks,
                        TrainConfig(architecture=architecture, **settings), pick(train_rows), categories)
        except ValueError as exc:
            raise StepError(str(exc)) from None
        metrics[architecture] = {
            "train": evaluate(model, embeddings[train_rows], y[train_rows], pick(train_rows)),
            "test": evaluate(model, embeddings[test_rows], y[test_rows], pick(test_rows)) if test_rows else {},
            "final_loss": model.history[-1],
        }
        if main_model is None:
            main_model = model
    out = run_dir(cfg)
    _atomic_write(out / "ranker.pt", main_model.save)
    _write_text(out / "metrics.json", json.dumps(
        {"tasks": tasks, "n_train": len(train_rows), "n_test": len(test_rows), "models": metrics}, indent=2))
    summary = "; ".join(
        f"{a}: " + ", ".join(f"{t} MAE {m['test'].get(t, m['train'][t])['mae']:.3g}" for t in tasks)
        for a, m in metrics.items()
    )
    print(f"trained on {len(train_rows)} (tested on {len(test_rows)}): {summary} -> {out / 'ranker.pt'}")
    return out / "ranker.pt"


def rank(cfg) -> Path:
    from .mmoe import Ranker
    from .plots import markdown_table
    from .rank import order

    embeddings, ids = _load_embeddings(cfg)
    out = run_dir(cfg)
    with open(_require(out / "recall.csv", "recall"), newline="", encoding="utf-8") as fh:
        recalled = list(csv.DictReader(fh))
    if not recalled:
        raise StepError("the recall list is empty")
    query = json.loads(_require(out / "query.json", "recall").read_text(encoding="utf-8"))
    ranker = Ranker.load(_require(out / "ranker.pt", "train"))
    context = cfg.rank.get("context")
    index = {i: n for n, i in enumerate(ids)}
    rows = [index[r["id"]] for r in recalled]
    pred = ranker.predict(embeddings[rows], context)
    query_pred = ranker.predict(np.asarray([query["embedding"]], dtype=np.float32), context)[0]
    try:
        ranking, score = order(cfg.rank.method, pred, query_pred=query_pred, weights=dict(cfg.rank.weights or {}),
                               tasks=ranker.tasks, mean=ranker.mean, scale=ranker.std,
                               similarity=[float(r["similarity"]) for r in recalled])
    except ValueError as exc:
        raise StepError(str(exc)) from None
    table = []
    for position, n in enumerate(ranking.tolist()[: cfg.rank.top]):
        row = {"rank": position + 1, "id": recalled[n]["id"], "formula": recalled[n]["formula"],
               "recall_rank": int(recalled[n]["rank"]), "similarity": float(recalled[n]["similarity"]),
               "score": float(score[n])}
        row.update({f"pred_{t}": float(pred[n, k]) for k, t in enumerate(ranker.tasks)})
        table.append(row)
    _write_csv(out / "ranking.csv", table)
    header = (f"Ranking of {len(recalled)} recalled candidates for {query['id']} by {cfg.rank.method}; "
              "query predicted: " + ", ".join(f"{t} {v:.3g}" for t, v in zip(ranker.tasks, query_pred)))
    _write_text(out / "ranking.md", header + "\n\n" + markdown_table(table, list(table[0])))
    best = ", ".join(r["formula"] for r in table[:5])
    print(f"ranked {len(recalled)} candidates by {cfg.rank.method}: {best} -> {out / 'ranking.csv'}")
    return out / "ranking.csv"


STEPS = {"describe": describe, "embed": embed, "recall": recall, "train": train, "rank": rank}
