"""describe: the library (``data=``) -> ``<library>/materials.jsonl``: structures,
properties and their texts (Robocrystallographer, cached by structure hash).

    python -m <package>.describe [data=files data.structures_dir=cifs ...]
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from hydra.utils import instantiate

from .artifacts import StepError, atomic_write, materials_file
from .entry import step_main


def describer(cfg):
    from .descriptions import RobocrysDescriber

    try:
        return RobocrysDescriber(mineral_matching=cfg.describe.mineral_matching)
    except ValueError as exc:
        raise StepError(str(exc)) from None


def run(cfg) -> Path:
    from .cores import available_cores
    from .descriptions import composition_text, describe_structures
    from .structures import crystal_system

    materials = instantiate(cfg.data).load()
    ids = [m.id for m in materials]
    if len(set(ids)) != len(ids):
        raise StepError("the library has duplicate ids")
    structures = [m.structure for m in materials]
    if cfg.describe.text == "robocrys":
        # robocrys is single-threaded Python: one worker process per core this process may use
        n_jobs = int(cfg.describe.n_jobs or available_cores())
        texts, stats = describe_structures(structures, cache_dir=Path(cfg.paths.descriptions),
                                           describer=describer(cfg), n_jobs=n_jobs)
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

    out = materials_file(cfg)
    atomic_write(out, write)
    print(f"described {len(materials)} materials ({stats['hits']} from cache, {stats['misses']} new) -> {out}")
    return out


main = step_main(run)

if __name__ == "__main__":
    main()
