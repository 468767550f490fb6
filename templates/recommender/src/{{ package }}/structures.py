"""Materials as (id, structure, properties): read from files, from the Materials Project,
or built from prototypes (see ``prototypes``)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

STRUCTURE_SUFFIXES = (".cif", ".json")


@dataclass
class Material:
    id: str
    structure: object  # pymatgen Structure; untyped so this module imports without pymatgen
    properties: dict[str, float] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def formula(self) -> str:
        return self.structure.composition.reduced_formula


def read_structure(path: Path):
    from pymatgen.core import Structure

    path = Path(path)
    if path.suffix.lower() == ".json":
        with open(path, encoding="utf-8") as fh:
            return Structure.from_dict(json.load(fh))
    import warnings

    with warnings.catch_warnings():
        # CIFs from databases routinely trigger "rounded coordinates" notices
        warnings.simplefilter("ignore")
        return Structure.from_file(str(path))


def read_properties(path: Path, id_column: str = "id") -> dict[str, dict[str, float | str]]:
    """``{id: {column: value}}``; numbers become floats, empty cells NaN (missing label)."""
    rows: dict[str, dict[str, float | str]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or id_column not in reader.fieldnames:
            raise ValueError(f"{path}: no column {id_column!r} (columns: {reader.fieldnames})")
        for row in reader:
            key = row.pop(id_column)
            rows[key] = {name: _number_or_text(value) for name, value in row.items()}
    return rows


def _number_or_text(value: str | None):
    if value is None or value.strip() == "":
        return math.nan
    try:
        return float(value)
    except ValueError:
        return value


def load_directory(
    structures_dir: Path,
    properties_csv: Path | None = None,
    *,
    id_column: str = "id",
    tasks: list[str] | None = None,
    split: str | None = None,
    split_column: str = "split",
    limit: int | None = None,
) -> list[Material]:
    """Every ``*.cif`` / ``*.json`` structure in a folder; the id is the file stem.

    With a properties table, only structures listed in it are kept (optionally one
    ``split``), and ``tasks`` picks the numeric columns used as labels.
    """
    structures_dir = Path(structures_dir)
    if not structures_dir.is_dir():
        raise FileNotFoundError(f"structure folder not found: {structures_dir}")
    files = sorted(p for p in structures_dir.iterdir() if p.suffix.lower() in STRUCTURE_SUFFIXES)
    table = read_properties(Path(properties_csv), id_column) if properties_csv else None
    materials = []
    for path in files:
        row = None
        if table is not None:
            row = table.get(path.stem)
            if row is None:
                continue
            if split is not None and row.get(split_column) != split:
                continue
        properties = {}
        meta = {"source": str(path)}
        if row is not None:
            for name, value in row.items():
                if tasks is not None and name in tasks:
                    properties[name] = float(value) if isinstance(value, float) else math.nan
                elif isinstance(value, str):
                    meta[name] = value
        materials.append(Material(path.stem, read_structure(path), properties, meta))
        if limit is not None and len(materials) >= limit:
            break
    if not materials:
        raise ValueError(f"no structures (.cif/.json) matched in {structures_dir}")
    return materials


def load_materials_project(
    *,
    material_ids: list[str] | None = None,
    chemsys: list[str] | None = None,
    fields: tuple[str, ...] = ("formation_energy_per_atom", "band_gap"),
    api_key: str | None = None,
    limit: int | None = None,
) -> list[Material]:
    """Structures and properties from the Materials Project (needs ``mp-api``, a key and
    the network; the key comes from the argument or ``MP_API_KEY``)."""
    api_key = api_key or os.environ.get("MP_API_KEY")
    if not api_key:
        raise RuntimeError("Materials Project loading needs an API key: set MP_API_KEY")
    try:
        from mp_api.client import MPRester
    except ImportError as exc:  # optional dependency
        raise RuntimeError("Materials Project loading needs `pip install mp-api`") from exc
    query = {}
    if material_ids:
        query["material_ids"] = list(material_ids)
    if chemsys:
        query["chemsys"] = list(chemsys)
    with MPRester(api_key) as mpr:
        docs = mpr.materials.summary.search(
            **query, fields=["material_id", "structure", *fields]
        )
    materials = []
    for doc in docs[:limit]:
        properties = {}
        for name in fields:
            value = getattr(doc, name, None)
            properties[name] = float(value) if value is not None else math.nan
        materials.append(
            Material(str(doc.material_id), doc.structure, properties, {"source": "materials_project"})
        )
    return materials


def structure_hash(structure, decimals: int = 4) -> str:
    """Content hash of a structure: lattice lengths and angles, and the sorted (species,
    fractional coordinates) of its sites. A CIF round trip rotates the cell, reorders the
    sites and rounds the numbers; none of that changes the hash."""
    payload = {
        "lattice": [round(x, decimals) + 0.0 for x in structure.lattice.parameters],
        "sites": sorted(
            [site.species_string, [round(x % 1.0, decimals) % 1.0 + 0.0 for x in site.frac_coords.tolist()]]
            for site in structure
        ),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def crystal_system(structure, symprec: float = 0.01) -> str:
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(structure, symprec=symprec).get_crystal_system()
