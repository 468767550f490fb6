"""rank: the recalled candidates ordered by the ranker's predicted properties:
``<run>/rankers/<ranker>/ranking.csv`` and ``ranking.md``.

    python -m <package>.rank [rank.method=utility 'rank.weights={band_gap_ev: 1.0}']
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .artifacts import StepError, embeddings_digest, load_embeddings, require, write_csv, write_text
from .entry import step_main


def run(cfg) -> Path:
    from .models.ranker_module import load_ranker
    from .plots import markdown_table
    from .ranking import order

    run_dir, out = Path(cfg.paths.run), Path(cfg.paths.ranker)
    embeddings, ids = load_embeddings(run_dir)
    with open(require(run_dir / "recall.csv", "recall"), newline="", encoding="utf-8") as fh:
        recalled = list(csv.DictReader(fh))
    if not recalled:
        raise StepError("the recall list is empty")
    query = json.loads(require(run_dir / "query.json", "recall").read_text(encoding="utf-8"))
    ranker = load_ranker(out / "ranker.ckpt", embeddings_digest(embeddings))
    context = cfg.rank.get("context")
    index = {i: n for n, i in enumerate(ids)}
    pred = ranker.predict_properties(embeddings[[index[r["id"]] for r in recalled]], context)
    query_pred = ranker.predict_properties(np.asarray([query["embedding"]], dtype=np.float32), context)[0]
    mean, scale = ranker.target_mean.numpy().astype(np.float64), ranker.target_std.numpy().astype(np.float64)
    try:
        ranking, score = order(cfg.rank.method, pred, query_pred=query_pred, weights=dict(cfg.rank.weights or {}),
                               tasks=ranker.tasks, mean=mean, scale=scale,
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
    write_csv(out / "ranking.csv", table)
    header = (f"Ranking of {len(recalled)} recalled candidates for {query['id']} by {cfg.rank.method} "
              f"({ranker.hparams.name}); query predicted: "
              + ", ".join(f"{t} {v:.3g}" for t, v in zip(ranker.tasks, query_pred)))
    write_text(out / "ranking.md", header + "\n\n" + markdown_table(table, list(table[0])))
    best = ", ".join(r["formula"] for r in table[:5])
    print(f"ranked {len(recalled)} candidates by {cfg.rank.method}: {best} -> {out / 'ranking.csv'}")
    return out / "ranking.csv"


main = step_main(run)

if __name__ == "__main__":
    main()
